"""The carving benchmark's scoring and its readers of each tool's output, on a hand-made key,
hand-made carve lists and hand-made output folders in each tool's format."""

from __future__ import annotations

import hashlib
import json

from bench.carving import (
    QUARRY_TRUNCATED,
    Carve,
    foremost_carves,
    photorec_carves,
    quarry_carves,
    scalpel_carves,
    score,
)

A, B, D, E = "a" * 64, "b" * 64, "d" * 64, "e" * 64
KEY = {
    "size": 1 << 20,
    "items": [
        {"kind": "jpeg", "offset": 1000, "length": 500, "sha256": A, "status": "intact"},
        {"kind": "png", "offset": 4096, "length": 100, "sha256": B, "status": "intact"},
        {"kind": "zip", "offset": 10_000, "length": 300, "sha256": "c" * 64, "status": "truncated"},
        {
            "kind": "pdf",
            "offset": 20_480,
            "length": 5096,
            "sha256": D,
            "status": "fragmented",
            "runs": [[20_480, 4096], [32_768, 1000]],
        },
        {"kind": "eml", "offset": 50_001, "length": 200, "sha256": E, "status": "intact"},
    ],
}


def test_byte_exact_needs_the_offset_and_the_digest():
    s = score(KEY, [Carve(1000, 500, A, "jpeg"), Carve(4096, 90, "f" * 64, "png"), Carve(50_000, 200, E, "eml")])
    assert (s["intact"], s["intact_exact"], s["intact_exact_pct"]) == (3, 1, 33.33)
    assert s["per_kind"]["jpeg"]["intact"] == [1, 1]
    assert s["per_kind"]["png"]["intact"] == [0, 1]  # at the offset, wrong bytes: a miss, not a false positive
    assert s["per_kind"]["eml"]["intact"] == [0, 1]  # right bytes one byte early: a miss and a false positive
    assert s["false_positives"] == 1 and s["false_positive_offsets"] == [50_000]
    assert s["intact_aligned"] == [0, 1] and s["intact_unaligned"] == [1, 2]  # 4096 is a sector start
    assert s["intact_kind_agrees"] == 1


def test_the_same_bytes_elsewhere_do_not_count():
    s = score(KEY, [Carve(1001, 500, A)])
    assert s["intact_exact"] == 0
    assert s["false_positives"] == 0 and s["nested"] == 1  # inside the planted JPEG


def test_files_inside_planted_files_are_not_false_positives():
    carves = [
        Carve(1000, 500, A, "jpeg"),
        Carve(1200, 80, "1" * 64, "jpeg"),  # a thumbnail inside the JPEG
        Carve(1499, 1, "2" * 64, "mp3"),  # the JPEG's last byte
        Carve(32_768, 1000, "3" * 64, "pdf"),  # the second piece of the fragmented PDF
        Carve(10_100, 50, "4" * 64, "gif"),  # inside the truncated ZIP's planted prefix
    ]
    s = score(KEY, carves)
    assert s["false_positives"] == 0 and s["nested"] == 4 and s["carves"] == 5


def test_false_positives_outside_every_planted_file():
    carves = [
        Carve(0, 10, "5" * 64, "mp3"),
        Carve(1500, 10, "6" * 64, "mp3"),  # the byte after the JPEG
        Carve(25_000, 10, "7" * 64, "gzip"),  # between the two pieces of the PDF
        Carve(10_300, 10, "8" * 64, "bmp"),  # after the truncated ZIP's prefix: random data
        Carve(1000, 500, A, "jpeg"),
    ]
    s = score(KEY, carves)
    assert s["false_positives"] == 4 and s["carves"] == 5 and s["false_positive_pct"] == 80.0
    assert s["false_positive_offsets"] == [0, 1500, 10_300, 25_000]
    assert s["false_positives_by_kind"] == {"mp3": 2, "gzip": 1, "bmp": 1}


def test_truncated_flagged_by_status_for_quarry_and_by_offset_for_peers():
    complete = [Carve(10_000, 1000, "9" * 64, "zip", "complete")]
    flagged = [Carve(10_000, 300, "9" * 64, "zip", "truncated")]
    assert score(KEY, complete, QUARRY_TRUNCATED)["truncated_flagged"] == 0
    assert score(KEY, flagged, QUARRY_TRUNCATED)["truncated_flagged"] == 1
    assert score(KEY, [Carve(10_000, 300, "9" * 64, "zip", "damaged")], QUARRY_TRUNCATED)["truncated_flagged"] == 1
    assert score(KEY, complete)["truncated_flagged"] == 1  # peers report no status
    assert score(KEY, [Carve(10_001, 300, "9" * 64)])["truncated_flagged"] == 0


def test_fragmented_recovered_by_the_reassembled_digest():
    assert score(KEY, [Carve(20_480, 5096, D, "pdf")])["fragmented_recovered"] == 1
    assert score(KEY, [Carve(20_480, 4096, "0" * 64, "pdf")])["fragmented_recovered"] == 0
    assert score(KEY, [Carve(32_768, 5096, D, "pdf")])["fragmented_recovered"] == 0


def test_no_carves():
    s = score(KEY, [])
    assert s["carves"] == 0 and s["false_positive_pct"] == 0.0 and s["intact_exact"] == 0


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_reads_quarry_manifest(tmp_path):
    (tmp_path / "jpeg").mkdir()
    (tmp_path / "jpeg" / "000000001000.jpg").write_bytes(b"jpeg bytes")
    (tmp_path / "zip").mkdir()
    (tmp_path / "zip" / "000000010000-truncated.zip").write_bytes(b"zip bytes")
    common = {"subtype": None, "parent_offset": None, "fragmented": False}
    rows = [
        {"offset": 1000, "length": 10, "kind": "jpeg", "status": "complete", "sha256": sha(b"jpeg bytes"),
         "path": "jpeg/000000001000.jpg", "runs": [[1000, 10]], **common},
        {"offset": 10_000, "length": 9, "kind": "zip", "status": "truncated", "sha256": "0" * 64,
         "path": "zip/000000010000-truncated.zip", "runs": [[10_000, 9]], **common},
    ]  # fmt: skip
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    carves, notes = quarry_carves(tmp_path)
    assert carves == [
        Carve(1000, 10, sha(b"jpeg bytes"), "jpeg", "complete"),
        Carve(10_000, 9, sha(b"zip bytes"), "zip", "truncated"),  # hashed from the file, not the manifest
    ]
    assert notes == ["1 manifest sha256 values differ from the carved files' bytes"]


def test_reads_photorec_report(tmp_path):
    first = tmp_path / "recup_dir.1"
    first.mkdir()
    (first / "f0000002.jpg").write_bytes(b"photo")
    (tmp_path / "recup_dir.2").mkdir()
    (tmp_path / "recup_dir.2" / "f0000010_docs.zip").write_bytes(b"archive")
    (first / "report.xml").write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<dfxml xmloutputversion='1.0'>\n"
        "  <metadata xmlns='http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML'>"
        "<dc:type xmlns:dc='http://purl.org/dc/elements/1.1/'>Carve Report</dc:type></metadata>\n"
        "  <fileobject><filename>f0000002.jpg</filename><filesize>5</filesize>"
        "<byte_runs><byte_run offset='0' img_offset='1024' len='512'/></byte_runs></fileobject>\n"
        "  <fileobject><filename>f0000010_docs.zip</filename><filesize>7</filesize>"
        "<byte_runs><byte_run offset='0' img_offset='5120' len='512'/></byte_runs></fileobject>\n</dfxml>\n"
    )
    assert photorec_carves(tmp_path) == [Carve(1024, 5, sha(b"photo"), "jpg"), Carve(5120, 7, sha(b"archive"), "zip")]


def test_reads_foremost_audit(tmp_path):
    (tmp_path / "jpg").mkdir()
    (tmp_path / "jpg" / "00000604.jpg").write_bytes(b"x" * 10)
    (tmp_path / "png").mkdir()
    (tmp_path / "png" / "00000722.png").write_bytes(b"y" * 3)
    (tmp_path / "audit.txt").write_text(
        "Foremost version 1.5.7 by Jesse Kornblum, Kris Kendall, and Nick Mikus\nAudit File\n\n"
        "Num\t Name (bs=512)\t       Size\t File Offset\t Comment \n\n"
        "0:\t00000604.jpg \t      10 B \t     309741 \t \n"
        "1:\t00000722.png \t       3 B \t     369664 \t  (235 x 386)\n"
        "Finish: Mon Nov 23 18:41:45 2026\n\n2 FILES EXTRACTED\n"
    )
    expected = [Carve(309_741, 10, sha(b"x" * 10), "jpg"), Carve(369_664, 3, sha(b"yyy"), "png")]
    assert foremost_carves(tmp_path) == expected


def test_reads_scalpel_audit(tmp_path):
    (tmp_path / "jpg-2-0").mkdir()
    (tmp_path / "jpg-2-0" / "00000008.jpg").write_bytes(b"j" * 4)
    (tmp_path / "audit.txt").write_text(
        "\nScalpel version 1.60 audit file\nThe following files were carved:\n"
        "File\t\t  Start\t\t\tChop\t\tLength\t\tExtracted From\n"
        "00000008.jpg      5088768\t\tNO          4\t\tt.img\n"
    )
    assert scalpel_carves(tmp_path) == [Carve(5_088_768, 4, sha(b"jjjj"), "jpg")]
