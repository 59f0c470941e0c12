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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ray

from cluster.config import Settings
from cluster.digest_filter import write_digest_filter
from cluster.intake import verify
from cluster.jobs import JobRecord, Journal
from cluster.metrics import Metrics
from cluster.node_health import NodeHealth
from cluster.planning import plan_segments
from cluster.results import (
    known_files_summary,
    manifest_key,
    summary_key,
    write_features,
    write_manifest,
    write_yara,
)
from cluster.running_jobs import RunningJobs
from workers import carving, files, hashing
from workers.artifacts import ArtifactCounts
from workers.carving import SegmentResult
from workers.files import FilesResult, Listing
from workers.hashing import HashPlan, ImageDigests
from workers.steps import Reported, attempt_nodes, current_node, image_key
from workers.store import RESULTS, ObjectStore, StoreUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """A started task: its step, its key within the job, and where its result will be."""

    step: str
    key: str
    ref: ray.ObjectRef


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
        self.progress = RunningJobs(self.metrics)
        self.health = NodeHealth(self.metrics)
        self.health.start()
        self.running: dict[str, threading.Thread] = {}

    def start(self, job_id: str) -> None:
        if job_id in self.running and self.running[job_id].is_alive():
            return
        thread = threading.Thread(target=self._run_guarded, args=(job_id,), name=f"job-{job_id}", daemon=True)
        self.running[job_id] = thread
        self.metrics.jobs_waiting.inc()  # until its thread takes it up
        thread.start()

    def _run_guarded(self, job_id: str) -> None:
        self.metrics.jobs_waiting.dec()
        job = self.journal.load(job_id)
        self.metrics.jobs.labels("running").inc()
        try:
            self._run(job)
        except Exception as exc:
            log.error("job %s failed: %s", job_id, traceback.format_exc())
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            self.metrics.jobs.labels("running").dec()
            self.metrics.jobs.labels("failed").inc()
            self.journal.save(job)
        finally:
            self.progress.end(job_id)
            # The manager's own writes (journal, manifests, summaries) count on its node.
            self.metrics.count_store(current_node(), self.store.take_stats())

    def _run(self, job: JobRecord) -> None:
        started = time.monotonic()
        s = self.settings
        ctx = job.context()
        images = job.image_refs()
        job.state = "running"
        self.journal.save(job)
        self.progress.begin(job)
        store_ref = ray.put(s.store)
        plan = HashPlan.from_dict(job.hashing)
        hash_tasks = self._start(
            job,
            hashing.STEP,
            [
                (image_key(img, i), functools.partial(hashing.hash_image.remote, store_ref, ctx, img, i, plan))
                for i, img in enumerate(images)
            ],
        )
        unallocated = job.carve == "unallocated"
        listing_tasks = self._start(
            job,
            files.LIST_STEP,
            [
                (image_key(img, i), functools.partial(files.list_files.remote, store_ref, ctx, img, i, unallocated))
                for i, img in enumerate(images)
            ],
        )
        # Carving only unallocated space needs the filesystems' maps first; otherwise the walk
        # runs beside the carving.
        listings: list[Listing] | None = self._gather(job, listing_tasks) if unallocated else None
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
            self.progress.update(job)

        self._run_capped(
            job,
            carving.STEP,
            [
                (
                    carving.segment_key(images[seg.image_index], seg),
                    functools.partial(carving.scan_segment.remote, store_ref, ctx, images[seg.image_index], seg),
                )
                for seg in segments
            ],
            segment_done,
        )

        if listings is None:
            listings = self._gather(job, listing_tasks)
        found_files: list[FilesResult] = []
        for listing in listings:
            self.metrics.count_work(listing.node, files.LIST_STEP, 0, listing.seconds)

        def batch_done(f: FilesResult) -> None:
            found_files.append(f)
            self.metrics.count_work(f.node, files.EXTRACT_STEP, 0, f.seconds)
            self._count_found(f.node, f)

        self._run_capped(
            job,
            files.EXTRACT_STEP,
            [
                (
                    files.batch_key(images[li.image_index], li.image_index, li.key, b),
                    functools.partial(
                        files.extract_files.remote, store_ref, ctx, images[li.image_index], li.image_index, li.key, b
                    ),
                )
                for li in listings
                for b in range(li.batches)
            ],
            batch_done,
        )

        digests: list[ImageDigests] = self._gather(job, hash_tasks)
        for d in digests:
            self.metrics.count_work(d.node, hashing.STEP, d.size, d.seconds)
        part_keys = [r.part_key for r in results] + [f.part_key for f in found_files]
        rows = write_manifest(self.store, job.case, job.id, part_keys, [d.digests["sha256"] for d in digests])
        write_digest_filter(self.store, job.case, job.id, manifest_key(job.case, job.id))
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

    def _start(self, job: JobRecord, step: str, tasks: list[tuple[str, Callable[[], ray.ObjectRef]]]) -> list[Task]:
        """Start tasks at once (a few per job: one per image), counted as pending until gathered."""
        self.metrics.tasks_pending.labels(step).inc(len(tasks))
        return [Task(step, key, call()) for key, call in tasks]

    def _gather(self, job: JobRecord, tasks: list[Task]) -> list[Any]:
        """The results of started tasks, in order, each counted as it is taken."""
        return [self._finish(job, task) for task in tasks]

    def _run_capped(
        self,
        job: JobRecord,
        step: str,
        tasks: list[tuple[str, Callable[[], ray.ObjectRef]]],
        on_result: Callable[[Any], None],
    ) -> None:
        """Start tasks keeping at most max_in_flight pending; hand each result over as it lands."""
        self.metrics.tasks_pending.labels(step).inc(len(tasks))
        queue = iter(tasks)
        pending: dict[ray.ObjectRef, Task] = {}
        try:
            while True:
                while len(pending) < self.settings.max_in_flight and (item := next(queue, None)) is not None:
                    ref = item[1]()
                    pending[ref] = Task(step, item[0], ref)
                if not pending:
                    return
                ready, _ = ray.wait(list(pending), num_returns=1)
                on_result(self._finish(job, pending.pop(ready[0])))
        finally:  # a failed job leaves nothing pending behind it
            self.metrics.tasks_pending.labels(step).dec(len(pending) + sum(1 for _ in queue))

    def _finish(self, job: JobRecord, task: Task) -> Any:
        """A task's result, its report counted; a task that failed for good is counted on the
        node of its last attempt (from the journal) before its error goes on."""
        self.metrics.tasks_pending.labels(task.step).dec()
        try:
            done: Reported[Any] = ray.get(task.ref)
        except Exception:
            try:
                attempts = attempt_nodes(self.store, job.case, job.id, task.step, task.key)
            except StoreUnavailable:
                attempts = ()
            self.metrics.count_failure(task.step, attempts)
            raise
        self.metrics.count_report(done.report)
        return done.result

    def _count_found(self, node: str, counts: ArtifactCounts) -> None:
        for set_name, n in counts.known_bad.items():
            self.metrics.known_bad_hits.labels(node, set_name).inc(n)
        if counts.yara_matches:
            self.metrics.yara_matches.labels(node).inc(counts.yara_matches)

    def _count_segment(self, r: SegmentResult) -> None:
        m = self.metrics
        m.count_work(r.node, carving.STEP, r.bytes, r.seconds)
        for kind_status, n in r.found.items():
            kind, status = kind_status.split("/")
            m.artifacts.labels(r.node, kind, status).inc(n)
        self._count_found(r.node, r)
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
