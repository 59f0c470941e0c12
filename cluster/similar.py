"""Ranking artifacts by similarity to one artifact: ssdeep score (0..100, higher is closer)
and TLSH distance (0 is identical, lower is closer), over the manifests in MinIO.

Manifests are read batch by batch and only the best `limit` rows are kept (a heap), so
memory stays bounded whatever the number of artifacts.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

import rust_core
from cluster.catalog import find_by_sha256
from workers.artifacts import chunk_digests
from workers.store import ARTIFACTS, RESULTS, ObjectStore, artifact_key, s3_filesystem

COLUMNS = ["image_path", "offset", "length", "type", "status", "sha256", "ssdeep", "tlsh", "known"]


@dataclass(frozen=True)
class Reference:
    sha256: str
    ssdeep: str
    tlsh: str | None


def reference(store: ObjectStore, sha256: str) -> Reference:
    """The similarity digests of an artifact: from a manifest row, else from its stored bytes."""
    sha256 = sha256.lower()
    for row in find_by_sha256(store, sha256):
        if row.get("ssdeep"):
            return Reference(sha256, row["ssdeep"], row.get("tlsh"))
    if not store.exists(ARTIFACTS, artifact_key(sha256)):
        raise ValueError(f"no artifact with sha256 {sha256} in the store")
    d = chunk_digests(store.iter_chunks(ARTIFACTS, artifact_key(sha256)))
    return Reference(sha256, d["ssdeep"], d["tlsh"])


def _rows(store: ObjectStore, case: str | None) -> Iterator[dict[str, Any]]:
    s3 = s3_filesystem(store.config)
    for key in store.list_keys(RESULTS, f"{case}/" if case else "", "/manifest.parquet"):
        job_case, job_id = key.split("/")[:2]  # a manifest's case and job are its key's (docs/schema.md)
        with s3.open_input_file(f"{RESULTS}/{key}") as f:
            manifest = pq.ParquetFile(f)
            if "ssdeep" not in manifest.schema_arrow.names:
                continue  # written before similarity digests were recorded
            for batch in manifest.iter_batches(batch_size=4096, columns=COLUMNS):
                for row in batch.to_pylist():
                    yield {"case": job_case, "job": job_id, **row}


def find_similar(
    store: ObjectStore,
    sha256: str,
    case: str | None = None,
    limit: int = 20,
    min_ssdeep: int = 1,
    max_tlsh: int = 100,
    include_known: bool = False,
) -> tuple[Reference, list[dict[str, Any]]]:
    """The `limit` closest artifacts to `sha256` (itself excluded): ranked by ssdeep score,
    then TLSH distance; a row counts if either measure passes its threshold."""
    ref = reference(store, sha256)
    best: list[tuple[tuple[int, int], int, dict[str, Any]]] = []
    tiebreak = itertools.count()
    for row in _rows(store, case):
        if row["sha256"] == ref.sha256 or (row.get("known") == "good" and not include_known):
            continue
        score = rust_core.ssdeep_compare(ref.ssdeep, row["ssdeep"]) if row["ssdeep"] else 0
        distance = rust_core.tlsh_diff(ref.tlsh, row["tlsh"]) if ref.tlsh and row["tlsh"] else None
        if score < min_ssdeep and (distance is None or distance > max_tlsh):
            continue
        rank = (score, -(distance if distance is not None else 10_000))
        entry = (rank, next(tiebreak), {**row, "ssdeep_score": score, "tlsh_distance": distance})
        if len(best) < limit:
            heapq.heappush(best, entry)
        elif rank > best[0][0]:
            heapq.heapreplace(best, entry)
    return ref, [row for _, _, row in sorted(best, key=lambda e: (e[0], -e[1]), reverse=True)]
