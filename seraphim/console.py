"""One console for every command: wide tables when piped, errors on one unwrapped line."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

# Wide enough for a bar type and a time range on one line when the output is piped.
console = Console(width=None if sys.stdout.isatty() else 160)


def fail(message: str, exit_code: int = 2) -> NoReturn:
    """Print ``error: message`` (no traceback) and exit."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(exit_code)
