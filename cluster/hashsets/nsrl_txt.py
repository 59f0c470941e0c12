"""The legacy NSRL RDS list, NSRLFile.txt: CSV with quoted fields and a header,

    "SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"

Each row's SHA-1 is kept (its strongest digest).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from cluster.hashsets.digests import Row, decode
from cluster.hashsets.errors import HashSetError

HEADER = ["SHA-1", "MD5", "CRC32", "FileName", "FileSize", "ProductCode", "OpSystemCode", "SpecialCode"]


def read(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rows = csv.reader(f)
        try:
            header = next(rows, [])
            if [h.lstrip("\ufeff").strip().lower() for h in header] != [h.lower() for h in HEADER]:
                raise HashSetError(path, f"expected the NSRLFile.txt header {','.join(HEADER)}", 1)
            for row in rows:
                if not row:
                    continue
                if len(row) != len(HEADER):
                    raise HashSetError(path, f"{len(row)} fields, expected {len(HEADER)}", rows.line_num)
                yield rows.line_num, "sha1", decode(row[0], "sha1", path, rows.line_num)
        except csv.Error as exc:
            raise HashSetError(path, f"not valid CSV ({exc})", rows.line_num) from None
