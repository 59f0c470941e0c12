"""Ranking artifacts by similarity to one artifact: ssdeep score (0..100, higher is closer)
and TLSH distance (0 is identical, lower is closer), for `quarry find --similar-to` and the
API.

The query engine streams the digests of the rows the query selects (its cases and every other
filter) batch by batch and keeps only the best `limit` places (Catalog.nearest), so memory
stays bounded whatever the number of artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

import rust_core
from cluster.catalog import row_with
from cluster.query import Query
from cluster.query_engine import Catalog
from workers.artifacts import chunk_digests
from workers.store import ARTIFACTS, ObjectStore, artifact_key

NO_TLSH = 99_999  # ranks after any real TLSH distance


@dataclass(frozen=True)
class Reference:
    sha256: str
    ssdeep: str
    tlsh: str | None


def reference(store: ObjectStore, sha256: str, within: tuple[str, ...] | None = None) -> Reference:
    """The similarity digests of an artifact of the cases `within` (None: any case): from a
    manifest row, else from its stored bytes."""
    sha256 = sha256.lower()
    row, _ = row_with(store, sha256, "ssdeep", within)
    if row is not None:
        return Reference(sha256, row["ssdeep"], row.get("tlsh"))
    d = chunk_digests(store.iter_chunks(ARTIFACTS, artifact_key(sha256)))
    return Reference(sha256, d["ssdeep"], d["tlsh"])


def _measures(ref: Reference, ssdeep: str | None, tlsh: str | None) -> tuple[int, int | None]:
    score = rust_core.ssdeep_compare(ref.ssdeep, ssdeep) if ssdeep else 0
    distance = rust_core.tlsh_diff(ref.tlsh, tlsh) if ref.tlsh and tlsh else None
    return score, distance


def find_similar(
    catalog: Catalog,
    store: ObjectStore,
    query: Query,
    sha256: str,
    min_ssdeep: int = 1,
    max_tlsh: int = 100,
    within: tuple[str, ...] | None = None,
) -> tuple[Reference, list[dict[str, Any]]]:
    """The query.limit closest artifacts of the query to `sha256` (its own copies excluded),
    ranked by ssdeep score, then TLSH distance; a row counts if either measure passes its
    threshold. The reference is looked up in the cases `within` (None: any case)."""
    ref = reference(store, sha256, within)

    def score(batch: pa.RecordBatch) -> np.ndarray:
        out = np.full(batch.num_rows, np.inf)
        digests = zip(*(batch.column(c).to_pylist() for c in ("sha256", "ssdeep", "tlsh")), strict=True)
        for i, (sha, ssdeep, tlsh) in enumerate(digests):
            if sha == ref.sha256:
                continue
            s, d = _measures(ref, ssdeep, tlsh)
            if s >= min_ssdeep or (d is not None and d <= max_tlsh):
                out[i] = (100 - s) * (NO_TLSH + 1) + min(NO_TLSH, d if d is not None else NO_TLSH)
        return out

    rows = []
    for _, row in catalog.nearest(query, ["sha256", "ssdeep", "tlsh"], score, query.limit):
        s, d = _measures(ref, row["ssdeep"], row["tlsh"])
        rows.append({**row, "ssdeep_score": s, "tlsh_distance": d})
    return ref, rows
