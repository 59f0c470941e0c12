"""CASE/UCO JSON-LD as `quarry report` writes it, from hand-made manifest rows: it conforms to
the CASE ontology's shapes (`case_validate` of case-utils, which bundles the ontology and runs
offline), and read back as RDF (rdflib) it says what the rows said: files with their hashes,
each byte run a Contained_Within relationship to the image with its data range, and one
investigative action per step with its version as the tool."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib

from cluster.report.case_uco import CaseWriter
from cluster.report.gather import Run, StepRun, carved_runs

UCO = "https://ontology.unifiedcyberontology.org/uco/"
CORE, OBS, TYPES, ACTION, TOOL = (
    rdflib.Namespace(f"{UCO}{m}/") for m in ("core", "observable", "types", "action", "tool")
)
INVESTIGATION = rdflib.Namespace("https://ontology.caseontology.org/case/investigation/")
IMAGES = [{"path": "/ev/a.raw", "size": 4096, "format": "raw", "digests": {"md5": "a" * 32, "sha256": "b" * 64}}]
CARVED = {"image_index": 0, "offset": 100, "length": 60, "type": "jpeg", "status": "complete",
          "runs": [[100, 50], [900, 10]], "path": None, "origin": "carved", "md5": "1" * 32, "sha1": "2" * 40,
          "sha256": "3" * 64, "step": "scan_segment", "step_version": "4+core0.1.0"}  # fmt: skip
FILE = {"image_index": 0, "offset": None, "length": 13, "type": "file", "status": "complete", "runs": None,
        "path": '/d/<x>&"y".txt', "origin": "deleted", "md5": "4" * 32, "sha1": "5" * 40, "sha256": "6" * 64,
        "fs_offset": 0, "inode": 12, "mtime": 1_500_000_000, "atime": None, "ctime": None, "crtime": None,
        "step": "scan_files", "step_version": "2+core0.1.0"}  # fmt: skip
STEPS = [StepRun("hash_image", {"img0000"}, 1, {"n1"}, 1_700_000_000_000_000_000, 1_700_000_000_000_000_000),
         StepRun("scan_segment", {"s0"}, 2, {"n1"}, 1_700_000_001_000_000_000, 1_700_000_002_000_000_000),
         StepRun("extract_files", {"b0"}, 1, {"n1"}, 1_700_000_003_000_000_000, 1_700_000_003_000_000_000)]  # fmt: skip


def case_validate() -> str:
    path = Path(sys.executable).parent / "case_validate"
    assert path.exists(), "case_validate (PyPI package case-utils) is needed: pip install case-utils"
    return str(path)


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory) -> Path:
    out = io.StringIO()
    writer = CaseWriter(out, "J1", IMAGES, "Quarry test")
    writer.add(CARVED, carved_runs(CARVED))
    writer.add(FILE, [Run(2048, 13, 0)])
    writer.close(STEPS)
    path = tmp_path_factory.mktemp("case") / "case.jsonld"
    path.write_text(out.getvalue())
    return path


def test_the_graph_conforms_to_case(graph_file) -> None:
    done = subprocess.run([case_validate(), str(graph_file)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Conforms: True" in done.stdout


def test_the_graph_says_what_the_rows_say(graph_file) -> None:
    g = rdflib.Graph().parse(graph_file, format="json-ld")
    files = set(g.subjects(rdflib.RDF.type, OBS.File))
    (image,) = g.subjects(rdflib.RDF.type, OBS.Image)
    assert len(files) == 2
    hashes = {
        (str(g.value(h, TYPES.hashMethod)), str(g.value(h, TYPES.hashValue)))
        for f in files
        for facet in g.objects(f, CORE.hasFacet)
        for h in g.objects(facet, OBS.hash)
    }
    assert hashes >= {("MD5", "1" * 32), ("SHA1", "2" * 40), ("SHA256", "3" * 64), ("SHA256", "6" * 64)}
    ranges = set()
    for rel in g.subjects(rdflib.RDF.type, OBS.ObservableRelationship):
        assert g.value(rel, CORE.target) == image and str(g.value(rel, CORE.kindOfRelationship)) == "Contained_Within"
        for facet in g.objects(rel, CORE.hasFacet):
            ranges.add((g.value(facet, OBS.rangeOffset).toPython(), g.value(facet, OBS.rangeSize).toPython()))
    assert ranges == {(100, 50), (900, 10), (2048, 13)}
    names = {str(o) for o in g.objects(None, OBS.filePath)}
    assert names == {"/ev/a.raw", '/d/<x>&"y".txt'}
    (deleted,) = g.subjects(OBS.allocationStatus, rdflib.Literal("deleted"))
    assert g.value(deleted, OBS.modifiedTime).toPython().isoformat() == "2017-07-14T02:40:00+00:00"


def test_one_action_per_step_with_its_version_as_the_tool(graph_file) -> None:
    g = rdflib.Graph().parse(graph_file, format="json-ld")
    actions = {}
    for a in g.subjects(rdflib.RDF.type, INVESTIGATION.InvestigativeAction):
        tool = g.value(a, ACTION.instrument)
        version = g.value(tool, TOOL.version)
        actions[str(g.value(a, CORE.name))] = (
            None if version is None else str(version),
            len(set(g.objects(a, ACTION.result))),
        )
    assert actions == {"scan_segment": ("4+core0.1.0", 1), "scan_files": ("2+core0.1.0", 1), "hash_image": (None, 0)}
    (segment,) = g.subjects(CORE.name, rdflib.Literal("scan_segment"))
    assert g.value(segment, ACTION.startTime).toPython().isoformat() == "2023-11-14T22:13:21+00:00"
