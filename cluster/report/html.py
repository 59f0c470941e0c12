"""The HTML report: one self-contained page (inline style, no script, no external asset) an
examiner can hand over, with the job's summary, intake verification, counts, YARA and
known-bad hits, feature histograms, the steps that ran and the digests of the report's
other files.

Every string that comes from evidence (file names, paths, feature values, YARA meta) is
hostile input: everything shown is escaped with `html.escape`, and sensitive feature kinds
are redacted as `quarry find` redacts them. Tables are bounded (the first rows of each list,
with the full count); the manifest, DFXML and CASE outputs list every artifact.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cluster.jobs import JobRecord
from cluster.report.gather import StepRun, iso_utc, task_step
from cluster.report.tally import TOP, TOP_VALUES, HistogramTally, ManifestTally, YaraTally
from cluster.report.writer import Written
from workers.features import SENSITIVE, redact

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: 0.5em 0; } caption { text-align: left; font-weight: bold; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td.n { text-align: right; } code { font-size: 0.9em; word-break: break-all; }
.mismatch { color: #b00; font-weight: bold; } .match { color: #070; } .note { color: #555; }
"""


def e(value: object) -> str:
    """Any value as HTML text (escaped, quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def table(
    ident: str, headers: Sequence[str] | None, rows: Iterable[Sequence[object]], numeric: set[int] | None = None
) -> str:
    """A table of `rows`, whose cells are HTML already escaped by the caller, except the
    columns in `numeric` (numbers, escaped here); `headers` None for a key/value table."""
    numeric = numeric or set()
    head = "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr></thead>" if headers else ""
    body = "".join(
        "<tr>"
        + "".join(f"<td class='n'>{e(c)}</td>" if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>\n"
        for r in rows
    )
    return f"<table id='{ident}'>{head}<tbody>\n{body}</tbody></table>\n"


def code(value: object) -> str:
    return f"<code>{e(value)}</code>"


def more(shown: int, total: int, what: str) -> str:
    if total <= shown:
        return ""
    return f"<p class='note'>First {shown} of {total} {e(what)} listed; the job's results hold them all.</p>\n"


@dataclass
class Facts:
    """Everything the page says, gathered while the report's other files were written."""

    job: JobRecord
    summary: dict[str, Any]
    generated: str
    quarry_version: str
    manifest: ManifestTally
    distinct: int
    yara: YaraTally
    histograms: HistogramTally
    steps: list[StepRun]
    timelines: list[tuple[int, str | None, str | None]]
    files: list[Written]


def _overview(f: Facts) -> str:
    s, job = f.summary, f.job
    rows = [
        ("Case", e(job.case)),
        ("Job", code(job.id)),
        ("Submitted", e(job.created)),
        ("Finished", e(job.updated)),
        ("Processing time", f"{e(s.get('seconds'))} s ({e(s.get('mb_per_s'))} MB/s)"),
        ("Images", e(len(job.images))),
        ("Bytes", e(job.bytes_total)),
        ("Integrity of the media", f"<span class='{e(s.get('integrity'))}'>{e(s.get('integrity'))}</span>"),
        ("Artifacts (manifest rows)", e(f.manifest.rows)),
        ("Distinct contents", e(f.distinct)),
        ("Known-bad artifacts", e(f.manifest.known_bad)),
        ("Known-good artifacts", e(f.manifest.known_good)),
        ("YARA matches", f"{e(f.yara.matches)} ({e(f.yara.errors)} scan errors)"),
        ("Feature hits", e(sum(f.histograms.hits.values()))),
        ("Carving", e((s.get("carve") or {}).get("profile", job.carve))),
        ("Report generated", f"{e(f.generated)} by Quarry {e(f.quarry_version)}"),
    ]
    return "<h2>Summary</h2>\n" + table("summary", None, rows)


def _intake(f: Facts) -> str:
    out = ["<h2>Intake verification</h2>\n"]
    for i, img in enumerate(f.summary.get("images", [])):
        verification = img.get("verification") or {"result": "absent", "checks": []}
        result = verification["result"]
        out.append(f"<h3>Image {i}: {code(img['path'])}</h3>\n")
        rows = [("Format", e(img.get("format"))), ("Size", e(img.get("size")))]
        rows += [(f"{e(name.upper())} (computed)", code(value)) for name, value in sorted(img["digests"].items())]
        rows.append(("Verification", f"<span class='{e(result)}'>{e(result)}</span>"))
        out.append(table(f"image-{i}", None, rows))
        checks = verification.get("checks") or []
        if checks:
            out.append(
                table(
                    f"intake-{i}",
                    ("Algorithm", "Expected", "Source", "Computed", "Result"),
                    (
                        (
                            e(c["algorithm"]),
                            code(c["value"]),
                            e(c.get("source")),
                            code(c.get("computed")),
                            f"<span class='{e(c['result'])}'>{e(c['result'])}</span>",
                        )
                        for c in checks
                    ),
                )  # fmt: skip
            )
        else:
            out.append("<p class='note'>No expected digest was given for this image.</p>\n")
        if img.get("filesystems"):
            out.append(f"<p>Filesystems: {e(', '.join(img['filesystems']))}</p>\n")
        if img.get("unreadable"):
            out.append(f"<p class='mismatch'>Unreadable ranges (hashed as zeros): {e(len(img['unreadable']))}</p>\n")
        warnings = img.get("warnings") or []
        if warnings:
            shown = warnings[:20]
            out.append("<ul>" + "".join(f"<li>{e(w)}</li>" for w in shown) + "</ul>\n")
            out.append(more(len(shown), len(warnings), "warnings"))
    return "".join(out)


def _counts(f: Facts) -> str:
    rows = [
        (e(image), e(kind), e(status), e(origin), n)
        for (image, kind, status, origin), n in sorted(f.manifest.by_kind.items())
    ]
    return (
        "<h2>Artifacts by image, type, status and origin</h2>\n"
        + table("counts", ("Image", "Type", "Status", "Origin", "Count"), rows, {4})
        + f"<p>Total: {e(f.manifest.rows)} artifacts.</p>\n"
    )


def _known_bad(f: Facts) -> str:
    known = f.summary.get("known_files") or {}
    sets = known.get("sets") or {}
    out = ["<h2>Known files</h2>\n"]
    if sets:
        out.append(
            table(
                "hash-sets",
                ("Hash set", "Kind", "Versions"),
                ((e(n), e(s["kind"]), e(", ".join(s["versions"]))) for n, s in sorted(sets.items())),
            )
        )
    else:
        out.append("<p class='note'>No hash set was in use.</p>\n")
    rows = (
        (e(r["image_index"]), code(r["where"]), e(r["type"]), r["length"], code(r["sha256"]), e(", ".join(r["sets"])))
        for r in f.manifest.known_bad_rows
    )
    out.append(table("known-bad", ("Image", "Where", "Type", "Bytes", "SHA-256", "Known-bad sets"), rows, {3}))
    out.append(more(len(f.manifest.known_bad_rows), f.manifest.known_bad, "known-bad artifacts"))
    return "".join(out)


def _yara(f: Facts) -> str:
    out = ["<h2>YARA</h2>\n"]
    if not f.job.rule_sets:
        return out[0] + "<p class='note'>No YARA rule set was in use.</p>\n"
    out.append(
        table(
            "yara-rules",
            ("Rule set", "Version", "Namespace", "Rule", "Matches"),
            ((e(s), e(v), e(ns), e(r), n) for (s, v, ns, r), n in sorted(f.yara.by_rule.items())),
            {4},
        )
    )
    rows = (
        (e(m["image_index"]), e(m["source"]), code(m["where"]), code(m["sha256"] or "-"), e(m["rule"]),
         e(", ".join(m["tags"])), e(m["strings"]))
        for m in f.yara.listed
    )  # fmt: skip
    out.append(table("yara-matches", ("Image", "Source", "Where", "SHA-256", "Rule", "Tags", "Strings"), rows, {6}))
    out.append(more(len(f.yara.listed), f.yara.matches, "matches"))
    if f.yara.errors:
        out.append(f"<p class='mismatch'>{e(f.yara.errors)} scans timed out or failed (see yara.parquet).</p>\n")
    return "".join(out)


def _features(f: Facts) -> str:
    h = f.histograms
    out = ["<h2>Features</h2>\n"]
    if not h.hits:
        return out[0] + "<p class='note'>No feature was found.</p>\n"
    out.append(
        table(
            "features",
            ("Kind", "Hits", "Distinct values"),
            ((e(k), h.hits[k], h.distinct[k]) for k in sorted(h.hits)),
            {1, 2},
        )
    )
    for kind in sorted(h.top):
        shown = h.top[kind]
        note = " (redacted)" if kind in SENSITIVE else ""
        out.append(f"<h3>{e(kind)}: most frequent values{note}</h3>\n")
        rows = ((code(redact(kind, value) if kind in SENSITIVE else value), n) for value, n in shown)
        out.append(table(f"histogram-{e(kind)}", ("Value", "Count"), rows, {1}))
        out.append(more(len(shown), h.distinct[kind], f"distinct {kind} values"))
    return "".join(out)


def _timeline(f: Facts) -> str:
    rows = [(e(i), e(n), e(low or "-"), e(high or "-")) for i, (n, low, high) in enumerate(f.timelines)]
    return "<h2>Filesystem timeline</h2>\n" + table("timeline", ("Image", "Events", "Earliest", "Latest"), rows, {1})


def _steps(f: Facts) -> str:
    versions = f.manifest.versions
    rows = []
    for s in f.steps:
        recorded = {v for step, seen in versions.items() if task_step(step) == s.step for v in seen}
        rows.append(
            (
                e(s.step),
                e(", ".join(sorted(recorded)) or "not recorded"),
                len(s.tasks),
                s.attempts,
                s.retries,
                len(s.nodes),
                e(iso_utc(s.first_start / 1e9) if s.first_start else "-"),
                e(iso_utc(s.last_start / 1e9) if s.last_start else "-"),
            )
        )
    headers = ("Step", "Version", "Tasks", "Attempts", "Retries", "Nodes", "First started", "Last started")
    out = "<h2>Steps</h2>\n" + table("steps", headers, rows, {2, 3, 4, 5})
    pinned = [("hash set", n, v) for n, v in sorted(f.job.hash_sets.items())]
    pinned += [("YARA rule set", n, v) for n, v in sorted(f.job.rule_sets.items())]
    if pinned:
        out += table("pinned", ("Reference", "Name", "Version"), ((e(k), e(n), e(v)) for k, n, v in pinned))
    return out


def _files(f: Facts) -> str:
    rows = ((code(w.name), e(w.what), w.size, code(w.sha256)) for w in f.files)
    return "<h2>Files of this report</h2>\n" + table("files", ("File", "Holds", "Bytes", "SHA-256"), rows, {2})


def render(f: Facts) -> str:
    """The whole page (bounded: every list is cut at TOP rows)."""
    title = f"Quarry report: case {f.job.case}, job {f.job.id}"
    sections = (_overview, _intake, _counts, _known_bad, _yara, _features, _timeline, _steps, _files)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{e(title)}</h1>\n"
        + "".join(section(f) for section in sections)
        + f"<p class='note'>Tables list at most {TOP} rows ({TOP_VALUES} values per feature kind).</p>\n"
        + "</body>\n</html>\n"
    )
