"""JobManager: the one Ray actor that runs jobs, recorded step by step in the journal.

Each job runs in a thread of its own (cluster/job_run.py drives its tasks). The manager
keeps nothing that the journal does not: a manager Ray restarts after its process died,
or one created after the whole cluster restarted, takes up every unfinished job, and the
tasks already finished are not run again.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import ray

from cluster.audit import AuditLog
from cluster.config import Settings
from cluster.digest_filter import write_digest_filter
from cluster.job_run import Cancelled, JobRun, TaskSpec
from cluster.jobs import TERMINAL, UNFINISHED, JobRecord, Journal
from cluster.metrics import Metrics
from cluster.node_health import NodeHealth
from cluster.patience import patiently
from cluster.placement import SLIVER
from cluster.planning import plan_segments
from cluster.results import manifest_key, summary_key, write_features, write_manifest, write_yara
from cluster.running_jobs import RunningJobs
from cluster.scheduler import Slots
from cluster.seals import seal
from cluster.summary import job_summary
from workers import carving, files, hashing, perceptual
from workers.artifacts import ArtifactCounts
from workers.carving import SegmentResult
from workers.evidence import ImageRef
from workers.files import FilesResult, Listing
from workers.hashing import HashPlan, ImageDigests
from workers.segments import Segment
from workers.steps import current_node, image_key
from workers.store import JOURNAL, RESULTS, ObjectStore

log = logging.getLogger(__name__)

NAME = "quarry-job-manager"
NAMESPACE = "quarry"
WHEREABOUTS = "manager.json"  # in the journal bucket: where the running manager is
HEAD = "node:__internal_head__"  # the resource Ray gives the head node alone
PROGRESS_EVERY = 1.0  # seconds between progress writes to the journal


def perceptual_summary(mode: str, results: list[perceptual.PerceptualResult]) -> dict[str, Any]:
    """Pictures hashed, those that could not be, what hashed them, and known-image hits."""
    known: dict[str, int] = {}
    for r in results:
        for name, n in r.known.items():
            known[name] = known.get(name, 0) + n
    return {
        "mode": mode,
        "pictures": sum(r.pictures for r in results),
        "warnings": sum(r.warnings for r in results),
        "engines": sorted({r.device for r in results}),
        "known_images": dict(sorted(known.items())),
    }


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def slot_capacity(settings: Settings) -> int:
    """Tasks in flight across all jobs: the setting, or twice the cluster's CPUs (at least 4)."""
    if settings.max_in_flight > 0:
        return settings.max_in_flight
    return max(4, 2 * int(ray.cluster_resources().get("CPU", 2)))


class JobManager:
    """Runs each started job in a thread of its own; state lives in the journal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ObjectStore(settings.store)
        self.journal = Journal(self.store)
        self.audit = AuditLog(self.store)
        self.metrics = Metrics()
        self.metrics_served = self.metrics.serve(settings.metrics_port)
        self.progress = RunningJobs(self.metrics)
        self.health = NodeHealth(self.metrics)
        self.health.start()
        self.slots = Slots(slot_capacity(settings))
        self.metrics.jobs_waiting.set_function(self._waiting)
        self.metrics.slots_used.set_function(lambda: self.slots.used)
        self.metrics.slots_total.set(self.slots.capacity)
        self.lock = threading.Lock()
        self.running: dict[str, threading.Thread] = {}
        self.active: dict[str, tuple[JobRecord, threading.Event]] = {}
        patiently(lambda: self.store.put_json(JOURNAL, WHEREABOUTS, self.whereabouts()))
        threading.Thread(target=self.resume, name="resume", daemon=True).start()

    def whereabouts(self) -> dict[str, object]:
        """The manager's process, node and start (kept in the journal for an operator)."""
        return {
            "pid": os.getpid(),
            "node": current_node(),
            "started": _utc_now(),
            "metrics_port": self.settings.metrics_port if self.metrics_served else None,
        }

    def _waiting(self) -> float:
        with self.lock:
            taken = sum(1 for t in self.running.values() if t.is_alive()) - len(self.active)
        return float(self.slots.waiting_jobs() + max(taken, 0))

    def resume(self) -> list[str]:
        """Take up every unfinished job in the journal; the ids started."""
        started = []
        for job in patiently(self.journal.all):
            if job.state == "cancelling":
                job.state = "cancelled"
                patiently(lambda job=job: self.journal.save(job))
            elif job.state in UNFINISHED and self.start(job.id):
                started.append(job.id)
        return started

    def start(self, job_id: str) -> bool:
        """Run the job unless this manager runs it already; whether a run was started."""
        with self.lock:
            if job_id in self.running and self.running[job_id].is_alive():
                return False
            thread = threading.Thread(target=self._run_guarded, args=(job_id,), name=f"job-{job_id}", daemon=True)
            self.running[job_id] = thread
            thread.start()  # inside the lock: a thread not yet started is not alive, and would be started twice
        return True

    def cancel(self, job_id: str) -> str:
        """Stop a job's tasks and mark it cancelled, keeping what finished; its state now."""
        with self.lock:
            active = self.active.get(job_id)
        if active is not None:
            job, event = active
            job.state = "cancelling"
            patiently(lambda: self.journal.save(job))
            event.set()
            return "cancelling"
        job = self.journal.load(job_id)
        if job.state in UNFINISHED:
            job.state = "cancelled"
            self.journal.save(job)
        return job.state

    def rerun(self, job_id: str, whole: bool) -> str:
        """Run a finished job's failed or cancelled parts again (the same job), or the whole
        job as a new one; the id of the job that runs."""
        job = self.journal.load(job_id)
        if whole:
            job = job.repeated()
        elif job.state not in TERMINAL:
            raise ValueError(f"job {job_id} is {job.state}: cancel it first, or wait for it to end")
        job.state, job.error = "queued", None
        self.journal.save(job)
        self.start(job.id)
        return job.id

    def _run_guarded(self, job_id: str) -> None:
        cancel = threading.Event()
        job: JobRecord | None = None
        final = "failed"
        try:
            job = patiently(lambda: self.journal.load(job_id))
            if job.state not in UNFINISHED:
                return
            with self.lock:
                self.active[job_id] = (job, cancel)
            if job.state == "cancelling":
                raise Cancelled(job_id)
            self.metrics.jobs.labels("running").inc()
            try:
                final = self._run(job, cancel)
            finally:
                self.metrics.jobs.labels("running").dec()
        except Cancelled:
            final = "cancelled"
        except Exception as exc:
            log.error("job %s failed: %s", job_id, traceback.format_exc())
            if job is not None:
                job.error = f"{type(exc).__name__}: {exc}"
        finally:
            with self.lock:
                self.active.pop(job_id, None)
            if job is not None and job.state in UNFINISHED:
                job.state, job.finished = final, _utc_now()
                self.metrics.jobs.labels(final).inc()
                try:
                    patiently(lambda: self.journal.save(job))
                except Exception:
                    log.error("job %s: its end (%s) could not be recorded", job_id, final)
            self.progress.end(job_id)
            # The manager's own writes (journal, manifests, summaries) count on its node.
            self.metrics.count_store(current_node(), self.store.take_stats())

    def _run(self, job: JobRecord, cancel: threading.Event) -> str:
        """Drive the job's tasks, then assemble its results; its final state (done, or
        partial when some segments or file batches failed for good)."""
        started = time.monotonic()
        s = self.settings
        ctx = job.context()
        images = job.image_refs()
        unallocated = job.carve == "unallocated"
        job.state, job.error, job.failed_tasks = "running", None, []
        job.started = job.started or _utc_now()
        job.finished = None
        job.segments_done = job.bytes_done = 0
        job.image_bytes_done = [0] * len(images)
        planned = 0 if unallocated else sum(len(self._segments(img, i, None)) for i, img in enumerate(images))
        job.segments_total = planned
        patiently(lambda: self.journal.save(job))
        self.progress.begin(job)
        store_ref = ray.put(s.store)
        plan = HashPlan.from_dict(job.hashing)
        save_progress, flush_progress = self._progress_saver(job)
        run = JobRun(job, self.store, self.metrics, self.slots, cancel, tick=flush_progress)

        digests: dict[int, ImageDigests] = {}
        listings: dict[int, Listing] = {}
        results: list[SegmentResult] = []
        found_files: list[FilesResult] = []
        pictures: list[perceptual.PerceptualResult] = []
        sidecars: dict[str, str] = {}
        # GPU nodes hash pictures when the cluster has any (the task asks Ray for a GPU).
        on_gpu = job.perceptual == "auto" and ray.cluster_resources().get("GPU", 0) >= 1
        engine = "tensor" if on_gpu or job.perceptual == "tensor" else "rust"

        def pictures_done(r: perceptual.PerceptualResult) -> None:
            pictures.append(r)
            if r.pictures or r.warnings:
                sidecars[r.part_key] = perceptual.sidecar_key(r.part_key)

        def hash_pictures(part_key: str, image_index: int) -> None:
            """The perceptual step over a part just written (its pictures, carved or extracted)."""
            if job.perceptual == "off":
                return
            run.add(
                TaskSpec(
                    perceptual.STEP,
                    perceptual.perceptual_key(part_key),
                    functools.partial(perceptual.hash_part(on_gpu).remote, store_ref, ctx, part_key, engine),
                    pictures_done,
                    self._count_pictures,
                    about={"image": image_index, "path": images[image_index].path, "part": part_key},
                )
            )

        def files_done(f: FilesResult) -> None:
            found_files.append(f)
            hash_pictures(f.part_key, f.image_index)

        def segment_done(r: SegmentResult) -> None:
            results.append(r)
            hash_pictures(r.part_key, r.image_index)
            job.segments_done += 1
            job.bytes_done += r.bytes
            job.image_bytes_done[r.image_index] += r.bytes
            save_progress()

        def on(task: Any, img: ImageRef) -> Callable[..., ray.ObjectRef]:
            """The task's remote call, held to the nodes that see the image's evidence share."""
            share = job.images[images.index(img)].get("share")
            return task.options(resources={share: SLIVER}).remote if share else task.remote

        def segments(img: ImageRef, i: int, ranges: list[tuple[int, int]] | None) -> list[TaskSpec]:
            return [
                TaskSpec(
                    carving.STEP,
                    carving.segment_key(img, seg),
                    functools.partial(on(carving.scan_segment, img), store_ref, ctx, img, seg),
                    segment_done,
                    self._count_segment,
                    about={"image": i, "path": img.path, "offset": seg.start, "length": seg.length},
                )
                for seg in self._segments(img, i, ranges)
            ]

        def listing_done(li: Listing) -> None:
            listings[li.image_index] = li
            img = images[li.image_index]
            for b in range(li.batches):
                run.add(
                    TaskSpec(
                        files.EXTRACT_STEP,
                        files.batch_key(img, li.image_index, li.key, b),
                        functools.partial(on(files.extract_files, img), store_ref, ctx, img, li.image_index, li.key, b),
                        files_done,
                        self._count_files,
                        about={"image": li.image_index, "path": img.path, "batch": b},
                    )
                )
            if unallocated:
                specs = segments(img, li.image_index, li.unallocated)
                job.segments_total += len(specs)
                for spec in specs:
                    run.add(spec)

        def count_work(step: str) -> Callable[[ImageDigests | Listing], None]:
            return lambda r: self.metrics.count_work(r.node, step, getattr(r, "size", 0), r.seconds)

        initial: list[TaskSpec] = []
        for i, img in enumerate(images):
            whole = {"image": i, "path": img.path}
            initial += [
                TaskSpec(
                    hashing.STEP,
                    image_key(img, i),
                    functools.partial(on(hashing.hash_image, img), store_ref, ctx, img, i, plan),
                    lambda d: digests.__setitem__(d.image_index, d),
                    count_work(hashing.STEP),
                    fatal=True,
                    about=whole,
                ),
                TaskSpec(
                    files.LIST_STEP,
                    image_key(img, i),
                    functools.partial(on(files.list_files, img), store_ref, ctx, img, i, unallocated),
                    listing_done,
                    count_work(files.LIST_STEP),
                    fatal=True,
                    about=whole,
                ),
            ]
            if not unallocated:
                initial += segments(img, i, None)
        run.drive(initial)

        job.failed_tasks = run.failed
        results.sort(key=lambda r: (r.image_index, r.index))
        found_files.sort(key=lambda f: (f.image_index, f.batch))
        in_order = range(len(images))
        patiently(
            lambda: self._finish(
                job,
                [digests[i] for i in in_order],
                results,
                [listings[i] for i in in_order],
                found_files,
                time.monotonic() - started,
                sidecars,
                pictures,
            )
        )
        self._record_intake(job)
        return "partial" if job.failed_tasks else "done"

    def _segments(self, img: ImageRef, i: int, ranges: list[tuple[int, int]] | None) -> list[Segment]:
        return plan_segments(img, i, self.settings.segment_size, self.settings.overlap, ranges)

    def _progress_saver(self, job: JobRecord) -> tuple[Callable[[], None], Callable[[], None]]:
        """(note, flush): `note` records progress and writes it to the journal at most once
        every PROGRESS_EVERY seconds; `flush` (called by the job's loop) writes what was noted
        since, so the last progress before a quiet spell is not held back."""
        last = [0.0]
        dirty = [False]

        def flush() -> None:
            if dirty[0] and time.monotonic() - last[0] >= PROGRESS_EVERY:
                last[0], dirty[0] = time.monotonic(), False
                patiently(lambda: self.journal.save(job))

        def note() -> None:
            self.progress.update(job)
            dirty[0] = True
            flush()

        return note, flush

    def _finish(
        self,
        job: JobRecord,
        digests: list[ImageDigests],
        results: list[SegmentResult],
        listings: list[Listing],
        found_files: list[FilesResult],
        seconds: float,
        sidecars: dict[str, str],
        pictures: list[perceptual.PerceptualResult],
    ) -> None:
        """The manifest, its digest filter, the YARA and feature tables and the summary."""
        part_keys = [r.part_key for r in results] + [f.part_key for f in found_files]
        image_digests = [d.digests["sha256"] for d in digests]
        rows = write_manifest(self.store, job.case, job.id, part_keys, image_digests, sidecars)
        write_digest_filter(self.store, job.case, job.id, manifest_key(job.case, job.id))
        yara = write_yara(self.store, job.case, job.id, part_keys, job.rule_sets)
        files_keys: dict[int, list[str]] = {}
        for f in found_files:
            files_keys.setdefault(f.image_index, []).append(f.part_key)
        features = write_features(self.store, job.case, job.id, [r.part_key for r in results], files_keys)
        job.summary = job_summary(job, digests, results, listings, found_files, rows, seconds)
        job.summary["yara"] = {**yara, "raw": job.yara_raw, "timeout": job.yara_timeout}
        job.summary["features"] = features
        job.summary["perceptual"] = perceptual_summary(job.perceptual, pictures)
        job.summary["seals"] = seal(self.store, job.case, job.id)
        self.store.put_json(RESULTS, summary_key(job.case, job.id), job.summary)

    def _record_intake(self, job: JobRecord) -> None:
        """Each image's intake verification, counted and entered in the audit log once."""
        assert job.summary is not None
        for img in job.summary["images"]:
            self.metrics.intake.labels(img["verification"]["result"]).inc()
        for i, img in enumerate(job.summary["images"]):
            result = img["verification"]["result"]
            entry = {
                "actor": NAME,
                "role": "system",
                "action": "intake.verify",
                "outcome": "failed" if result == "mismatch" else "allowed",
                "case": job.case,
                "target": job.id,
                "details": {"image": i, "path": img["path"], "sha256": img["digests"]["sha256"], "result": result},
            }
            patiently(lambda entry=entry: self.audit.append(**entry))

    def _count_found(self, node: str, counts: ArtifactCounts) -> None:
        for set_name, n in counts.known_bad.items():
            self.metrics.known_bad_hits.labels(node, set_name).inc(n)
        if counts.yara_matches:
            self.metrics.yara_matches.labels(node).inc(counts.yara_matches)

    def _count_pictures(self, r: perceptual.PerceptualResult) -> None:
        self.metrics.count_work(r.node, perceptual.STEP, 0, r.seconds)
        if r.pictures:
            self.metrics.pictures_hashed.labels(r.node, r.device).inc(r.pictures)
        for set_name, n in r.known.items():
            self.metrics.known_image_hits.labels(r.node, set_name).inc(n)

    def _count_files(self, f: FilesResult) -> None:
        self.metrics.count_work(f.node, files.EXTRACT_STEP, 0, f.seconds)
        self._count_found(f.node, f)

    def _count_segment(self, r: SegmentResult) -> None:
        m = self.metrics
        m.count_work(r.node, carving.STEP, r.bytes, r.seconds)
        for kind_status, n in r.found.items():
            kind, status = kind_status.split("/")
            m.artifacts.labels(r.node, kind, status).inc(n)
        self._count_found(r.node, r)
        for kind, n in r.features.items():
            m.features.labels(r.node, kind).inc(n)


JobManagerActor = ray.remote(max_concurrency=16, num_cpus=0, max_restarts=-1, max_task_retries=3)(JobManager)


def get_manager(settings: Settings) -> ray.actor.ActorHandle:
    """The cluster's job manager, created on first use and kept alive between submissions;
    Ray starts it again if its process dies, and it takes up the unfinished jobs. It lives on
    the head node (the control plane), so losing a worker node never takes it down."""
    return JobManagerActor.options(
        name=NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True, resources={HEAD: 0.001}
    ).remote(settings)
