"""The report page from hand-made facts: self-contained (no script, no external reference),
every evidence string escaped, sensitive feature values redacted, and lists cut at TOP rows
with the full count said. Read back with the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser

from cluster.jobs import JobRecord
from cluster.report.gather import StepRun
from cluster.report.html import Facts, render
from cluster.report.tally import TOP, HistogramTally, ManifestTally, YaraTally
from cluster.report.writer import Written

HOSTILE = "/x/<script>alert('x')</script>&.txt"
CARD = "4111111111111111"


class Page(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def row(n: int, path: str, known: str | None = None) -> dict:
    return {"image_index": 0, "type": "file", "status": "complete", "origin": "allocated", "step": "scan_files",
            "step_version": "2+core0.1.0", "known": known, "known_sets": ["bad-set"] if known else [],
            "path": path, "fs_offset": 0, "offset": None, "length": n, "sha256": f"{n:064x}", "yara": None}  # fmt: skip


def facts() -> Facts:
    job = JobRecord(id="J1", case="<case>", images=[{"path": "/ev/a.raw", "size": 10}], state="done",
                    rule_sets={"rules": "1"}, hash_sets={"bad-set": "1"})  # fmt: skip
    summary = {"integrity": "match", "seconds": 1.0, "mb_per_s": 2.0,
               "images": [{"path": "/ev/<a>.raw", "format": "raw", "size": 10, "digests": {"sha256": "c" * 64},
                           "verification": {"result": "match", "checks": [
                               {"algorithm": "sha256", "value": "c" * 64, "source": "operator",
                                "computed": "c" * 64, "result": "match"}]},
                           "warnings": [HOSTILE] * 30}],
               "known_files": {"sets": {"bad-set": {"kind": "known-bad", "versions": ["1"]}}}}  # fmt: skip
    manifest = ManifestTally()
    for n in range(TOP + 50):
        manifest.add(row(n, HOSTILE, "bad"))
    yara = YaraTally()
    yara.add({"rule_set": "rules", "rule_set_version": "1", "namespace": "ns", "rule": "R<1>", "error": None,
              "image_index": 0, "source": "file", "path": HOSTILE, "offset": None, "sha256": "d" * 64,
              "tags": ["<t>"], "strings_total": 2})  # fmt: skip
    histograms = HistogramTally()
    histograms.add({"kind": "ccn", "value": CARD, "count": 3, "utf16_count": 0})
    histograms.add({"kind": "email", "value": "<a@b.example>", "count": 1, "utf16_count": 0})
    steps = [StepRun("extract_files", {"b0"}, 2, {"n"}, 1_700_000_000_000_000_000, 1_700_000_001_000_000_000)]
    files = [Written("case.jsonld", "graph", 10, "e" * 64)]
    return Facts(job, summary, "2026-01-01T00:00:00Z", "0.1.0", manifest, 7, yara, histograms, steps, [(0, None, None)],
                 files)  # fmt: skip


def test_the_page_is_self_contained_and_escapes_evidence() -> None:
    text = render(facts())
    page = Page(text)
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe", "object", "embed", "base")]
    assert not [a for _, a in page.tags if {"src", "href", "style"} & set(a) or any(k.startswith("on") for k in a)]
    assert "<script>" not in text and "&lt;script&gt;" in text
    shown = "".join(page.text)
    assert HOSTILE in shown and "R<1>" in shown and "<case>" in shown and "<a@b.example>" in shown


def test_sensitive_values_are_redacted_and_lists_are_bounded() -> None:
    text = render(facts())
    shown = "".join(Page(text).text)
    assert CARD not in text and "411111******1111" in shown
    assert shown.count(HOSTILE) == TOP + 1 + 20  # the known-bad rows, the YARA match, the first 20 warnings
    assert f"First {TOP} of {TOP + 50} known-bad artifacts listed" in shown
    assert "First 20 of 30 warnings listed" in shown
    assert "2+core0.1.0" in shown and "2023-11-14T22:13:20Z" in shown  # the step's version and first start
