"""One console for every command: wide tables when piped, errors on one unwrapped line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn
from rich.progress import DownloadColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeRemainingColumn

# Wide enough for a bar type and a time range on one line when the output is piped.
console = Console(width=None if sys.stdout.isatty() else 160)


def fail(message: str, exit_code: int = 2) -> NoReturn:
    """Print ``error: message`` (no traceback) and exit."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(exit_code)


@contextmanager
def progress_bar(
    description: str,
    total: int,
    *,
    in_bytes: bool = False,
    enabled: bool = True,
) -> Iterator[Callable[[int], None]]:
    """
    Yield ``advance(n)`` for a bar with its time remaining, drawn on a terminal only (pipes,
    logs and tests stay clean) and gone once done.
    """
    if not (enabled and console.is_terminal):
        yield lambda _n: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn() if in_bytes else MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)
            progress.refresh()  # a busy caller (an engine's loop) leaves the refresher no time

        yield advance
