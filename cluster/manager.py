"""JobManager: the one Ray actor that runs jobs, recorded step by step in the journal.

It hashes each image and carves its segments as Ray tasks, caps the tasks in flight,
counts metrics from final results, assembles the manifest and writes the summary.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import ray

from cluster.config import Settings
from cluster.intake import verify
from cluster.jobs import JobRecord, Journal
from cluster.metrics import Metrics
from cluster.planning import plan_segments
from cluster.results import known_files_summary, summary_key, write_features, write_manifest, write_yara
from workers import carving, files, hashing
from workers.carving import SegmentResult
from workers.files import FilesResult, Listing
from workers.hashing import HashPlan, ImageDigests
from workers.store import RESULTS, ObjectStore

log = logging.getLogger(__name__)

NAME = "quarry-job-manager"
NAMESPACE = "quarry"


class JobManager:
    """Runs each started job in a thread of its own; state lives in the journal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ObjectStore(settings.store)
        self.journal = Journal(self.store)
        self.metrics = Metrics()
        self.metrics.serve(settings.metrics_port)
        self.running: dict[str, threading.Thread] = {}

    def start(self, job_id: str) -> None:
        if job_id in self.running and self.running[job_id].is_alive():
            return
        thread = threading.Thread(target=self._run_guarded, args=(job_id,), name=f"job-{job_id}", daemon=True)
        self.running[job_id] = thread
        thread.start()

    def _run_guarded(self, job_id: str) -> None:
        job = self.journal.load(job_id)
        try:
            self._run(job)
        except Exception as exc:
            log.error("job %s failed: %s", job_id, traceback.format_exc())
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            self.metrics.jobs.labels("failed").inc()
            self.journal.save(job)

    def _run(self, job: JobRecord) -> None:
        started = time.monotonic()
        s = self.settings
        ctx = job.context()
        images = job.image_refs()
        job.state = "running"
        self.metrics.jobs.labels("running").inc()
        self.journal.save(job)
        store_ref = ray.put(s.store)
        plan = HashPlan.from_dict(job.hashing)
        hash_refs = [hashing.hash_image.remote(store_ref, ctx, img, i, plan) for i, img in enumerate(images)]
        unallocated = job.carve == "unallocated"
        listing_refs = [files.list_files.remote(store_ref, ctx, img, i, unallocated) for i, img in enumerate(images)]
        # Carving only unallocated space needs the filesystems' maps first; otherwise the walk
        # runs beside the carving.
        listings: list[Listing] | None = ray.get(listing_refs) if unallocated else None
        segments = [
            seg
            for i, img in enumerate(images)
            for seg in plan_segments(
                img, i, s.segment_size, s.overlap, listings[i].unallocated if listings is not None else None
            )
        ]
        job.segments_total = len(segments)
        self.journal.save(job)

        results: list[SegmentResult] = []

        def segment_done(result: SegmentResult) -> None:
            results.append(result)
            self._count_segment(result)
            job.segments_done += 1
            job.bytes_done += result.bytes
            self.journal.save(job)

        self._run_capped(
            (
                functools.partial(carving.scan_segment.remote, store_ref, ctx, images[seg.image_index], seg)
                for seg in segments
            ),
            segment_done,
        )

        if listings is None:
            listings = ray.get(listing_refs)
        found_files: list[FilesResult] = []
        for listing in listings:
            self.metrics.tasks_completed.labels(listing.node, files.STEP).inc()
            self.metrics.busy_seconds.labels(listing.node, files.STEP).inc(listing.seconds)

        def batch_done(f: FilesResult) -> None:
            found_files.append(f)
            self.metrics.tasks_completed.labels(f.node, files.STEP).inc()
            self.metrics.busy_seconds.labels(f.node, files.STEP).inc(f.seconds)
            for set_name, n in f.known_bad.items():
                self.metrics.known_bad_hits.labels(f.node, set_name).inc(n)

        self._run_capped(
            (
                functools.partial(
                    files.extract_files.remote, store_ref, ctx, images[li.image_index], li.image_index, li.key, b
                )
                for li in listings
                for b in range(li.batches)
            ),
            batch_done,
        )

        digests: list[ImageDigests] = ray.get(hash_refs)
        for d in digests:
            self.metrics.bytes_processed.labels(d.node, hashing.STEP).inc(d.size)
            self.metrics.tasks_completed.labels(d.node, hashing.STEP).inc()
            self.metrics.busy_seconds.labels(d.node, hashing.STEP).inc(d.seconds)
        part_keys = [r.part_key for r in results] + [f.part_key for f in found_files]
        rows = write_manifest(self.store, job.case, job.id, part_keys, [d.digests["sha256"] for d in digests])
        yara = write_yara(self.store, job.case, job.id, part_keys, job.rule_sets)
        files_keys: dict[int, list[str]] = {}
        for f in found_files:
            files_keys.setdefault(f.image_index, []).append(f.part_key)
        features = write_features(self.store, job.case, job.id, [r.part_key for r in results], files_keys)
        job.summary = self._summary(job, digests, results, listings, found_files, rows, time.monotonic() - started)
        job.summary["yara"] = {**yara, "raw": job.yara_raw, "timeout": job.yara_timeout}
        job.summary["features"] = features
        for img in job.summary["images"]:
            self.metrics.intake.labels(img["verification"]["result"]).inc()
        self.store.put_json(RESULTS, summary_key(job.case, job.id), job.summary)
        job.state = "done"
        self.metrics.jobs.labels("running").dec()
        self.metrics.jobs.labels("done").inc()
        self.journal.save(job)

    def _run_capped(self, calls: Iterator[Callable[[], ray.ObjectRef]], on_result: Callable[[Any], None]) -> None:
        """Start tasks keeping at most max_in_flight pending; hand each result over as it lands."""
        pending: list[ray.ObjectRef] = []
        queue = iter(calls)
        call = next(queue, None)
        while call is not None or pending:
            while call is not None and len(pending) < self.settings.max_in_flight:
                pending.append(call())
                call = next(queue, None)
            ready, pending = ray.wait(pending, num_returns=1)
            on_result(ray.get(ready[0]))

    def _count_segment(self, r: SegmentResult) -> None:
        m = self.metrics
        m.bytes_processed.labels(r.node, carving.STEP).inc(r.bytes)
        m.tasks_completed.labels(r.node, carving.STEP).inc()
        m.busy_seconds.labels(r.node, carving.STEP).inc(r.seconds)
        for kind_status, n in r.found.items():
            kind, status = kind_status.split("/")
            m.artifacts.labels(r.node, kind, status).inc(n)
        for set_name, n in r.known_bad.items():
            m.known_bad_hits.labels(r.node, set_name).inc(n)
        for kind, n in r.features.items():
            m.features.labels(r.node, kind).inc(n)

    @staticmethod
    def _summary(
        job: JobRecord,
        digests: list[ImageDigests],
        results: list[SegmentResult],
        listings: list[Listing],
        found_files: list[FilesResult],
        rows: int,
        seconds: float,
    ) -> dict[str, Any]:
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
            "nodes": sorted({r.node for r in results}),
            "seconds": round(seconds, 3),
            "mb_per_s": round(job.bytes_total / 1e6 / seconds, 1) if seconds > 0 else None,
        }


def _integrity(results: list[dict[str, Any]]) -> str:
    """The job's one word on its media: mismatch if any image mismatched, else match if
    any was checked, else absent."""
    words = {r["result"] for r in results}
    return "mismatch" if "mismatch" in words else "match" if "match" in words else "absent"


JobManagerActor = ray.remote(max_concurrency=16, num_cpus=0)(JobManager)


def get_manager(settings: Settings) -> ray.actor.ActorHandle:
    """The cluster's job manager, created on first use and kept alive between submissions."""
    return JobManagerActor.options(name=NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True).remote(
        settings
    )
