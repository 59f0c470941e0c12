"""DFXML as `quarry report` writes it, from hand-made manifest rows: valid against the DFXML
schema's rules (tests/data/dfxml_rules.xsd, checked with lxml), every value where the
schema puts it, hostile names escaped, and the whole document written row by row."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from cluster.report.dfxml import Creator, DfxmlImage
from cluster.report.gather import Run, carved_runs

RULES = Path(__file__).resolve().parents[1] / "data" / "dfxml_rules.xsd"
NS = {"d": "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"}
IMAGE = {"path": "/evidence/disk <1>.raw", "size": 1 << 20, "digests": {"md5": "a" * 32, "sha256": "b" * 64}}
CREATOR = Creator("quarry", "0.1.0", "9.9.9", "quarry report J", "2026-01-02T03:04:05Z")
HOSTILE = "/docs/<script>&\"x\x01'.txt"


def carved(offset: int, length: int, runs: list[list[int]] | None = None) -> dict:
    return {"image_index": 0, "offset": offset, "length": length, "type": "jpeg", "status": "complete",
            "runs": runs, "path": None, "origin": "carved", "md5": "1" * 32, "sha1": "2" * 40, "sha256": "3" * 64,
            "fs_offset": None, "inode": None, "mtime": None, "atime": None, "ctime": None, "crtime": None}  # fmt: skip


def extracted(path: str, origin: str, mtime: int | None) -> dict:
    return {"image_index": 0, "offset": None, "length": 13, "type": "file", "status": "complete", "runs": None,
            "path": path, "origin": origin, "md5": "4" * 32, "sha1": "5" * 40, "sha256": "6" * 64,
            "fs_offset": 1024, "inode": 12, "mtime": mtime, "atime": None, "ctime": 0, "crtime": None}  # fmt: skip


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RULES)))


def document(rows: list[tuple[dict, list[Run]]], unallocated: bool = False) -> bytes:
    out = io.StringIO()
    doc = DfxmlImage(out, IMAGE, CREATOR)
    for row, runs in rows:
        doc.add(row, runs, unallocated)
    doc.close()
    return out.getvalue().encode()


def test_a_document_validates_and_holds_every_value(schema) -> None:
    whole, pieces = carved(4096, 300), carved(8192, 700, [[8192, 500], [20000, 200]])
    deleted = extracted("/gone.txt", "deleted", 1_500_000_000)
    fs_runs = [Run(1024 + 4096, 13, 0)]
    xml = document([(whole, carved_runs(whole)), (pieces, carved_runs(pieces)), (deleted, fs_runs)])
    tree = etree.fromstring(xml)
    schema.assertValid(tree)
    assert tree.findtext("d:source/d:image_filename", namespaces=NS) == IMAGE["path"]
    objects = tree.findall("d:fileobject", NS)
    assert [o.findtext("d:filename", namespaces=NS) for o in objects] == [
        "carved/jpeg/4096", "carved/jpeg/8192", "/gone.txt"
    ]  # fmt: skip
    runs = [[(r.get("img_offset"), r.get("len"), r.get("file_offset")) for r in o.iter(f"{{{NS['d']}}}byte_run")]
            for o in objects]  # fmt: skip
    assert runs == [[("4096", "300", "0")], [("8192", "500", "0"), ("20000", "200", "500")], [("5120", "13", "0")]]
    assert objects[2].find("d:byte_runs/d:byte_run", NS).get("fs_offset") == "4096"
    assert objects[2].findtext("d:unalloc", namespaces=NS) == "1" and objects[2].find("d:alloc", NS) is None
    assert objects[2].findtext("d:mtime", namespaces=NS) == "2017-07-14T02:40:00Z"
    assert objects[2].findtext("d:ctime", namespaces=NS) == "1970-01-01T00:00:00Z"
    assert objects[2].findtext("d:name_type", namespaces=NS) == "r"
    assert objects[0].find("d:alloc", NS) is None and objects[0].find("d:unalloc", NS) is None
    digests = {h.get("type"): h.text for h in objects[0].findall("d:hashdigest", NS)}
    assert digests == {"md5": "1" * 32, "sha1": "2" * 40, "sha256": "3" * 64}
    assert objects[1].findtext("d:filesize", namespaces=NS) == "700"


def test_hostile_names_are_escaped_and_control_characters_made_visible(schema) -> None:
    xml = document([(extracted(HOSTILE, "allocated", None), [])])
    tree = etree.fromstring(xml)  # parses: nothing XML 1.0 forbids got through
    schema.assertValid(tree)
    name = tree.findtext("d:fileobject/d:filename", namespaces=NS)
    assert name == "/docs/<script>&\"x\\x01'.txt"
    assert b"<script>" not in xml and tree.find("d:fileobject/d:byte_runs", NS) is None
    assert tree.findtext("d:fileobject/d:alloc", namespaces=NS) == "1"


def test_carves_of_an_unallocated_only_job_are_marked_unallocated(schema) -> None:
    row = carved(0, 10)
    tree = etree.fromstring(document([(row, carved_runs(row))], unallocated=True))
    schema.assertValid(tree)
    assert tree.findtext("d:fileobject/d:unalloc", namespaces=NS) == "1"


def test_an_element_out_of_the_schemas_order_fails_the_rules(schema) -> None:
    # The check is not vacuous: the same document with filesize before name_type is refused.
    xml = document([(extracted("/a", "allocated", None), [])]).decode()
    swapped = xml.replace("<name_type>r</name_type>\n    <filesize>13</filesize>",
                          "<filesize>13</filesize>\n    <name_type>r</name_type>")  # fmt: skip
    assert swapped != xml
    assert not schema.validate(etree.fromstring(swapped.encode()))
