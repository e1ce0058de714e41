"""Progress bars for long reads (shown on a terminal, silent in tests and pipes)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn
from rich.progress import DownloadColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeRemainingColumn

LARGE_FILE_BYTES = 2_000_000


@contextmanager
def file_progress(path: Path, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(bytes_read)``; draws a bar for large files when ``enabled``."""
    size = path.stat().st_size
    if not enabled or size < LARGE_FILE_BYTES:
        yield lambda _position: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task(f"reading {path.name}", total=size)
        yield lambda position: progress.update(task, completed=position)
