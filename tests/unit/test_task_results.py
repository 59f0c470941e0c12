"""A task's result survives the journal as the task returned it: what a job taken up again
hands on must be what the first run would have."""

from __future__ import annotations

from collections import Counter

from cluster.task_results import decode, encode
from workers.carving import SegmentResult
from workers.files import FilesResult, Listing
from workers.hashing import ImageDigests


def test_a_segment_result_keeps_its_counters() -> None:
    r = SegmentResult(
        image_index=1,
        index=7,
        bytes=4 << 20,
        node="n1",
        seconds=0.5,
        part_key="c/j/parts/img0001-seg0000007.parquet",
        found=Counter({"png/truncated": 2, "jpeg/complete": 1}),
        features=Counter({"url": 6}),
        known_bad=Counter({"bad-set": 1}),
        known_bad_hits=[{"sha256": "ab" * 32, "sets": ["bad-set"]}],
        stored_new=3,
    )
    back = decode(encode(r))
    assert back == r
    assert isinstance(back.found, Counter) and back.found["png/truncated"] == 2
    assert back.found + Counter({"png/truncated": 1}) == Counter({"png/truncated": 3, "jpeg/complete": 1})


def test_listing_ranges_and_other_results_round_trip() -> None:
    li = Listing(image_index=0, node="n", batches=2, unallocated=[(0, 512), (4096, 8192)], filesystems=["ntfs"])
    assert decode(encode(li)) == li
    f = FilesResult(image_index=0, batch=1, node="n", found=Counter({"deleted": 4}), warnings=["w"])
    assert decode(encode(f)) == f
    d = ImageDigests(image_index=0, digests={"sha256": "00" * 32}, size=10, node="n", seconds=1.0)
    assert decode(encode(d)) == d
