"""The job's summary: what an operator reads when it ends, kept beside its results."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cluster.intake import verify
from cluster.jobs import JobRecord
from cluster.results import known_files_summary
from workers.carving import SegmentResult
from workers.files import FilesResult, Listing
from workers.hashing import ImageDigests


def job_summary(
    job: JobRecord,
    digests: list[ImageDigests],
    results: list[SegmentResult],
    listings: list[Listing],
    found_files: list[FilesResult],
    rows: int,
    seconds: float,
) -> dict[str, Any]:
    """Digests and intake checks per image, what was found by type and origin, what failed."""
    found: Counter[str] = Counter()
    for r in results:
        found.update(r.found)
    checks = [verify(img.get("expected", []), d.digests) for img, d in zip(job.images, digests, strict=True)]
    by_image: dict[int, Counter[str]] = {li.image_index: Counter() for li in listings}
    warnings_by_image: dict[int, list[str]] = {li.image_index: [] for li in listings}
    for f in found_files:
        by_image[f.image_index].update(f.found)
        warnings_by_image[f.image_index] += f.warnings
    by_type: dict[str, dict[str, int]] = {}
    for kind_status, n in sorted(found.items()):
        kind, status = kind_status.split("/")
        by_type.setdefault(kind, {})[status] = n
    return {
        "job": job.id,
        "case": job.case,
        "images": [
            {
                "path": img["path"],
                "format": img.get("format", "raw"),
                "size": d.size,
                "digests": d.digests,
                "windows": {"key": d.windows_key, "count": d.windows, "plan": d.plan},
                "verification": check,
                "container_check": d.container_check,
                "unreadable": d.unreadable,
                "filesystems": li.filesystems,
                "files": dict(sorted(by_image[li.image_index].items())),
                "file_batches": li.batches,
                "timeline": {"key": li.timeline_key, "rows": li.timeline_rows},
                "warnings": li.warnings + warnings_by_image[li.image_index],
            }
            for img, d, check, li in zip(job.images, digests, checks, listings, strict=True)
        ],
        "integrity": _integrity(checks),
        "damaged_chunks": sum((d.container_check or {}).get("damaged") or 0 for d in digests),
        "unreadable_bytes": sum(u["length"] for d in digests for u in d.unreadable),
        "artifacts": rows,
        "carved": by_type,
        "carve": {"profile": job.carve, "bytes": sum(r.bytes for r in results)},
        "known_files": known_files_summary([*results, *found_files]),
        "stored_new": sum(r.stored_new for r in [*results, *found_files]),
        "stored_existing": sum(r.stored_existing for r in [*results, *found_files]),
        "segments": len(results),
        "failed_tasks": job.failed_tasks,
        "nodes": sorted({r.node for r in results}),
        "seconds": round(seconds, 3),
        "mb_per_s": round(job.bytes_total / 1e6 / seconds, 1) if seconds > 0 else None,
    }


def _integrity(results: list[dict[str, Any]]) -> str:
    """The job's one word on its media: mismatch if any image mismatched, else match if
    any was checked, else absent."""
    words = {r["result"] for r in results}
    return "mismatch" if "mismatch" in words else "match" if "match" in words else "absent"
