"""The artifact manifest's schema: one row per carved or extracted file, shared by every step.

Segment tasks write parts without the image digest (it is computed in parallel);
the job manager streams the parts into the job's manifest and fills it in.

A manifest object does not store the case and the job: its key
(`<case>/<job>/manifest.parquet`) names them, and readers add them back. So the same image,
profile and set versions give a byte-identical manifest whatever the job's id.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import rust_core
from workers.steps import JobContext
from workers.store import parquet_bytes

PART_SCHEMA = pa.schema(
    [
        ("case", pa.string()),
        ("job", pa.string()),
        ("image_path", pa.string()),
        ("image_index", pa.int32()),
        ("offset", pa.uint64()),
        ("length", pa.uint64()),
        ("type", pa.string()),
        ("status", pa.string()),  # complete / truncated / damaged (carved); null for filesystem files
        ("subtype", pa.string()),  # finer type the structure tells: docx for a zip, wav for RIFF...
        ("confidence", pa.uint8()),  # carved: 0..100, how much of the file's own structure confirmed it
        ("missing", pa.uint64()),  # carved and truncated: bytes missing, when the structure records the size
        ("parent_offset", pa.uint64()),  # carved inside another carve (a thumbnail in a JPEG): the parent's offset
        ("parent_sha256", pa.string()),
        ("runs", pa.list_(pa.list_(pa.uint64(), 2))),  # carved: [offset, length] byte runs when fragmented
        ("md5", pa.string()),
        ("sha1", pa.string()),
        ("sha256", pa.string()),
        ("ssdeep", pa.string()),  # ssdeep-compatible CTPH digest
        ("tlsh", pa.string()),  # TLSH (T1...), null for content too short or too uniform
        ("step", pa.string()),
        ("step_version", pa.string()),
        ("known_sets", pa.list_(pa.string())),  # names of the hash sets holding the artifact
        ("known", pa.string()),  # "bad" (any known-bad set), "good" (only known-good), or null
        ("yara", pa.list_(pa.string())),  # "set/namespace/rule" of each YARA match (details: yara.parquet), or null
        ("origin", pa.string()),  # carved, or a filesystem file's allocation: allocated / deleted / reallocated
        ("fs_offset", pa.uint64()),  # filesystem files: where their filesystem starts in the image
        ("path", pa.string()),  # filesystem files: escaped full path (NTFS streams as path:stream)
        ("inode", pa.uint64()),
        ("mtime", pa.int64()),  # seconds since the epoch, UTC; null where the filesystem has none
        ("atime", pa.int64()),
        ("ctime", pa.int64()),
        ("crtime", pa.int64()),
    ]
)

# What the perceptual step adds to a picture's row (workers/perceptual.py), joined in when the
# manifest is written; null for everything else.
PERCEPTUAL_FIELDS = [
    pa.field("pdq", pa.string()),  # PDQ, 64 hex digits
    pa.field("pdq_quality", pa.uint8()),  # 0..100; under 50 unreliable
    pa.field("phash", pa.string()),  # 64-bit pHash, 16 hex digits
    pa.field("known_images", pa.list_(pa.string())),  # "set/label@distance" of listed PDQ hashes within reach
    pa.field("perceptual_warning", pa.string()),  # why a picture was not hashed (damaged, too large)
]

# The rows readers see (queries, exports): case and job first.
MANIFEST_SCHEMA = pa.schema([*PART_SCHEMA.insert(3, pa.field("image_sha256", pa.string())), *PERCEPTUAL_FIELDS])
# Implied by a manifest's key, so not stored in it.
IMPLIED_COLUMNS = ("case", "job")
# What manifest.parquet holds (manifests written before this also hold case and job:
# reading them with this schema leaves those out).
STORED_MANIFEST_SCHEMA = pa.schema([f for f in MANIFEST_SCHEMA if f.name not in IMPLIED_COLUMNS])


def without_implied(table: pa.Table) -> pa.Table:
    """A manifest table as it is stored: without the columns its key implies."""
    return table.drop_columns([c for c in IMPLIED_COLUMNS if c in table.column_names])


def artifact_row(
    ctx: JobContext, image_path: str, image_index: int, digests: dict[str, Any], step: str, version: str, **where: Any
) -> dict[str, Any]:
    """One manifest row: the job, the image, the content's digests, where in the image it
    was found (`where`: offset/length/type/status/origin, or a filesystem path...) and the
    step that found it."""
    return {
        "case": ctx.case,
        "job": ctx.job_id,
        "image_path": image_path,
        "image_index": image_index,
        **{name: digests[name] for name in ("md5", "sha1", "sha256", "ssdeep", "tlsh")},
        **where,
        "step": step,
        "step_version": f"{version}+core{rust_core.__version__}",
    }


def part_bytes(rows: list[dict[str, Any]]) -> bytes:
    """A segment's rows as one Parquet file (written once under a deterministic key)."""
    return parquet_bytes(pa.Table.from_pylist(rows, schema=PART_SCHEMA))


def read_part(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data), schema=PART_SCHEMA)
