"""Progress for reading large files (shown on a terminal, silent in tests and pipes)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seraphim.console import progress_bar

LARGE_FILE_BYTES = 2_000_000


@contextmanager
def file_progress(path: Path, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(position)`` (bytes read so far); a bar for large files when ``enabled``."""
    size = path.stat().st_size
    with progress_bar(
        f"reading {path.name}", size, in_bytes=True, enabled=enabled and size >= LARGE_FILE_BYTES
    ) as advance:
        done = 0

        def to(position: int) -> None:
            nonlocal done
            advance(position - done)
            done = position

        yield to
