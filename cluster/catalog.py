"""Queries over the Parquet manifests in MinIO (no second database to drift from them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq

from cluster.query import KNOWN, Query, parse_digest
from workers.store import RESULTS, ObjectStore, s3_filesystem


class ArtifactNotFound(ValueError):
    """No manifest of the cases searched holds content with this SHA-256."""


def is_known_good(row: dict[str, Any]) -> bool:
    """Whether a manifest row matched only known-good hash sets (hidden from default queries;
    manifests written before hash sets have no `known` column and show everything)."""
    return row.get("known") == "good"


def find_by_sha256(
    store: ObjectStore, sha256: str, case: str | None = None, within: tuple[str, ...] | None = None
) -> Iterator[dict[str, Any]]:
    """Every job, image and offset that holds content with this SHA-256 (known-good too), in
    one case, in the cases `within` (a user's), or in all, through the digest filters."""
    from cluster.query_engine import catalog_for

    cases = (case,) if case else within
    if cases == ():
        return
    query = Query(cases=cases, digest=parse_digest(sha256), known=KNOWN, limit=0)
    yield from catalog_for(store.config).rows(query)


def row_with(
    store: ObjectStore, sha256: str, column: str, within: tuple[str, ...] | None
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A manifest row of this content in the cases `within` (None: every case) whose
    `column` is set, else None, and a row of it in any case (to say what it is); no row at
    all is ArtifactNotFound."""
    seen: dict[str, Any] | None = None
    for row in find_by_sha256(store, sha256, within=within):
        if row.get(column):
            return row, row
        seen = seen or row
    if seen is None:
        raise ArtifactNotFound(f"no artifact with sha256 {sha256} in the cases searched")
    return None, seen


def iter_manifest(store: ObjectStore, case: str, job_id: str, columns: list[str]) -> Iterator[dict[str, Any]]:
    """A job's manifest rows (only `columns`), read batch by batch. The manifest does not
    store its case and job (its key names them): asked for, they are the arguments."""
    implied = {"case": case, "job": job_id}
    stored = [c for c in columns if c not in implied]
    s3 = s3_filesystem(store.config)
    with s3.open_input_file(f"{RESULTS}/{case}/{job_id}/manifest.parquet") as f:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=4096, columns=stored):
            if len(stored) == len(columns):
                yield from batch.to_pylist()
            else:
                yield from ({c: implied[c] if c in implied else row[c] for c in columns} for row in batch.to_pylist())
