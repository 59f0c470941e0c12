"""A digest list in hashdeep's own format, so that a lab can audit the job's artifacts with
the real `hashdeep` (`hashdeep -r -l -a -k hashdeep.txt sha256`):

    %%%% HASHDEEP-1.0
    %%%% size,md5,sha256,filename
    ## comment lines
    size,md5,sha256,sha256/ab/ab12...

One row per distinct artifact content, named by its key in the artifact store
(`quarry-artifacts`, `sha256/<first two hex digits>/<sha256>`): that is the file a download
of the job's artifacts (by key, as `quarry get` or `mc mirror` fetches them) produces, so an
audit matches every name. Content found several times is listed once, because hashdeep's
audit expects each known file exactly once. Where each content was found is in the DFXML
and CASE outputs.

Telling contents apart keeps one 32-byte digest per distinct artifact in memory.
"""

from __future__ import annotations

from typing import Any, TextIO

from workers.store import artifact_key

MAGIC = "%%%% HASHDEEP-1.0"
COLUMNS = "%%%% size,md5,sha256,filename"


class HashdeepWriter:
    def __init__(self, out: TextIO, comments: list[str]) -> None:
        self.out = out
        self.seen: set[bytes] = set()
        out.write(f"{MAGIC}\n{COLUMNS}\n")
        for line in comments:
            out.write(f"## {line}\n")
        out.write("## \n")

    @property
    def rows(self) -> int:
        return len(self.seen)

    def add(self, row: dict[str, Any]) -> None:
        digest = bytes.fromhex(row["sha256"])
        if digest in self.seen:
            return
        self.seen.add(digest)
        self.out.write(f"{int(row['length'])},{row['md5']},{row['sha256']},{artifact_key(row['sha256'])}\n")
