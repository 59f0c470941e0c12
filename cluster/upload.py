"""`quarry upload`: put an evidence file into MinIO's evidence bucket, then prove the stored
object is byte-identical by hashing it back from MinIO.

The object lives at s3://quarry-evidence/<case>/<file name>; a different file under the
same name is refused (evidence is never replaced), the same file again is a no-op. Each
upload is recorded in the journal bucket with its digests, size and source.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import asdict, dataclass

from workers.artifacts import IDENTITY, chunk_digests
from workers.evidence import SCHEME, EvidenceError, RawImage
from workers.hashing import HashPlan, hash_stream
from workers.images import open_image
from workers.split_raw import SplitRawImage
from workers.store import EVIDENCE, JOURNAL, ObjectStore


class UploadError(ValueError):
    """An upload that could not be completed or verified; names the file and the problem."""


@dataclass(frozen=True)
class Upload:
    source: str
    url: str
    size: int
    md5: str
    sha1: str
    sha256: str
    uploaded_at: str
    host: str
    already_there: bool = False


def file_digests(path: str) -> dict[str, str]:
    """Digests of the file's bytes as stored on disk (the container, not its media)."""
    with RawImage(path) as raw:
        digests, _ = hash_stream(raw, HashPlan(IDENTITY, 0))
    return digests


def object_digests(store: ObjectStore, key: str) -> dict[str, str]:
    d = chunk_digests(store.iter_chunks(EVIDENCE, key, 8 << 20), similarity=False)
    return {k: str(d[k]) for k in IDENTITY}


def record_key(case: str, name: str) -> str:
    return f"uploads/{case}/{name}.json"


def image_files(path: str) -> list[str]:
    """The files an image is made of: its parts (split raw), its segments (E01), or itself."""
    with open_image(path) as img:
        if isinstance(img, SplitRawImage):
            return [part.path for part in img.parts]
        return list(getattr(img, "segments", [path]))


def upload(store: ObjectStore, case: str, path: str) -> list[Upload]:
    """Every file of the image at `path`, each uploaded and verified; the first names the
    image for `quarry submit` (the others sit beside it, as on disk)."""
    if not case or "/" in case:
        raise ValueError(f"case name {case!r} must be non-empty and contain no '/'")
    return [upload_file(store, case, name) for name in image_files(os.path.abspath(path))]


def upload_file(store: ObjectStore, case: str, path: str) -> Upload:
    name = os.path.basename(path)
    key, url = f"{case}/{name}", f"{SCHEME}{EVIDENCE}/{case}/{name}"
    local = file_digests(path)
    size = os.path.getsize(path)
    store.ensure_buckets()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if store.size(EVIDENCE, key) is not None:
        there = object_digests(store, key)
        if there != local:
            raise UploadError(f"{path}: {url} already holds a different file (sha256 {there['sha256']}); not replaced")
        return Upload(path, url, size, **local, uploaded_at=now, host=socket.gethostname(), already_there=True)
    metadata = {f"quarry-{k}": v for k, v in local.items()}
    try:
        store.client.fput_object(EVIDENCE, key, path, metadata=metadata)
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read for upload: {exc.strerror}") from None
    stored = object_digests(store, key)
    if stored != local:
        store.client.remove_object(EVIDENCE, key)
        raise UploadError(
            f"{path}: the copy in MinIO hashes to sha256 {stored['sha256']}, the file to {local['sha256']}; "
            "the copy was removed"
        )
    done = Upload(path, url, size, **local, uploaded_at=now, host=socket.gethostname())
    store.put_json(JOURNAL, record_key(case, name), asdict(done))
    return done
