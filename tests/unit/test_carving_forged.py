"""The carve step's windowing (segments, overlap, re-reads) against a forged image's key.

Drives the step's own `carve_segment` over the job's segment plan, without Ray or MinIO.
"""

import hashlib

import pytest

import rust_core
from cluster.planning import plan_segments
from workers.carve_window import carve_segment
from workers.evidence import RawImage

FILES = ("jpeg", "png", "pdf", "zip")


def carve_all(path, segment_size, overlap):
    carver = rust_core.Carver()
    found = []
    with RawImage(path) as img:
        for seg in plan_segments(img.ref(), 0, segment_size, overlap):
            for carve, data in carve_segment(carver, img, seg):
                assert len(data) == carve.length
                found.append((carve, hashlib.sha256(data).hexdigest()))
    return found


@pytest.mark.parametrize("segment_size,overlap", [(64 << 20, 0), (4 << 20, 64 << 10), (1 << 20, 0), (333_333, 17)])
def test_every_intact_file_once_and_no_false_complete(forged, segment_size, overlap):
    path, key = forged
    found = carve_all(path, segment_size, overlap)
    intact = {
        (i["offset"], i["length"], i["kind"]) for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"
    }
    complete = [(h.offset, h.length, h.kind) for h, _ in found if h.status == "complete"]
    digests = {i["offset"]: i["sha256"] for i in key["items"]}
    assert all(sha == digests[h.offset] for h, sha in found if h.status == "complete"), "bytes differ"
    assert len(complete) == len(set(complete)), "a file was reported twice"
    assert set(complete) == intact
    crossing = [o for o, n, _ in intact if o // segment_size != (o + n - 1) // segment_size]
    if segment_size < 64 << 20:
        assert crossing, "the plan should cut through at least one planted file"


def test_truncated_pngs_are_reported_truncated(forged):
    path, key = forged
    found = {h.offset: h for h, _ in carve_all(path, 4 << 20, 0)}
    for item in key["items"]:
        if item["kind"] == "png" and item["status"] == "truncated":
            assert found[item["offset"]].status == "truncated"
            assert found[item["offset"]].length <= item["length"]
