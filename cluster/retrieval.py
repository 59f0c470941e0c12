"""Handing over one stored artifact, verified on the way: `quarry get` writes it into a file,
the HTTP API onto a socket, and both read it through `VerifiedRead`.

The bytes are hashed as they pass, and the last chunk is held back until the whole content is
known to be the one asked for (its SHA-256, and the MD5 and SHA-1 the manifest recorded). A
reader that stops at the error therefore never has the complete content of an altered object:
the CLI deletes its temporary file, the API cuts the connection short of the promised length.
Memory is one or two chunks, whatever the artifact's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from workers.store import ARTIFACTS, ObjectStore, artifact_key

EXIT_NOT_FOUND = 1
EXIT_INTEGRITY = 3
CHUNK = 1 << 20


class GetFailed(Exception):
    """The artifact cannot be handed over: unknown, missing from the store, or altered;
    `code` is `quarry get`'s exit status for it (docs/retrieval.md)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class VerifiedRead:
    """One artifact's bytes from the store, hashed as they pass (see the module docstring).

    Made only for an object that exists: `size` is its size when it was looked up, the length
    a reader may promise; `digests` are known once every chunk has been read and verified."""

    def __init__(self, store: ObjectStore, sha256: str, recorded: dict[str, Any], chunk: int = CHUNK) -> None:
        self.store, self.sha256, self.recorded, self.chunk = store, sha256, recorded, chunk
        self.key = artifact_key(sha256)
        size = store.size(ARTIFACTS, self.key)
        if size is None:
            raise GetFailed(
                f"MISSING: artifact {sha256} is listed in the manifests but its object "
                f"{ARTIFACTS}/{self.key} is not in the store",
                EXIT_INTEGRITY,
            )
        self.size = size
        self.digests: dict[str, str] | None = None

    def chunks(self) -> Iterator[bytes]:
        """The content in chunks; instead of the last one, GetFailed (DIGEST MISMATCH) when the
        content is not what was recorded. More bytes than `size` fail at once, so a reader
        never passes on more than it promised."""
        hashers = {"sha256": hashlib.sha256(), "md5": hashlib.md5(), "sha1": hashlib.sha1()}
        held: bytes | None = None
        read = 0
        for chunk in self.store.iter_chunks(ARTIFACTS, self.key, self.chunk):
            read += len(chunk)
            if read > self.size:
                raise self._mismatch([f"size {self.size} when looked up, more read"])
            for h in hashers.values():
                h.update(chunk)
            if held is not None:
                yield held
            held = chunk
        got = {name: h.hexdigest() for name, h in hashers.items()}
        wrong = [] if got["sha256"] == self.sha256 else [f"sha256 {self.sha256} asked for, {got['sha256']} read"]
        for name in ("md5", "sha1"):
            if self.recorded.get(name) and self.recorded[name] != got[name]:
                wrong.append(f"{name} {self.recorded[name]} recorded, {got[name]} read")
        if read != self.size:
            wrong.append(f"size {self.size} when looked up, {read} read")
        if wrong:
            raise self._mismatch(wrong)
        self.digests = got
        if held is not None:
            yield held

    def _mismatch(self, wrong: list[str]) -> GetFailed:
        return GetFailed(
            f"DIGEST MISMATCH: stored artifact {self.sha256} is not the content the manifest recorded "
            f"({'; '.join(wrong)})",
            EXIT_INTEGRITY,
        )
