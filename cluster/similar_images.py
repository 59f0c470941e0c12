"""Pictures that look like one picture: the picture rows of the cases searched, ranked by the
Hamming distance of their PDQ hash to the reference's (0..256, lowest first; within 31 is
the PDQ authors' "same picture" threshold), for `quarry find --similar-image` and the API.

The reference is a picture Quarry holds (its manifest row's PDQ, or, for a job run without
perceptual hashing, its stored bytes hashed here), a picture file of the examiner's, or a
PDQ hash given as hex. Distances are computed batch by batch over the PDQ column alone and
only the best `limit` places are held (cluster/query_engine.Catalog.nearest), so memory is
bounded whatever the number of pictures; every other filter of `quarry find` narrows the
search as it narrows a query.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import rust_core
from cluster.catalog import row_with
from cluster.query import HEX, Query, QueryError
from cluster.query_engine import Catalog
from workers.perceptual import MAX_PICTURE
from workers.store import ARTIFACTS, ObjectStore, artifact_key

DEFAULT_DISTANCE = rust_core.PDQ_MATCH_DISTANCE
PDQ_BITS = 256


@dataclass(frozen=True)
class Reference:
    """The PDQ hash pictures are compared with, its quality, and where it came from."""

    pdq: str
    quality: int | None  # None: given as a bare hash
    source: str
    sha256: str | None = None

    @property
    def reliable(self) -> bool:
        return self.quality is None or rust_core.pdq_quality_reliable(self.quality)


def parse_pdq(text: str) -> str:
    value = text.strip().lower()
    if len(value) != 64 or not HEX.fullmatch(value):
        raise QueryError(f"pdq {text!r}: give the PDQ hash as 64 hex digits")
    return value


def parse_distance(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"distance {text!r}: give a whole number of bits, 0 to {PDQ_BITS}") from None
    if not 0 <= value <= PDQ_BITS:
        raise QueryError(f"distance {value}: must be between 0 and {PDQ_BITS} bits")
    return value


def _hashed(data: bytes, what: str) -> tuple[str, int]:
    try:
        return rust_core.pdq_hash(data)
    except rust_core.CoreError as exc:
        raise ValueError(f"{what}: not a picture Quarry can hash: {exc}") from None


def reference_of_file(path: Path) -> Reference:
    """The PDQ of a picture file of the examiner's (as the perceptual step would hash it)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the picture: {exc.strerror or exc}") from None
    if size > MAX_PICTURE:
        raise ValueError(f"{path}: {size} bytes, larger than the {MAX_PICTURE} bytes a picture may have")
    pdq, quality = _hashed(path.read_bytes(), str(path))
    return Reference(pdq, quality, f"file {path}")


def reference_of_artifact(store: ObjectStore, sha256: str, cases: tuple[str, ...] | None) -> Reference:
    """The PDQ of a picture found in the cases searched (`cases` None: every case): its
    manifest row's, or its stored bytes' when no job that found it hashed pictures."""
    row, seen = row_with(store, sha256, "pdq", cases)
    if row is not None:
        return Reference(row["pdq"], row["pdq_quality"], f"sha256 {sha256}", sha256)
    if seen.get("perceptual_warning"):
        raise ValueError(f"artifact {sha256} has no PDQ hash: {seen['perceptual_warning']}")
    if seen["length"] > MAX_PICTURE:
        raise ValueError(f"artifact {sha256}: {seen['length']} bytes, larger than a picture may be ({MAX_PICTURE})")
    data = b"".join(store.iter_chunks(ARTIFACTS, artifact_key(sha256)))
    pdq, quality = _hashed(data, f"artifact {sha256} ({seen.get('type') or 'unknown type'})")
    return Reference(pdq, quality, f"sha256 {sha256} (hashed from its stored bytes)", sha256)


def pdq_distances(pdqs: pa.Array | pa.ChunkedArray, reference: str) -> np.ndarray:
    """The Hamming distance of each 64-hex PDQ to the reference's; infinite where a row has
    none (not a picture, or one that could not be hashed)."""
    pdqs = pdqs.combine_chunks() if isinstance(pdqs, pa.ChunkedArray) else pdqs
    out = np.full(len(pdqs), np.inf)
    valid = pdqs.is_valid().to_numpy(zero_copy_only=False)
    if not valid.any():
        return out
    words = np.frombuffer(bytes.fromhex("".join(pdqs.drop_null().to_pylist())), ">u8").reshape(-1, 4)
    ref = np.frombuffer(bytes.fromhex(reference), ">u8")
    out[valid] = np.bitwise_count(words ^ ref).sum(axis=1)
    return out


def similar_pictures(
    catalog: Catalog, query: Query, reference: Reference, distance: int = DEFAULT_DISTANCE, limit: int = 20
) -> list[dict[str, Any]]:
    """The query's picture rows within `distance` bits of the reference, closest first (the
    reference's own copies, at 0, included), each with its `pdq_distance`."""

    def score(batch: pa.RecordBatch) -> np.ndarray:
        d = pdq_distances(batch.column("pdq"), reference.pdq)
        d[d > distance] = np.inf
        return d

    return [{**row, "pdq_distance": int(d)} for d, row in catalog.nearest(query, ["pdq"], score, limit)]
