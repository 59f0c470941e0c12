"""The one error an import raises: it names the file, and the line where there is one.

It is a ValueError, so the CLI prints it as one line and exits 2; nothing is published,
so the set's previous version stays in use.
"""

from __future__ import annotations

from pathlib import Path


class HashSetError(ValueError):
    """An import that cannot go on: `path:line: problem` (or `path: problem`)."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
