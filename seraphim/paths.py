"""Where Seraphim finds things on disk: the default catalog and the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_catalog_path() -> Path:
    """The catalog used when no ``--catalog`` is given: ``$SERAPHIM_CATALOG`` or ``catalog/``."""
    return Path(os.environ.get("SERAPHIM_CATALOG", REPO_ROOT / "catalog"))


def shared_data_dir() -> Path:
    """Real market data beside the repository: ``$SERAPHIM_SHARED_DATA`` or ``../shared/data``."""
    return Path(os.environ.get("SERAPHIM_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
