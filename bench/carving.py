"""Carving: Quarry's carver (the carve step's own loop, one core) vs foremost, speed and
byte-exact recall of the forged image's intact planted files."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import rust_core
from bench.common import timed
from cluster.planning import plan_segments
from workers.carving import carve_segment
from workers.evidence import RawImage

FILES = ("jpeg", "png", "pdf", "zip")


def quarry_carve(path: Path) -> set[tuple[int, int]]:
    carver, found = rust_core.Carver(), set()
    with RawImage(path) as img:
        for seg in plan_segments(img.ref(), 0, 32 << 20, 1 << 20):
            for carve, _ in carve_segment(carver, img, seg):
                if carve.status == "complete":
                    found.add((carve.offset, carve.length))
    return found


def foremost_recall(path: Path, out: Path, key: dict[str, Any]) -> int:
    subprocess.run(
        ["foremost", "-Q", "-t", "jpg,png,pdf,zip", "-i", str(path), "-o", str(out)], check=True, capture_output=True
    )
    wanted = {i["sha256"] for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"}
    got = set()
    for f in out.rglob("*"):
        if f.is_file() and f.name != "audit.txt":
            got.add(hashlib.sha256(f.read_bytes()).hexdigest())
    return len(wanted & got)


def bench_carving(image: Path, key: dict[str, Any], work: Path) -> dict[str, Any]:
    mb = key["size"] / 1e6
    intact = {(i["offset"], i["length"]) for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"}
    t_c, found = timed(lambda: quarry_carve(image))
    t_f, recall_f = timed(lambda: foremost_recall(image, work / "foremost", key))
    print("carving (JPEG, PNG, PDF, ZIP; byte-exact recall of intact planted files)")
    print(f"  {'quarry (1 core)':36} {mb / t_c:8.1f} MB/s   recall {len(found & intact)}/{len(intact)}")
    print(
        f"  {'foremost':36} {mb / t_f:8.1f} MB/s   recall {recall_f}/{len(intact)}   "
        f"quarry is {t_f / t_c:5.2f}x its speed"
    )
    return {"carve_mb_s": round(mb / t_c, 1), "x_foremost": round(t_f / t_c, 2)}
