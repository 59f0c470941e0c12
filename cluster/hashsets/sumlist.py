"""md5sum / sha1sum / sha256sum lists, and md5deep's plain output (the same shape).

A line is `<hex>  <name>` (text mode), `<hex> *<name>` (binary mode), `\\<hex>  <name>`
(a name with escapes), the BSD/`--tag` form `SHA256 (<name>) = <hex>`, or a bare `<hex>`.
Blank lines and `#` comments are skipped. The algorithm follows from the digest's length,
so one list may mix them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cluster.hashsets.digests import Row, decode, decode_any

TAGS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256"}


def read(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="replace", newline=None) as lines:
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            tag, _, rest = text.partition(" (")
            if tag in TAGS and ") = " in rest:
                yield number, TAGS[tag], decode(rest.rsplit(") = ", 1)[1], TAGS[tag], path, number)
                continue
            if text.startswith("\\"):
                text = text[1:]
            algorithm, raw = decode_any(text.split(None, 1)[0], path, number)
            yield number, algorithm, raw
