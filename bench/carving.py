"""Carving: `quarry carve` vs PhotoRec, foremost and scalpel on one forged carving corpus.

The corpus (`quarry forge --profile carving`) plants thousands of files of 20 types in
mostly random data, some on sector boundaries and some between them, some cut short and
some split in two; its key says where every byte of every file lies. Each tool runs alone
on the same image, from a warm page cache, timed wall-clock. Scores:

- intact files recovered byte-exact: a carve at the planted offset with the planted SHA-256;
- truncated files flagged: for Quarry a carve at the offset with status truncated or
  damaged; for the peers (which say nothing of status) any carve at the offset;
- fragmented files recovered: a carve at the first piece's offset whose SHA-256 is that of
  the reassembled file;
- false positives: carves that start neither at a planted file nor inside one (a thumbnail
  inside a JPEG or a picture inside a DOCX is a real file, not a false positive), as a share
  of all the tool's carves;
- MB/s: image bytes over wall-clock seconds.

Every carved file is hashed from the tool's output, the same way for every tool. A tool that
cannot run is printed with the reason; none is skipped silently.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import bench_main, quarry_command, run_warm, tail
from cluster.forge.corpus import forge_corpus

QUARRY_TRUNCATED = {"truncated", "damaged"}
TARGETS = {"intact_exact_pct": 98.0, "false_positive_pct": 0.5, "x_photorec": 3.0}
# tool -> Debian package that installs it
CARVING_PEERS = {"photorec": "testdisk", "foremost": "foremost", "scalpel": "scalpel"}
PHOTOREC_CMD = "partition_none,options,paranoid,fileopt,everything,enable,search"

# Scalpel carves nothing until rules are enabled. These are the rules its own scalpel.conf
# ships (commented out) for the corpus's types, taken as shipped, with three changes that
# only help it: PNG ends at IEND and its CRC (the shipped rule looks for the bytes "PNG?" and
# a footer no PNG has), JPEG and PDF end at the first footer rather than searching back from
# the maximum size (REVERSE runs past the end into the next file), and ZIP ends at the end
# of central directory signature (the shipped footer \x3c\xac is not a ZIP structure).
SCALPEL_CONF = r"""
gif	y	5000000		\x47\x49\x46\x38\x37\x61	\x00\x3b
gif	y	5000000		\x47\x49\x46\x38\x39\x61	\x00\x3b
jpg	y	5242880		\xff\xd8\xff???JFIF		\xff\xd9
jpg	y	5242880		\xff\xd8\xff???Exif		\xff\xd9
png	y	20000000	\x89PNG\x0d\x0a\x1a\x0a	IEND\xae\x42\x60\x82
bmp	y	100000	BM??\x00\x00\x00
tif	y	200000000	\x49\x49\x2a\x00
tif	y	200000000	\x4D\x4D\x00\x2A
avi	y	50000000	RIFF????AVI
wav	y	200000	RIFF????WAVE
mov	y	10000000	????moov
mov	y	10000000	????mdat
doc	y	10000000	\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00	\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00	NEXT
htm	n	50000	<html	</html>
pdf	y	5000000	%PDF	%EOF\x0a
pdf	y	5000000	%PDF	%EOF\x0d
zip	y	10000000	PK\x03\x04	PK\x05\x06
rar	y	10000000	Rar!\x1a\x07
gz	y	10000000	\x1f\x8b\x08
exe	y	10000000	MZ????????????????????????????????????????????????????????????PE\x00\x00
elf	y	10000000	\x7fELF
mp3	y	10000000	ID3
sqlite	y	10000000	SQLite\sformat\s3\x00
"""


@dataclass
class Carve:
    """One file a tool carved: where it starts in the image and what its bytes hash to."""

    offset: int
    length: int
    sha256: str
    kind: str | None = None
    status: str | None = None


@dataclass
class ToolRun:
    name: str
    seconds: float | None = None
    carves: list[Carve] = field(default_factory=list)
    error: str | None = None  # why the tool could not run
    notes: list[str] = field(default_factory=list)


# --- scoring --------------------------------------------------------------------------------


class Planted:
    """The key's items indexed by start offset and by the byte ranges they cover."""

    def __init__(self, key: dict[str, Any]) -> None:
        self.items = key["items"]
        self.by_offset = {i["offset"]: i for i in self.items}
        spans = sorted(
            (run[0], run[0] + run[1]) for i in self.items for run in i.get("runs", [[i["offset"], i["length"]]])
        )
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def covers(self, offset: int) -> bool:
        """Whether `offset` lies inside some planted file's bytes."""
        at = bisect.bisect_right(self.starts, offset) - 1
        return at >= 0 and offset < self.ends[at]


def score(key: dict[str, Any], carves: list[Carve], statuses: set[str] | None = None) -> dict[str, Any]:
    """Score one tool's carves against the corpus key.

    `statuses`: the carve statuses that flag a truncated file (Quarry's truncated/damaged);
    None for a tool that reports no status, where any carve at the offset counts."""
    planted = Planted(key)
    at_offset: dict[int, list[Carve]] = {}
    for c in carves:
        at_offset.setdefault(c.offset, []).append(c)
    per_kind: dict[str, dict[str, list[int]]] = {}
    totals = Counter()
    for item in planted.items:
        status = item["status"]
        mine = at_offset.get(item["offset"], [])
        if status == "truncated":
            hit = any(statuses is None or c.status in statuses for c in mine)
        else:
            hit = any(c.sha256 == item["sha256"] for c in mine)
        counts = per_kind.setdefault(item["kind"], {}).setdefault(status, [0, 0])
        counts[0] += hit
        counts[1] += 1
        totals[status] += 1
        totals[f"{status}_hit"] += hit
        if status == "intact":
            where = "aligned" if item["offset"] % 512 == 0 else "unaligned"
            totals[where] += 1
            totals[f"{where}_hit"] += hit
            totals["kind_agrees"] += hit and any(c.sha256 == item["sha256"] and c.kind == item["kind"] for c in mine)
    false_positives = [c for c in carves if c.offset not in planted.by_offset and not planted.covers(c.offset)]
    nested = sum(1 for c in carves if c.offset not in planted.by_offset and planted.covers(c.offset))
    return {
        "intact": totals["intact"],
        "intact_exact": totals["intact_hit"],
        "intact_exact_pct": _pct(totals["intact_hit"], totals["intact"]),
        "intact_kind_agrees": totals["kind_agrees"],
        "intact_aligned": [totals["aligned_hit"], totals["aligned"]],
        "intact_unaligned": [totals["unaligned_hit"], totals["unaligned"]],
        "truncated": totals["truncated"],
        "truncated_flagged": totals["truncated_hit"],
        "fragmented": totals["fragmented"],
        "fragmented_recovered": totals["fragmented_hit"],
        "carves": len(carves),
        "nested": nested,
        "false_positives": len(false_positives),
        "false_positive_pct": _pct(len(false_positives), len(carves)),
        "false_positives_by_kind": dict(Counter(c.kind or "?" for c in false_positives).most_common()),
        "false_positive_offsets": sorted(c.offset for c in false_positives)[:20],
        "per_kind": per_kind,
    }


def _pct(n: int, total: int) -> float:
    return round(100 * n / total, 2) if total else 0.0


# --- reading each tool's output -----------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _files_by_name(out: Path) -> dict[str, list[Path]]:
    names: dict[str, list[Path]] = {}
    for p in out.rglob("*"):
        if p.is_file():
            names.setdefault(p.name, []).append(p)
    return names


def quarry_carves(out: Path) -> tuple[list[Carve], list[str]]:
    """Carves from `quarry carve`'s manifest.jsonl; each file hashed from disk."""
    carves, notes, differs = [], [], 0
    for line in (out / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        digest = sha256_file(out / row["path"])
        differs += digest != row["sha256"]
        offset = row["runs"][0][0] if row.get("runs") else row["offset"]
        carves.append(Carve(offset, row["length"], digest, row["kind"], row["status"]))
    if differs:
        notes.append(f"{differs} manifest sha256 values differ from the carved files' bytes")
    return carves, notes


def photorec_carves(out: Path) -> list[Carve]:
    """Carves from PhotoRec's DFXML report (report.xml in its first recup_dir)."""
    reports = sorted(out.glob("recup_dir.*/report.xml"))
    if not reports:
        raise RuntimeError("PhotoRec wrote no report.xml")
    files = _files_by_name(out)
    carves = []
    for report in reports:
        for obj in ET.parse(report).getroot().iter():
            if not obj.tag.endswith("fileobject"):
                continue
            name = Path(next(e.text for e in obj.iter() if e.tag.endswith("filename")) or "").name
            run = next(e for e in obj.iter() if e.tag.endswith("byte_run"))
            size = int(next(e.text for e in obj.iter() if e.tag.endswith("filesize")) or 0)
            for path in files.get(name, []):
                carves.append(Carve(int(run.get("img_offset", 0)), size, sha256_file(path), path.suffix[1:]))
    return carves


def foremost_carves(out: Path) -> list[Carve]:
    """Carves from foremost's audit.txt: `N:  name  size  offset  comment`."""
    files = _files_by_name(out)
    carves = []
    for line in (out / "audit.txt").read_text(errors="replace").splitlines():
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) >= 4 and re.fullmatch(r"\d+:", parts[0]) and parts[3].isdigit():
            for path in files.get(parts[1], []):
                carves.append(Carve(int(parts[3]), path.stat().st_size, sha256_file(path), path.suffix[1:]))
    return carves


def scalpel_carves(out: Path) -> list[Carve]:
    """Carves from scalpel's audit.txt: `name  start  chop  length  image`."""
    files = _files_by_name(out)
    carves = []
    for line in (out / "audit.txt").read_text(errors="replace").splitlines():
        m = re.match(r"^(\S+)\s+(\d+)\s+(YES|NO)\s+(\d+)\s", line)
        if m:
            for path in files.get(m.group(1), []):
                carves.append(Carve(int(m.group(2)), int(m.group(4)), sha256_file(path), path.suffix[1:]))
    return carves


# --- running each tool ----------------------------------------------------------------------------


def ensure_carving_peers() -> dict[str, str]:
    """Install the peers that are missing the way deploy/install.sh does (apt-get); returns
    tool -> why it is still missing."""
    missing = {tool: pkg for tool, pkg in CARVING_PEERS.items() if not shutil.which(tool)}
    if not missing:
        return {}
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    why = "not root and no sudo"
    if prefix is not None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        pkgs = sorted(set(missing.values()))
        print(f"installing carving peers: apt-get install {' '.join(pkgs)}")
        subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True)
        done = subprocess.run(
            [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *pkgs],
            env=env,
            capture_output=True,
            text=True,
        )
        why = f"apt-get install failed: {tail(done.stderr)}"
    return {
        tool: f"not installed ({why}; Debian package {pkg})" for tool, pkg in missing.items() if not shutil.which(tool)
    }


def _run(name: str, image: Path, cmd: list[str], cwd: Path | None = None) -> tuple[ToolRun, bool]:
    seconds, error = run_warm(cmd, image, cwd)
    run = ToolRun(name, seconds)
    run.error = error
    return run, error is None


def run_quarry(image: Path, out: Path, jobs: int) -> ToolRun:
    cmd = [*quarry_command(), "carve", str(image), "--out", str(out), "--jobs", str(jobs)]
    run, ok = _run(f"quarry ({jobs} jobs)", image, cmd)
    if ok:
        run.carves, run.notes = quarry_carves(out)
    else:
        run.error = f"`quarry carve` did not run: {run.error}"
    return run


def run_photorec(image: Path, out: Path) -> ToolRun:
    out.mkdir(parents=True)
    # /cmd answers PhotoRec's menus: no partition table, paranoid checks, every file type it
    # knows, search the whole image. It writes recup_dir.N/ and recup_dir.1/report.xml.
    cmd = ["photorec", "/log", "/d", str(out / "recup_dir"), "/cmd", str(image), PHOTOREC_CMD]
    run, ok = _run("photorec", image, cmd, cwd=out)
    if ok:
        try:
            run.carves = photorec_carves(out)
        except RuntimeError as exc:
            log = out / "photorec.log"
            run.error = f"{exc}: {tail(log.read_text(errors='replace')) if log.exists() else 'no log'}"
    return run


def run_foremost(image: Path, out: Path) -> ToolRun:
    run, ok = _run("foremost", image, ["foremost", "-Q", "-i", str(image), "-o", str(out)])
    if ok:
        run.carves = foremost_carves(out)
    return run


def run_scalpel(image: Path, out: Path, work: Path) -> ToolRun:
    conf = work / "scalpel.conf"
    conf.write_text(SCALPEL_CONF.lstrip())
    run, ok = _run("scalpel", image, ["scalpel", "-c", str(conf), "-o", str(out), str(image)])
    if ok:
        run.carves = scalpel_carves(out)
    return run


# --- the benchmark ----------------------------------------------------------------------------------


COLUMNS = (
    ("tool", 18),
    ("MB/s", 8),
    ("intact byte-exact", 21),
    ("sector starts", 14),
    ("off-sector", 12),
    ("truncated flagged", 18),
    ("fragmented", 11),
    ("false positives", 20),
    ("quarry's speed", 15),
)


def _line(cells: list[str]) -> str:
    head, *rest = cells
    return f"  {head:<{COLUMNS[0][1]}}" + "".join(f"{c:>{w}}" for c, (_, w) in zip(rest, COLUMNS[1:], strict=True))


def _row(run: ToolRun, s: dict[str, Any] | None, mb: float, quarry: ToolRun) -> str:
    if run.error or s is None:
        return f"  {run.name:<{COLUMNS[0][1]}}NOT RUN: {run.error}"
    ratio = ""
    if quarry is not run and not quarry.error and quarry.seconds:
        ratio = f"{run.seconds / quarry.seconds:.2f}x"
    return _line(
        [
            run.name,
            f"{mb / run.seconds:.1f}" if run.seconds else "-",
            f"{s['intact_exact']}/{s['intact']} ({s['intact_exact_pct']:.1f} %)",
            "{}/{}".format(*s["intact_aligned"]),
            "{}/{}".format(*s["intact_unaligned"]),
            f"{s['truncated_flagged']}/{s['truncated']}",
            f"{s['fragmented_recovered']}/{s['fragmented']}",
            f"{s['false_positives']}/{s['carves']} ({s['false_positive_pct']:.2f} %)",
            ratio,
        ]
    )


def report(key: dict[str, Any], runs: list[ToolRun], scores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Print the table, the targets and Quarry's per-type recall; return the figures."""
    mb = key["size"] / 1e6
    quarry = runs[0]
    print(_line([name for name, _ in COLUMNS]))
    last_planted = max(i["offset"] for i in key["items"])
    for run in runs:
        print(_row(run, scores.get(run.name), mb, quarry))
        last = max((c.offset for c in run.carves), default=0)
        if run.name in scores and last < 0.9 * last_planted:
            run.notes.append(
                f"its last carve starts at {last / 1e6:.1f} MB; planted files run to {last_planted / 1e6:.1f} MB"
            )
        for note in run.notes:
            print(f"  {'':18} note: {note}")
    figures: dict[str, Any] = {"image_mb": round(mb, 1), "planted": len(key["items"])}
    for run in runs:
        s = scores.get(run.name)
        figures[run.name] = (
            {"error": run.error}
            if s is None
            else {
                "mb_s": round(mb / run.seconds, 1) if run.seconds else None,
                **{k: v for k, v in s.items() if k not in ("per_kind", "false_positive_offsets")},
            }
        )
    q = scores.get(quarry.name)
    photorec = next((r for r in runs if r.name == "photorec"), None)
    print("targets (issue 4):")
    if q is None:
        print(f"  quarry did not run: {quarry.error}")
        return figures
    ok = q["intact_exact_pct"] >= TARGETS["intact_exact_pct"]
    print(f"  intact byte-exact >= 98 %:           {q['intact_exact_pct']:6.2f} %   {'met' if ok else 'NOT MET'}")
    ok = q["false_positive_pct"] <= TARGETS["false_positive_pct"]
    print(f"  false positives <= 0.5 % of carves:  {q['false_positive_pct']:6.2f} %   {'met' if ok else 'NOT MET'}")
    if photorec is not None and not photorec.error and photorec.seconds and quarry.seconds:
        x = photorec.seconds / quarry.seconds
        figures["x_photorec"] = round(x, 2)
        print(
            f"  speed >= 3x PhotoRec's MB/s:         {x:6.2f} x   {'met' if x >= TARGETS['x_photorec'] else 'NOT MET'}"
        )
    else:
        print(
            f"  speed >= 3x PhotoRec's MB/s:         unknown (PhotoRec did not run: "
            f"{photorec.error if photorec else 'not in the run'})"
        )
    ran = [r for r in runs if r.name in scores]
    print("per type: intact byte-exact by each tool; Quarry's truncated flagged, fragmented recovered, false positives")
    head = f"  {'type':8}{'intact':>7}" + "".join(f"{r.name.split()[0]:>10}" for r in ran)
    print(head + f"{'truncated':>11}{'fragmented':>12}{'false pos.':>12}")
    for kind in sorted(q["per_kind"]):
        per = q["per_kind"][kind]
        cells = [str(scores[r.name]["per_kind"][kind].get("intact", [0, 0])[0]) for r in ran]
        extra = ["{}/{}".format(*per[st]) if st in per else "-" for st in ("truncated", "fragmented")]
        fp = q["false_positives_by_kind"].get(kind, 0)
        line = f"  {kind:8}{per.get('intact', [0, 0])[1]:>7}" + "".join(f"{c:>10}" for c in cells)
        print(line + f"{extra[0]:>11}{extra[1]:>12}{fp:>12}")
    others = {k: n for k, n in q["false_positives_by_kind"].items() if k not in q["per_kind"]}
    if others:
        print(f"  false positives of types not planted: {others}")
    if q["false_positive_offsets"]:
        print(f"  first false positive offsets: {q['false_positive_offsets'][:10]}")
    return figures


# The random data between planted files: the issue's own measurement had about 430 intact
# files in a GiB (spacing 30); the forge's default packs ten times as many (spacing 1),
# which weighs the per-file work (validation, SHA-256, writing) far more than the scan.
DENSITIES = (("as sparse as the issue's measurement", 30), ("ten times denser", 1))


def bench_carving(work: Path, size: int, seed: int, jobs: int = 2, image: Path | None = None) -> dict[str, Any]:
    """Run every tool on `image` (and its key), or on two forged corpora, one as sparse as
    the issue's own measurement and one ten times denser; score each."""
    if image is not None:
        return bench_corpus(work, image, json.loads(Path(f"{image}.key.json").read_text()), jobs)
    figures: dict[str, Any] = {}
    for what, spacing in DENSITIES:
        print(f"== carving corpus {what} (spacing {spacing})")
        corpus = work / f"corpus-{spacing}.img"
        key = forge_corpus(corpus, size, seed, spacing=spacing)
        figures[f"spacing_{spacing}"] = bench_corpus(work, corpus, key, jobs)
        corpus.unlink()
    return figures


def bench_corpus(work: Path, image: Path, key: dict[str, Any], jobs: int) -> dict[str, Any]:
    statuses = Counter(i["status"] for i in key["items"])
    print(
        f"carving corpus: {key['size'] >> 20} MiB, seed {key['seed']}, {len(key['items'])} planted files "
        f"({statuses['intact']} intact, {statuses['truncated']} truncated, {statuses['fragmented']} fragmented) "
        f"of {len(key['counts'])} types; not planted: {', '.join(sorted(key['left_out']))}"
    )
    missing = ensure_carving_peers()
    runs: list[ToolRun] = []
    scores: dict[str, dict[str, Any]] = {}
    tools = [
        ("quarry", lambda out: run_quarry(image, out, jobs)),
        ("photorec", lambda out: run_photorec(image, out)),
        ("foremost", lambda out: run_foremost(image, out)),
        ("scalpel", lambda out: run_scalpel(image, out, work)),
    ]
    for name, go in tools:
        if name in missing:
            runs.append(ToolRun(name, error=missing[name]))
            continue
        out = work / f"out-{name}"
        shutil.rmtree(out, ignore_errors=True)
        print(f"  running {name} ...", flush=True)
        run = go(out)
        runs.append(run)
        if not run.error:
            scores[run.name] = score(key, run.carves, QUARRY_TRUNCATED if name == "quarry" else None)
        shutil.rmtree(out, ignore_errors=True)
    print(f"carving ({key['size'] / 1e6:.0f} MB, each tool alone, page cache warm)")
    return report(key, runs, scores)


def main() -> None:
    bench_main(__doc__, "carving", bench_carving, "quarry carve --jobs")


if __name__ == "__main__":
    main()
