"""What the CLI (and later the HTTP API) does: submit, watch, list, find.

Submission checks every image before anything is written, so a bad input creates no
job; the job record is durable in MinIO before any work starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ray

from cluster.config import Settings
from cluster.intake import expectations
from cluster.jobs import PERCEPTUAL_MODES, TERMINAL, JobRecord, Journal
from cluster.manager import NAMESPACE, get_manager
from cluster.placement import check_placeable, resource_for
from cluster.profiles import CARVE_SCOPES
from workers.faults import parse_fault
from workers.hashing import HashPlan
from workers.images import check_images
from workers.known_files import pin_current
from workers.known_images import pin_current as pin_pdq_sets
from workers.store import ObjectStore
from workers.yara_scan import pin_current as pin_rule_sets


def connect_ray(settings: Settings) -> None:
    """Join the configured Ray cluster (or start a local one when none is configured)."""
    if not ray.is_initialized():
        ray.init(
            address=settings.ray_address,
            namespace=NAMESPACE,
            log_to_driver=False,
            configure_logging=False,
        )


def prepare(
    settings: Settings,
    case: str,
    paths: list[str],
    plan: HashPlan | None = None,
    expect: list[str] | None = None,
    expect_lists: list[str] | None = None,
    carve: str = "all",
    yara_raw: bool = False,
    yara_timeout: int = JobRecord.yara_timeout,
    priority: int = 0,
    task_timeout: int = JobRecord.task_timeout,
    profile: str | None = None,
    faults: list[str] | None = None,
    expect_each: list[list[str]] | None = None,
    perceptual: str = "auto",
) -> JobRecord:
    """Check the images and the expected digests (`expect` for the one image, `expect_lists`
    naming images, `expect_each` per image) and build the job record, with the hash set and
    YARA rule set versions in use now. Writes no job: a bad input leaves no trace."""
    if carve not in CARVE_SCOPES:
        raise ValueError(f"carve profile {carve!r}: use one of {', '.join(CARVE_SCOPES)}")
    if yara_timeout < 1:
        raise ValueError(f"YARA timeout {yara_timeout}: give at least 1 second")
    if task_timeout < 1:
        raise ValueError(f"task timeout {task_timeout}: give at least 1 second")
    for fault in faults or []:
        parse_fault(fault)
    if perceptual not in PERCEPTUAL_MODES:
        raise ValueError(f"perceptual hashing {perceptual!r}: use one of {', '.join(PERCEPTUAL_MODES)}")
    if not case or "/" in case:
        raise ValueError(f"case name {case!r} must be non-empty and contain no '/'")
    checked = check_images(paths, settings.store)
    images = [ref for ref, _ in checked]
    expected = expectations(checked, expect or [], expect_lists or [], expect_each)
    plan = with_expected_digests(plan or HashPlan(), expected)
    store = ObjectStore(settings.store)
    store.ensure_buckets()
    job = JobRecord.new(
        case,
        images,
        plan.as_dict(),
        expected,
        dict(pin_current(store)),
        carve,
        rule_sets=dict(pin_rule_sets(store)),
        yara_raw=yara_raw,
        yara_timeout=yara_timeout,
        priority=priority,
        task_timeout=task_timeout,
        profile=profile,
        faults=faults,
        perceptual=perceptual,
    )
    job.pdq_sets = dict(pin_pdq_sets(store))
    for img in job.images:  # the evidence share its tasks need, if any (cluster/placement.py)
        img["share"] = resource_for(img["path"], dict(settings.evidence_roots))
    return job


def launch(settings: Settings, job: JobRecord) -> None:
    """Record the job in the journal (durable before any work starts) and hand it to the
    job manager; an image on an evidence share no node mounts is refused first."""
    connect_ray(settings)
    check_placeable(job)
    Journal(ObjectStore(settings.store)).save(job)
    ray.get(get_manager(settings).start.remote(job.id))


def submit(settings: Settings, case: str, paths: list[str], plan: HashPlan | None = None, **options: Any) -> JobRecord:
    """`prepare` then `launch` one job; returns its record."""
    job = prepare(settings, case, paths, plan, **options)
    launch(settings, job)
    return job


def with_expected_digests(plan: HashPlan, expected: list[list[dict[str, str]]]) -> HashPlan:
    """The plan widened so that SHA-256 (the image's identity) and every digest some
    expectation names are computed."""
    wanted = ["sha256"] + [e["algorithm"] for per_image in expected for e in per_image]
    extra = tuple(a for a in dict.fromkeys(wanted) if a not in plan.algorithms)
    return replace(plan, algorithms=plan.algorithms + extra) if extra else plan


def wait(
    settings: Settings, job_id: str, on_progress: Callable[[JobRecord], None] | None = None, poll: float = 0.5
) -> JobRecord:
    """Follow a job in the journal until it is done or failed."""
    journal = Journal(ObjectStore(settings.store))
    while True:
        job = journal.load(job_id)
        if on_progress:
            on_progress(job)
        if job.state in TERMINAL:
            return job
        time.sleep(poll)


def cancel(settings: Settings, job_id: str) -> str:
    """Ask the manager to stop a job, keeping what it finished; the job's state now."""
    Journal(ObjectStore(settings.store)).find(job_id)  # an unknown job is an error before Ray is reached
    connect_ray(settings)
    return str(ray.get(get_manager(settings).cancel.remote(job_id)))


def rerun(settings: Settings, job_id: str, whole: bool = False) -> str:
    """Run a job's failed or cancelled parts again (or, `whole`, all of it as a new job)."""
    Journal(ObjectStore(settings.store)).find(job_id)
    connect_ray(settings)
    return str(ray.get(get_manager(settings).rerun.remote(job_id, whole)))


def resume(settings: Settings) -> list[str]:
    """Make sure the manager runs, and have it take up every unfinished job; their ids."""
    connect_ray(settings)
    return list(ray.get(get_manager(settings).resume.remote()))


def list_jobs(settings: Settings) -> list[JobRecord]:
    return Journal(ObjectStore(settings.store)).all()
