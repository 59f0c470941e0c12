"""Assemble a job's manifest from its segment parts, one part in memory at a time."""

from __future__ import annotations

import os
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from workers.manifest import MANIFEST_SCHEMA, read_part
from workers.store import RESULTS, ObjectStore


def manifest_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/manifest.parquet"


def summary_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/summary.json"


def write_manifest(store: ObjectStore, case: str, job_id: str, part_keys: list[str], image_sha256: list[str]) -> int:
    """Stream parts (in key order) into one Parquet manifest with the image digest filled in."""
    rows = 0
    fd, path = tempfile.mkstemp(suffix=".parquet", prefix="quarry-manifest-")
    os.close(fd)
    try:
        with pq.ParquetWriter(path, MANIFEST_SCHEMA, compression="zstd") as writer:
            for key in sorted(part_keys):
                part = read_part(store.get_bytes(RESULTS, key))
                if part.num_rows == 0:
                    continue
                digests = [image_sha256[i] for i in part.column("image_index").to_pylist()]
                table = part.add_column(3, MANIFEST_SCHEMA.field("image_sha256"), pa.array(digests, pa.string()))
                writer.write_table(table.sort_by([("image_index", "ascending"), ("offset", "ascending")]))
                rows += part.num_rows
            if rows == 0:
                writer.write_table(MANIFEST_SCHEMA.empty_table())
        store.put_file(RESULTS, manifest_key(case, job_id), path, "application/vnd.apache.parquet")
    finally:
        os.unlink(path)
    return rows
