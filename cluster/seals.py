"""Seals on a job's result tables: each table's SHA-256 and size, taken when the job wrote
them and kept in its summary, so that `quarry verify` shows a manifest (or a feature or
YARA table) that was overwritten afterwards. With object lock on the results bucket the
first version also stays readable until its retention ends (docs/custody.md)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cluster.results import features_key, histograms_key, manifest_key, yara_key
from workers.store import RESULTS, ObjectStore


def sealed_keys(case: str, job_id: str) -> list[str]:
    return [
        manifest_key(case, job_id),
        features_key(case, job_id),
        histograms_key(case, job_id),
        yara_key(case, job_id),
    ]


def digest_object(store: ObjectStore, key: str) -> dict[str, Any] | None:
    """SHA-256 and size of a results object, streamed; None when there is none."""
    if store.size(RESULTS, key) is None:
        return None
    sha, size = hashlib.sha256(), 0
    for chunk in store.iter_chunks(RESULTS, key):
        sha.update(chunk)
        size += len(chunk)
    return {"key": key, "sha256": sha.hexdigest(), "bytes": size}


def seal(store: ObjectStore, case: str, job_id: str) -> list[dict[str, Any]]:
    """The seals of the job's result tables that exist."""
    return [s for key in sealed_keys(case, job_id) if (s := digest_object(store, key)) is not None]


@dataclass
class SealCheck:
    key: str
    result: str  # unchanged | changed | missing
    recorded: str
    now: str | None = None


def check_seals(store: ObjectStore, seals: list[dict[str, Any]]) -> list[SealCheck]:
    out = []
    for s in seals:
        now = digest_object(store, s["key"])
        if now is None:
            out.append(SealCheck(s["key"], "missing", s["sha256"]))
        else:
            same = now["sha256"] == s["sha256"] and now["bytes"] == s["bytes"]
            out.append(SealCheck(s["key"], "unchanged" if same else "changed", s["sha256"], now["sha256"]))
    return out
