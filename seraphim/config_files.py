"""Reading configuration files: YAML or JSON by suffix, with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


def read_config_file(
    path: str | Path,
    error: type[Exception] = ValueError,
    what: str = "config",
) -> Any:
    """The parsed contents of a YAML or JSON file; ``error`` names a missing or broken file."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    text = path.read_text()
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        kind = path.suffix.lstrip(".").upper() or "YAML"
        raise error(f"{path}: not valid {kind}: {' '.join(str(e).split())}") from None
