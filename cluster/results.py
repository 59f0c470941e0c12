"""Assemble a job's manifest (and its YARA match details) from its segment parts, one part
in memory at a time, and sum what the segments found in the known-file hash sets and the
YARA rule sets for the job's summary."""

from __future__ import annotations

import io
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from workers.artifacts import ArtifactCounts
from workers.carve_links import ParentLinker
from workers.features import FEATURE_SCHEMA, RUNS_SCHEMA, FileMap, Histogram, features_part_key, runs_part_key
from workers.manifest import MANIFEST_SCHEMA, PART_SCHEMA, PERCEPTUAL_FIELDS, STORED_MANIFEST_SCHEMA, without_implied
from workers.store import PARQUET, RESULTS, ObjectStore
from workers.yara_scan import YARA_SCHEMA, yara_part_key


def manifest_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/manifest.parquet"


def summary_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/summary.json"


def yara_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/yara.parquet"


def features_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/features.parquet"


def histograms_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/histograms.parquet"


# Rows per row group of a job's tables: parts (one per segment, often a handful of rows) are
# gathered so that a query reads a few large row groups, not thousands of tiny ones. Every
# group but the last holds exactly this many, so the file depends on its rows alone, not on
# how the work was cut into tasks (segment size, file batches).
ROW_GROUP_ROWS = 16384


def concatenate(
    store: ObjectStore,
    keys: list[str],
    schema: pa.Schema,
    target: str,
    each: Callable[[pa.Table, str], pa.Table | None],
    out_schema: pa.Schema | None = None,
) -> int:
    """Stream the Parquet parts at `keys` (in key order, read as `schema`) into one object at
    `target`, in row groups of ROW_GROUP_ROWS rows, a row group's worth of parts in memory at
    a time. `each` sees every non-empty part (and its key) and returns the table to write (of
    `out_schema`, default `schema`), or None to write the part as read."""
    rows = 0
    out_schema = out_schema or schema
    fd, path = tempfile.mkstemp(suffix=".parquet", prefix="quarry-results-")
    os.close(fd)
    try:
        with pq.ParquetWriter(path, out_schema, compression="zstd") as writer:
            pending: list[pa.Table] = []
            pending_rows = 0
            for key in sorted(keys):
                part = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, key)), schema=schema)
                if part.num_rows == 0:
                    continue
                table = each(part, key)
                pending.append(part if table is None else table)
                rows += part.num_rows
                pending_rows += pending[-1].num_rows
                if pending_rows >= ROW_GROUP_ROWS:
                    # One contiguous table, so that neither the groups nor their pages follow
                    # the parts' boundaries; what is left over starts the next group.
                    gathered = pa.concat_tables(pending).combine_chunks()
                    whole = pending_rows - pending_rows % ROW_GROUP_ROWS
                    writer.write_table(gathered.slice(0, whole), row_group_size=ROW_GROUP_ROWS)
                    pending, pending_rows = [gathered.slice(whole)], pending_rows - whole
            if pending_rows or rows == 0:
                last = pa.concat_tables(pending).combine_chunks() if pending_rows else out_schema.empty_table()
                writer.write_table(last)
        store.put_file(RESULTS, target, path, PARQUET)
    finally:
        os.unlink(path)
    return rows


def write_features(
    store: ObjectStore, case: str, job_id: str, segment_keys: list[str], files_keys: dict[int, list[str]]
) -> dict[str, Any]:
    """The job's feature table from its segments' parts (`segment_keys`: their manifest
    parts), each hit inside an extracted file named by the file (`files_keys`: the files
    parts of each image, beside which their runs lie), and the per-kind histograms of values
    (bulk_extractor's, in Parquet). One image's file runs in memory at a time."""
    histogram = Histogram()
    maps: dict[int, FileMap] = {}

    def place(part: pa.Table, _key: str) -> pa.Table:
        histogram.add_table(part)
        image = part.column("image_index")[0].as_py()
        if image not in maps:
            maps.clear()
            runs = [
                pq.read_table(io.BytesIO(store.get_bytes(RESULTS, runs_part_key(k)))) for k in files_keys.get(image, [])
            ]
            maps[image] = FileMap(pa.concat_tables(runs) if runs else RUNS_SCHEMA.empty_table())
        return maps[image].annotate(part)

    keys = [features_part_key(k) for k in segment_keys]
    rows = concatenate(store, keys, FEATURE_SCHEMA, features_key(case, job_id), place)
    store.put_table(RESULTS, histograms_key(case, job_id), histogram.table())
    return {
        "key": features_key(case, job_id),
        "histograms": histograms_key(case, job_id),
        "hits": rows,
        "by_kind": {k: sum(histogram.counts[k].values()) for k in histogram.kinds()},
        "distinct": {k: len(histogram.counts[k]) for k in histogram.kinds()},
    }


def write_manifest(
    store: ObjectStore,
    case: str,
    job_id: str,
    part_keys: list[str],
    image_sha256: list[str],
    sidecars: dict[str, str] | None = None,
) -> int:
    """Stream parts (in key order: image, then segment) into one Parquet manifest with the
    image digest filled in, each carve linked to the carve containing it, and the perceptual
    hashes of its pictures joined in from each part's sidecar (`sidecars`: part key -> key).
    The case and job are left out (the manifest's key names them), so that a run of the same
    work under another job id writes the same bytes."""
    linkers: dict[int, ParentLinker] = {}
    sidecars = sidecars or {}

    def complete(part: pa.Table, key: str) -> pa.Table:
        part = part.sort_by([("image_index", "ascending"), ("offset", "ascending"), ("length", "descending")])
        part = _link_carves(part, linkers)
        digests = [image_sha256[i] for i in part.column("image_index").to_pylist()]
        part = part.add_column(3, MANIFEST_SCHEMA.field("image_sha256"), pa.array(digests, pa.string()))
        part = _join_perceptual(store, part, sidecars.get(key))
        return without_implied(part)

    return concatenate(store, part_keys, PART_SCHEMA, manifest_key(case, job_id), complete, STORED_MANIFEST_SCHEMA)


def _join_perceptual(store: ObjectStore, part: pa.Table, sidecar: str | None) -> pa.Table:
    """The perceptual columns of the part's pictures, from its sidecar (one part's pictures in
    memory); nulls where there is none."""
    found: dict[str, dict[str, Any]] = {}
    if sidecar is not None and store.size(RESULTS, sidecar) is not None:
        found = {r["sha256"]: r for r in pq.read_table(io.BytesIO(store.get_bytes(RESULTS, sidecar))).to_pylist()}
    shas = part.column("sha256").to_pylist()
    for f in PERCEPTUAL_FIELDS:
        part = part.append_column(f, pa.array([found.get(s, {}).get(f.name) for s in shas], f.type))
    return part


def _link_carves(part: pa.Table, linkers: dict[int, ParentLinker]) -> pa.Table:
    """Fill parent_offset/parent_sha256 of carved rows; one linker per image carries open
    carves from one segment's part to the next."""
    cols = part.select(["image_index", "offset", "length", "sha256", "origin", "runs"]).to_pydict()
    parents_at: list[int | None] = []
    parents_sha: list[str | None] = []
    for image, offset, length, sha, origin, runs in zip(*cols.values(), strict=True):
        # A reassembled file contains only what lies in its first run.
        extent = runs[0][1] if runs else length
        parent = linkers.setdefault(image, ParentLinker()).parent(offset, extent, sha) if origin == "carved" else None
        parents_at.append(parent.offset if parent else None)
        parents_sha.append(parent.sha256 if parent else None)
    for name, values in (("parent_offset", parents_at), ("parent_sha256", parents_sha)):
        i = part.schema.get_field_index(name)
        part = part.set_column(i, part.schema.field(name), pa.array(values, part.schema.field(name).type))
    return part


KNOWN_BAD_LISTED = 1000  # hits listed in the summary; the manifest has them all


def known_files_summary(results: Sequence[ArtifactCounts]) -> dict[str, Any]:
    """The summary's `known_files`: sets and versions used, known-good and known-bad counts,
    and the known-bad hits themselves (the first KNOWN_BAD_LISTED, in image order)."""
    sets: dict[str, dict[str, Any]] = {}
    by_set: Counter[str] = Counter()
    for r in results:
        by_set.update(r.known_bad)
        for name, used in r.hash_sets.items():
            entry = sets.setdefault(name, {"kind": used["kind"], "versions": set()})
            entry["versions"].add(used["version"])
    hits = sorted(
        (h for r in results for h in r.known_bad_hits),
        key=lambda h: (h["image_index"], h["offset"] if h["offset"] is not None else -1, h.get("path") or ""),
    )
    return {
        "sets": {n: {"kind": e["kind"], "versions": sorted(e["versions"])} for n, e in sorted(sets.items())},
        "known_good": sum(r.known_good for r in results),
        "known_bad": len(hits),
        "known_bad_by_set": dict(sorted(by_set.items())),
        "known_bad_hits": hits[:KNOWN_BAD_LISTED],
    }


def write_yara(
    store: ObjectStore, case: str, job_id: str, part_keys: list[str], rule_sets: dict[str, str]
) -> dict[str, Any]:
    """Stream the tasks' YARA details (written beside their parts when the job pinned rule
    sets) into the job's yara.parquet, and count matches and errors per rule set."""
    per_set = {name: {"version": version, "matches": 0, "errors": 0} for name, version in sorted(rule_sets.items())}

    def count(part: pa.Table, _key: str) -> None:
        for name, error in zip(*part.select(["rule_set", "error"]).to_pydict().values(), strict=True):
            per_set[name]["errors" if error is not None else "matches"] += 1

    keys = [yara_part_key(k) for k in part_keys] if rule_sets else []
    concatenate(store, keys, YARA_SCHEMA, yara_key(case, job_id), count)
    return {
        "key": yara_key(case, job_id),
        "rule_sets": per_set,
        "matches": sum(s["matches"] for s in per_set.values()),
        "errors": sum(s["errors"] for s in per_set.values()),
    }
