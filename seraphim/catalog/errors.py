"""Errors raised while reading input files into the catalog, or merging them into it."""

from __future__ import annotations

from pathlib import Path


class MalformedInputError(ValueError):
    """A row of an input file that cannot be ingested; names the file and line."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = Path(path)
        self.line = line
        self.problem = problem


class CatalogError(Exception):
    """A catalog operation that cannot proceed; the message names the problem."""


class ConflictError(CatalogError):
    """New rows disagree with stored rows (or with each other) at the same key; nothing written."""
