"""`quarry report JOB`: a finished job's results as the files a lab hands on, written to a
local folder and stored beside the job's results in MinIO (`<case>/<job>/report/`):

- `report.html`: the page an examiner hands over (html.py)
- `dfxml/img####.xml`: DFXML per image (dfxml.py)
- `case.jsonld`: CASE/UCO JSON-LD (case_uco.py)
- `hashdeep.txt`: a hashdeep digest list of the job's artifacts (hashdeep.py)
- `features/img####/<kind>.txt` and `<kind>_histogram.txt`: bulk_extractor's layout (bulk_features.py)

The manifest is read once, a batch at a time, and each row goes to every writer that needs
it; the feature and YARA tables and the histograms are streamed the same way. The page is
written last, so it can give the size and SHA-256 of every other file.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rust_core
from cluster.report.bulk_features import BulkFeatures
from cluster.report.case_uco import CaseWriter
from cluster.report.dfxml import Creator, DfxmlImage
from cluster.report.gather import FileRuns, iter_rows, load_finished_job, step_runs, timeline_range
from cluster.report.hashdeep import HashdeepWriter
from cluster.report.html import Facts, render
from cluster.report.tally import HistogramTally, ManifestTally, YaraTally
from cluster.report.writer import ReportFolder, Written
from cluster.results import features_key, histograms_key, manifest_key, yara_key
from workers.store import RESULTS, ObjectStore

FEATURE_COLUMNS = ["image_index", "offset", "kind", "value", "encoding", "context"]


@dataclass
class Report:
    """What `quarry report` made: the local folder, the MinIO prefix and each file."""

    folder: Path
    bucket: str
    prefix: str
    files: list[Written]


def quarry_version() -> str:
    try:
        return importlib.metadata.version("quarry")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_report(
    store: ObjectStore, job_id: str, out: Path, redact: bool = False, progress: Callable[[str], None] | None = None
) -> Report:
    """Write every output of job `job_id` into `out` (a new or empty folder), then store them
    in MinIO. Raises ValueError for an unknown or unfinished job."""
    say = progress or (lambda _: None)
    job, summary = load_finished_job(store, job_id)
    folder = ReportFolder(out)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    version = quarry_version()
    images = summary.get("images") or job.images
    heading = [f"Case: {job.case}", f"Job: {job.id}", f"Generated: {generated} by Quarry {version}"]
    steps = step_runs(store, job.case, job.id)

    say("manifest")
    tally = ManifestTally()
    creator = Creator("quarry", version, rust_core.__version__, f"quarry report {job.id}", generated)
    dfxml: dict[int, DfxmlImage] = {}
    runs = FileRuns(store, job.case, job.id)
    with folder.text("case.jsonld") as case_out, folder.text("hashdeep.txt") as hashdeep_out:
        case = CaseWriter(case_out, job.id, images, f"Quarry {version}")
        hashdeep = HashdeepWriter(hashdeep_out, [*heading, "one row per distinct artifact, named by its key in "
                                                 "the artifact store (quarry-artifacts)"])  # fmt: skip
        try:
            for row in iter_rows(store, manifest_key(job.case, job.id)):
                i = row["image_index"]
                if i not in dfxml:
                    dfxml[i] = DfxmlImage(folder.open_text(_dfxml_name(i)), images[i], creator)
                where = runs.of(row)
                dfxml[i].add(row, where, job.carve == "unallocated")
                case.add(row, where)
                hashdeep.add(row)
                tally.add(row)
            for i in range(len(images)):  # an image with nothing found still gets its (empty) document
                if i not in dfxml:
                    dfxml[i] = DfxmlImage(folder.open_text(_dfxml_name(i)), images[i], creator)
            case.close(steps)
        finally:
            for doc in dfxml.values():
                doc.close()
                doc.out.close()
    for i, doc in sorted(dfxml.items()):
        folder.done(_dfxml_name(i), f"{doc.fileobjects} file objects")
    folder.done("case.jsonld", f"{case.files} files, {len(images)} images, {case.relationships} ranges, "
                               f"{len(case.actions)} actions")  # fmt: skip
    folder.done("hashdeep.txt", f"{hashdeep.rows} distinct artifacts")

    say("features")
    features = BulkFeatures(folder, images, heading, redact)
    try:
        for row in iter_rows(store, features_key(job.case, job.id), FEATURE_COLUMNS):
            features.add(row)
    finally:
        features.close()
    histograms = HistogramTally()
    for row in iter_rows(store, histograms_key(job.case, job.id)):
        histograms.add(row)
    yara = YaraTally()
    for row in iter_rows(store, yara_key(job.case, job.id)):
        yara.add(row)
    timelines = [timeline_range(store, (img.get("timeline") or {}).get("key")) for img in images]

    say("page")
    facts = Facts(job, summary, generated, version, tally, hashdeep.rows, yara, histograms, steps, timelines,
                  list(folder.files))  # fmt: skip
    with folder.text("report.html") as page:
        page.write(render(facts))
    folder.done("report.html", f"the report page: {tally.rows} artifacts, {yara.matches} YARA matches")
    folder.files.insert(0, folder.files.pop())  # the page first in every listing

    say("upload")
    prefix = folder.upload(store, job.case, job.id)
    return Report(out, RESULTS, prefix, folder.files)


def _dfxml_name(image: int) -> str:
    return f"dfxml/img{image:04d}.xml"
