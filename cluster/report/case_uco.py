"""CASE/UCO JSON-LD: the job's images and artifacts as observables, where each artifact lies
in its image, and the steps that found them as investigative actions. Written as one JSON
object per node into the document's `@graph` array, a manifest row at a time.

- Each image is a `uco-observable:Image` with a FileFacet (its path and size) and a
  ContentDataFacet (its digests).
- Each manifest row is a `uco-observable:File` (an ObservableObject) with a ContentDataFacet
  (size, MD5, SHA-1, SHA-256) and, for a filesystem file, a FileFacet (name, path, size,
  allocation, times). A row, not a content: the same content found twice is two observables,
  each with its own place.
- Where it lies: a `Contained_Within` ObservableRelationship from the file to its image per
  byte run, with a DataRangeFacet (`rangeOffset`, `rangeSize`, offset type "image").
- Each step is an `InvestigativeAction` whose instrument is a `uco-tool:Tool` named after
  the step with its version, whose objects are the images and whose results are the files
  it produced. The result lists grow with the artifacts, so they are spooled to a temporary
  file per action while the rows stream by, and copied into the action at the end.

Identifiers are UUIDv5 under a namespace of Quarry's, from the job and what is identified, so
the same job always gives the same graph.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import IO, Any, TextIO

from cluster.report.gather import Run, StepRun, forensic_path, iso_utc, task_step

QUARRY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://quarry.invalid/report")
CONTEXT = {
    "kb": "urn:quarry:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
HASH_NAMES = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256", "sha512": "SHA512"}
FILE_TIMES = {
    "mtime": "uco-observable:modifiedTime",
    "atime": "uco-observable:accessedTime",
    "ctime": "uco-observable:metadataChangeTime",
    "crtime": "uco-observable:observableCreatedTime",
}


def node_id(kind: str, job_id: str, *what: object) -> str:
    """A stable IRI for a node: `kb:<Kind>-<uuid5 of the job and what it is>`."""
    return f"kb:{kind}-{uuid.uuid5(QUARRY_NAMESPACE, '|'.join(map(str, (job_id, *what))))}"


def part_id(kind: str, owner: str, *what: object) -> str:
    """A stable IRI for a node that belongs to another (a facet, a hash, a relationship)."""
    return node_id(kind, owner, *what)


def _typed(datatype: str, value: object) -> dict[str, Any]:
    return {"@type": datatype, "@value": value}


def _hashes(owner: str, digests: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "@id": part_id("Hash", owner, name),
            "@type": "uco-types:Hash",
            "uco-types:hashMethod": HASH_NAMES[name],
            "uco-types:hashValue": _typed("xsd:hexBinary", value),
        }
        for name, value in sorted(digests.items())
        if name in HASH_NAMES and value
    ]


def _content_facet(owner: str, size: int, digests: dict[str, str]) -> dict[str, Any]:
    facet_id = part_id("ContentDataFacet", owner)
    return {
        "@id": facet_id,
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:sizeInBytes": int(size),
        "uco-observable:hash": _hashes(facet_id, digests),
    }


@dataclass
class Action:
    """One step's investigative action; its results spooled to a temporary file."""

    id: str
    step: str
    version: str | None
    results: IO[str] = field(default_factory=lambda: tempfile.TemporaryFile("w+", encoding="utf-8"))
    count: int = 0

    def add(self, node: str) -> None:
        self.results.write(("," if self.count else "") + json.dumps({"@id": node}))
        self.count += 1


class CaseWriter:
    """The CASE/UCO graph of one job, written as the manifest streams past."""

    def __init__(self, out: TextIO, job_id: str, images: list[dict[str, Any]], generator: str) -> None:
        self.out, self.job_id, self.nodes = out, job_id, 0
        self.files = self.relationships = 0
        self.actions: dict[tuple[str, str | None], Action] = {}
        out.write('{\n"@context": ' + json.dumps(CONTEXT) + ',\n"@graph": [\n')
        self.images = [node_id("Image", job_id, i) for i in range(len(images))]
        for i, (img, iri) in enumerate(zip(images, self.images, strict=True)):
            facet = {
                "@id": part_id("FileFacet", iri),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": img["path"].rsplit("/", 1)[-1],
                "uco-observable:filePath": img["path"],
                "uco-observable:sizeInBytes": int(img.get("size") or 0),
            }
            self._node(
                {
                    "@id": iri,
                    "@type": "uco-observable:Image",
                    "uco-core:name": f"image {i} of job {job_id}",
                    "uco-core:description": f"evidence image ({img.get('format', 'raw')}), read by {generator}",
                    "uco-core:hasFacet": [facet, _content_facet(iri, img.get("size") or 0, img.get("digests", {}))],
                }
            )

    def _node(self, node: dict[str, Any]) -> None:
        self.out.write(("," if self.nodes else "") + json.dumps(node, ensure_ascii=False) + "\n")
        self.nodes += 1

    def add(self, row: dict[str, Any], runs: list[Run]) -> None:
        """The observable of one manifest row, its place in its image, and its producer."""
        where = forensic_path(row)
        iri = node_id("File", self.job_id, row["image_index"], where, row["sha256"])
        facets: list[dict[str, Any]] = []
        if row.get("path") is not None:
            file_facet: dict[str, Any] = {
                "@id": part_id("FileFacet", iri),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": row["path"].rsplit("/", 1)[-1],
                "uco-observable:filePath": row["path"],
                "uco-observable:sizeInBytes": int(row["length"]),
                "uco-observable:allocationStatus": row.get("origin") or "unknown",
            }
            for column, prop in FILE_TIMES.items():
                when = iso_utc(row.get(column))
                if when is not None:
                    file_facet[prop] = _typed("xsd:dateTime", when)
            facets.append(file_facet)
        facets.append(_content_facet(iri, row["length"], {a: row.get(a) for a in ("md5", "sha1", "sha256")}))
        status = f", {row['status']}" if row.get("status") else ""
        self._node(
            {
                "@id": iri,
                "@type": "uco-observable:File",
                "uco-core:name": where,
                "uco-core:description": f"{row['type']}{status}, found by {row['step']} {row['step_version']}",
                "uco-core:hasFacet": facets,
            }
        )
        self.files += 1
        image = self.images[row["image_index"]]
        for n, run in enumerate(runs or [None]):
            relationship: dict[str, Any] = {
                "@id": part_id("ObservableRelationship", iri, n),
                "@type": "uco-observable:ObservableRelationship",
                "uco-core:source": {"@id": iri},
                "uco-core:target": {"@id": image},
                "uco-core:kindOfRelationship": "Contained_Within",
                "uco-core:isDirectional": True,
            }
            if run is not None:
                relationship["uco-core:description"] = f"bytes {run.file_offset}.. of the file ({n + 1} of {len(runs)})"
                relationship["uco-core:hasFacet"] = [
                    {
                        "@id": part_id("DataRangeFacet", iri, n),
                        "@type": "uco-observable:DataRangeFacet",
                        "uco-observable:rangeOffset": run.img_offset,
                        "uco-observable:rangeSize": run.length,
                        "uco-observable:rangeOffsetType": "image",
                    }
                ]
            self._node(relationship)
            self.relationships += 1
        key = (row["step"], row["step_version"])
        if key not in self.actions:
            self.actions[key] = Action(node_id("InvestigativeAction", self.job_id, *key), *key)
        self.actions[key].add(iri)

    def close(self, steps: list[StepRun]) -> None:
        """Every step's action (with its tool, images and results) and the document's end.
        Steps that produced no manifest rows (hashing, listing) are actions without results."""
        started = {s.step: s.first_start for s in steps}
        producing = {task_step(a.step) for a in self.actions.values()}
        for s in steps:
            if s.step not in producing:
                self.actions[(s.step, None)] = Action(node_id("InvestigativeAction", self.job_id, s.step), s.step, None)
        for action in self.actions.values():
            self._action(action, started.get(task_step(action.step)))
        self.out.write("]\n}\n")

    def _action(self, action: Action, first_start: int | None) -> None:
        tool_id = node_id("Tool", self.job_id, action.step, action.version)
        tool: dict[str, Any] = {"@id": tool_id, "@type": "uco-tool:Tool", "uco-core:name": f"quarry {action.step}"}
        if action.version:
            tool["uco-tool:version"] = action.version
        self._node(tool)
        head: dict[str, Any] = {
            "@id": action.id,
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": action.step,
            "uco-action:instrument": [{"@id": tool_id}],
            "uco-action:object": [{"@id": i} for i in self.images],
        }
        if first_start is not None:
            head["uco-action:startTime"] = _typed("xsd:dateTime", iso_utc(first_start / 1e9))
        self.out.write(("," if self.nodes else "") + json.dumps(head, ensure_ascii=False)[:-1])
        if action.count:  # the spooled results, copied in as they were written
            self.out.write(', "uco-action:result": [')
            action.results.seek(0)
            shutil.copyfileobj(action.results, self.out)
            self.out.write("]")
        self.out.write("}\n")
        self.nodes += 1
        action.results.close()
