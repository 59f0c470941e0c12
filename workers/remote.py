"""Evidence kept in MinIO (`s3://quarry-evidence/<case>/<name>`, put there by
`quarry upload`): tasks read byte ranges of the object directly, never a whole copy.

`RemoteFile` is a read-only file object over ranged GETs, what the libyal readers take for
containers (E01, qcow, VMDK, VHD); `RemoteRawImage` reads a raw image the same way.
"""

from __future__ import annotations

import os

from workers.evidence import SCHEME, EvidenceError, MediaReader
from workers.store import EVIDENCE, ObjectStore, StoreConfig, StoreUnavailable, shared_store


def split_url(url: str) -> tuple[str, str]:
    """'s3://bucket/key' -> (bucket, key); only the evidence bucket is read as evidence."""
    bucket, _, key = url[len(SCHEME) :].partition("/")
    if bucket != EVIDENCE or not key:
        raise EvidenceError(f"{url}: evidence in MinIO lives at {SCHEME}{EVIDENCE}/<case>/<name>")
    return bucket, key


class RemoteFile:
    """A read-only, seekable file object over one MinIO object."""

    def __init__(self, store: ObjectStore, url: str) -> None:
        self.url = self.path = url
        self.store = store
        self.bucket, self.key = split_url(url)
        try:
            size = store.size(self.bucket, self.key)
        except StoreUnavailable as exc:
            raise EvidenceError(f"{url}: {exc}") from None
        if size is None:
            raise EvidenceError(f"{url}: no such object (upload it with `quarry upload`)")
        self.size, self.position = size, 0

    def read_at(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        try:
            data = self.store.get_range(self.bucket, self.key, offset, length)
        except StoreUnavailable as exc:
            raise EvidenceError(f"{self.url}: read at offset {offset} failed: {exc}") from None
        if len(data) != length:
            raise EvidenceError(f"{self.url}: object shrank: {len(data)} of {length} bytes at offset {offset}")
        return data

    # The file-object protocol the libyal bindings use.
    def read(self, size: int = -1) -> bytes:
        size = self.size - self.position if size is None or size < 0 else size
        data = self.read_at(self.position, size)
        self.position += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def get_size(self) -> int:
        return self.size

    def close(self) -> None:
        pass


class RemoteRawImage(MediaReader):
    """A raw image stored as one MinIO object, read by absolute byte ranges."""

    format = "raw"

    def __init__(self, remote: RemoteFile) -> None:
        self.remote, self.path, self.size = remote, remote.url, remote.size
        if self.size == 0:
            raise EvidenceError(f"{self.path}: image is empty (0 bytes)")

    def read_at(self, offset: int, length: int) -> bytes:
        return self.remote.read_at(offset, length)


def remote_siblings(url: str, config: StoreConfig | None) -> set[str]:
    """The URLs of every object beside `url` (same prefix), e.g. the parts of a split image."""
    bucket, key = split_url(url)
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    try:
        keys = shared_store(config).list_keys(bucket, folder) if config else []
    except StoreUnavailable as exc:
        raise EvidenceError(f"{url}: {exc}") from None
    return {f"{SCHEME}{bucket}/{k}" for k in keys if "/" not in k[len(folder) :]}


def open_remote(url: str, config: StoreConfig | None) -> RemoteFile:
    if config is None:
        raise EvidenceError(f"{url}: reading evidence from MinIO needs the store settings")
    return RemoteFile(shared_store(config), url)
