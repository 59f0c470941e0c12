"""Segment plans and the unallocated carve ranges, against ranges worked out by hand."""

from cluster.planning import plan_segments
from workers.evidence import ImageRef
from workers.files import carve_ranges


def test_whole_image_is_covered_once():
    segs = plan_segments(ImageRef("x", 10_000), 0, 4096, 100)
    assert [(s.index, s.start, s.length, s.overlap) for s in segs] == [
        (0, 0, 4096, 100),
        (1, 4096, 4096, 100),
        (2, 8192, 1808, 100),
    ]


def test_ranges_are_cut_into_segments_and_clipped_to_the_image():
    segs = plan_segments(ImageRef("x", 10_000), 3, 1000, 0, [(100, 2500), (9500, 900)])
    assert [(s.image_index, s.index, s.start, s.length) for s in segs] == [
        (3, 0, 100, 1000),
        (3, 1, 1100, 1000),
        (3, 2, 2100, 500),
        (3, 3, 9500, 500),
    ]


def test_carve_ranges_keep_gaps_unallocated_runs_and_unknown_filesystems():
    # image of 10000 bytes: a filesystem at 1000..5000 with two free runs, one at 6000..8000
    # whose runs are unknown (carved whole), unclaimed space around them. The free run that
    # ends at 5000 touches the unclaimed gap 5000..6000, so they merge through to the end.
    claimed = [(6000, 2000, None), (1000, 4000, [(1500, 100), (4900, 100)])]
    assert carve_ranges(10_000, claimed) == [(0, 1000), (1500, 100), (4900, 5100)]
