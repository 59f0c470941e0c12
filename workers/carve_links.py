"""Nested carves: which carve contains which (an EXIF thumbnail in its JPEG, a JPEG
stored in a DOCX, a message in an mbox), found by byte containment.

Carves arrive in offset order (parents before the carves inside them); a stack holds
the carves still open at the current offset, so memory is the nesting depth, not the
number of carves. One implementation serves the cluster's manifest and `quarry carve`.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_OPEN = 4096  # stale overlapping carves are dropped past this many


@dataclass(frozen=True)
class Open:
    offset: int
    end: int
    sha256: str | None


class ParentLinker:
    """Feed carves in ascending offset (ties: longer first); get each one's parent."""

    def __init__(self) -> None:
        self._open: list[Open] = []

    def parent(self, offset: int, length: int, sha256: str | None = None) -> Open | None:
        """The innermost earlier carve that contains [offset, offset + length)."""
        end = offset + length
        stack = self._open
        while stack and stack[-1].end <= offset:
            stack.pop()
        found = next(
            (p for p in reversed(stack) if p.offset <= offset and end <= p.end and (p.offset, p.end) != (offset, end)),
            None,
        )
        if length > 0:
            if len(stack) >= MAX_OPEN:
                self._open = stack = [p for p in stack if p.end > offset]
            stack.append(Open(offset, end, sha256))
        return found


def carve_order(offset: int, length: int) -> tuple[int, int]:
    """Sort key giving the order ParentLinker needs."""
    return (offset, -length)
