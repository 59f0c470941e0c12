"""Split raw images (name.000, name.001, ... / name.001, name.002, ... / name.aa, name.ab,
...): the parts read as one medium, in name order, each opened read-only.

A gap in the numbering (a part missing between two present ones) is an error naming the
missing part, never a silently shorter image.
"""

from __future__ import annotations

import bisect
import os
import re
import string
from collections.abc import Callable, Collection

import rust_core
from workers.evidence import EvidenceError, MediaReader, RawImage

NUMERIC = re.compile(r"^(?P<base>.+\.)(?P<n>\d{2,4})$")
ALPHA = re.compile(r"^(?P<base>.+\.)(?P<n>[a-z]{2})$")


def _alpha_name(i: int) -> str:
    letters = string.ascii_lowercase
    return letters[i // 26] + letters[i % 26] if i < 26 * 26 else ""


def local_siblings(path: str) -> set[str]:
    """Every name in the folder holding `path` (as full paths)."""
    directory = os.path.dirname(path) or "."
    return {os.path.join(directory, name) for name in os.listdir(directory)}


def split_parts(path: str, siblings: Collection[str] | None = None) -> list[str] | None:
    """All parts of the split image whose first part is `path`, or None when `path` is not
    the first of two or more parts. `siblings` are the names beside it (a folder's files,
    or a MinIO prefix's objects); by default the local folder's."""
    siblings = local_siblings(path) if siblings is None else siblings
    if m := NUMERIC.match(path):
        base, width, first = m["base"], len(m["n"]), int(m["n"])
        if first not in (0, 1):
            return None
        names = [f"{base}{n:0{width}d}" for n in range(first, 10**width)]
        pattern = re.compile(re.escape(os.path.basename(base)) + rf"\d{{{width}}}$")
    elif (m := ALPHA.match(path)) and m["n"] == "aa":
        base = m["base"]
        names = [f"{base}{_alpha_name(i)}" for i in range(26 * 26)]
        pattern = re.compile(re.escape(os.path.basename(base)) + r"[a-z]{2}$")
    else:
        return None
    parts = []
    for name in names:
        if name not in siblings:
            break
        parts.append(name)
    if len(parts) < 2:
        return None
    prefix = path[: len(path) - len(os.path.basename(path))]
    later = sorted(
        s[len(prefix) :]
        for s in siblings
        if s.startswith(prefix) and pattern.match(s[len(prefix) :]) and s not in parts and s > parts[-1]
    )
    if later:
        missing = names[len(parts)]
        raise EvidenceError(f"{path}: split image part {missing} is missing (found {later[0]} after it)")
    return parts


class SplitRawImage(MediaReader):
    """The parts of a split raw image as one medium read by absolute byte ranges."""

    format = "split-raw"

    def __init__(self, parts: list[str], opener: Callable[[str], MediaReader] = RawImage) -> None:
        self.path = parts[0]
        self.parts: list[MediaReader] = []
        try:
            for name in parts:
                self.parts.append(opener(name))
        except EvidenceError:
            self.close()
            raise
        self.starts = []
        offset = 0
        for part in self.parts:
            self.starts.append(offset)
            offset += part.size
        self.size = offset

    def _pieces(self, offset: int, length: int) -> list[tuple[MediaReader, int, int]]:
        """(part, offset in part, length) covering [offset, offset + length) of the medium."""
        out = []
        i = bisect.bisect_right(self.starts, offset) - 1
        while length > 0 and i < len(self.parts):
            part, local = self.parts[i], offset - self.starts[i]
            n = min(length, part.size - local)
            out.append((part, local, n))
            offset, length, i = offset + n, length - n, i + 1
        return out

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (fewer only at the medium's end)."""
        length = max(0, min(length, self.size - offset))
        chunks = [part.read_at(local, n) for part, local, n in self._pieces(offset, length)]
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def feed(self, hasher: rust_core.Hasher, offset: int, length: int) -> int:
        """Hand the range to the hasher part by part; the core reads each file itself."""
        done = 0
        for part, local, n in self._pieces(offset, max(0, min(length, self.size - offset))):
            fed = part.feed(hasher, local, n)
            done += fed
            if fed != n:
                break
        return done

    def shrank(self, offset: int) -> EvidenceError:
        return EvidenceError(f"{self.path}: split image shrank: no bytes at offset {offset} of {self.size}")

    def close(self) -> None:
        for part in self.parts:
            part.close()
