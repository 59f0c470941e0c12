"""bulk_extractor-style feature files from hand-made hits of two images: one folder per
image, `# ` header lines, `offset<TAB>feature<TAB>context` lines in order, histograms with
`n=COUNT<TAB>value` most frequent first, values with tabs and line ends escaped, and
sensitive kinds redacted only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.report.bulk_features import BulkFeatures
from cluster.report.writer import ReportFolder

IMAGES = [{"path": "/ev/a.raw", "digests": {"sha256": "a" * 64}}, {"path": "/ev/b.raw", "digests": {}}]
CARD = "4111111111111111"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"


def hit(image: int, offset: int, kind: str, value: str, encoding: str = "ascii") -> dict:
    return {"image_index": image, "offset": offset, "kind": kind, "value": value, "encoding": encoding,
            "context": f"ctx\\x00{offset}"}  # fmt: skip


HITS = [
    hit(0, 10, "email", "a@b.example"),
    hit(0, 50, "ccn", CARD),
    hit(0, 90, "email", "a@b.example", "utf16le"),
    hit(0, 95, "email", "c@d.example"),
    hit(1, 7, "ssh_private_key", KEY),
    hit(1, 70, "email", "x\ty@z.example"),
]


def write(root: Path, redact: bool) -> ReportFolder:
    folder = ReportFolder(root)
    features = BulkFeatures(folder, IMAGES, ["Case: c", "Job: j"], redact)
    for h in HITS:
        features.add(h)
    features.close()
    return folder


def body(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]


def test_one_folder_per_image_in_bulk_extractors_layout(tmp_path) -> None:
    folder = write(tmp_path / "r", redact=False)
    root = tmp_path / "r" / "features"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*.txt")) == [
        "img0000/ccn.txt", "img0000/ccn_histogram.txt", "img0000/email.txt", "img0000/email_histogram.txt",
        "img0001/email.txt", "img0001/email_histogram.txt", "img0001/ssh_private_key.txt",
        "img0001/ssh_private_key_histogram.txt",
    ]  # fmt: skip
    email = (root / "img0000" / "email.txt").read_text().splitlines()
    assert email[0].startswith("# ") and "# Feature-Recorder: email" in email and "# Filename: /ev/a.raw" in email
    assert body(root / "img0000" / "email.txt") == [
        "10\ta@b.example\tctx\\x0010", "90\ta@b.example\tctx\\x0090", "95\tc@d.example\tctx\\x0095"
    ]  # fmt: skip
    assert body(root / "img0000" / "email_histogram.txt") == ["n=2\ta@b.example\t(utf16=1)", "n=1\tc@d.example"]
    assert body(root / "img0000" / "ccn.txt") == [f"50\t{CARD}\tctx\\x0050"]
    assert body(root / "img0001" / "email.txt") == ["70\tx\\x09y@z.example\tctx\\x0070"]
    key = body(root / "img0001" / "ssh_private_key.txt")
    assert key == ["7\t" + KEY.replace("\n", "\\x0A") + "\tctx\\x007"]
    assert {w.name: w.what for w in folder.files}["features/img0000/email.txt"] == "3 email hits"


def test_redact_writes_sensitive_kinds_as_views_show_them(tmp_path) -> None:
    write(tmp_path / "r", redact=True)
    root = tmp_path / "r" / "features"
    assert body(root / "img0000" / "ccn.txt") == ["50\t411111******1111\t[redacted]"]
    assert body(root / "img0000" / "ccn_histogram.txt") == ["n=1\t411111******1111"]
    assert body(root / "img0001" / "ssh_private_key.txt") == [
        f"7\t-----BEGIN OPENSSH PRIVATE KEY----- [{len(KEY)} bytes redacted]\t[redacted]"
    ]
    assert body(root / "img0000" / "email.txt")[0] == "10\ta@b.example\tctx\\x0010"  # other kinds whole


def test_hits_out_of_image_order_are_refused(tmp_path) -> None:
    features = BulkFeatures(ReportFolder(tmp_path / "r"), IMAGES, [], False)
    for h in (hit(0, 1, "email", "a@b.example"), hit(1, 1, "email", "a@b.example")):
        features.add(h)
    with pytest.raises(ValueError, match="not in image order"):
        features.add(hit(0, 2, "email", "a@b.example"))
