"""Benchmarks against the tools a lab would otherwise run, same input, same run.

Hashing: Quarry's one-pass MD5+SHA-1+SHA-256 vs hashdeep (same three digests), md5sum and
sha256sum. Carving: Quarry's carver vs foremost, speed and byte-exact recall against the
forged image's answer key. Prints MB/s and ratios. Run with `make bench`; never part of tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import rust_core
from cluster.forge import forge_image
from cluster.planning import plan_segments
from workers.carving import carve_segment
from workers.evidence import ImageRef, RawImage
from workers.hashing import hash_image_local

PEERS = {"hashdeep": "hashdeep", "foremost": "foremost", "md5sum": "coreutils", "sha256sum": "coreutils"}
FILES = ("jpeg", "png", "pdf", "zip")


def ensure_peers() -> None:
    missing = sorted({pkg for tool, pkg in PEERS.items() if not shutil.which(tool)})
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def timed(fn) -> tuple[float, object]:  # noqa: ANN001
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def drop_to_cache(path: Path) -> None:
    """Read once so every contender starts from the page cache (a fair, repeatable start)."""
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def quarry_carve(path: Path) -> set[tuple[int, int]]:
    """The carve step's own loop over 32 MiB segments, on one core, without storage."""
    carver, found = rust_core.Carver(), set()
    with RawImage(path) as img:
        for seg in plan_segments(img.ref(), 0, 32 << 20, 1 << 20):
            for carve, _ in carve_segment(carver, img, seg):
                if carve.status == "complete":
                    found.add((carve.offset, carve.length))
    return found


def foremost_recall(path: Path, out: Path, key: dict) -> int:
    subprocess.run(
        ["foremost", "-Q", "-t", "jpg,png,pdf,zip", "-i", str(path), "-o", str(out)], check=True, capture_output=True
    )
    wanted = {i["sha256"] for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"}
    got = set()
    for f in out.rglob("*"):
        if f.is_file() and f.name != "audit.txt":
            got.add(hashlib.sha256(f.read_bytes()).hexdigest())
    return len(wanted & got)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    ensure_peers()
    with tempfile.TemporaryDirectory(prefix="quarry-bench-") as tmp:
        image = Path(tmp) / "bench.img"
        key = forge_image(image, args.size_mib << 20, args.seed)
        mb = key["size"] / 1e6
        drop_to_cache(image)
        print(f"input: forged image {args.size_mib} MiB, seed {args.seed}, {len(key['items'])} planted items\n")

        t_q, d = timed(lambda: hash_image_local(ImageRef(str(image), key["size"]), 0))
        assert d.sha256 == key["sha256"]
        rows = [("quarry md5+sha1+sha256", t_q)]
        for name, cmd in [
            ("hashdeep md5+sha1+sha256", ["hashdeep", "-c", "md5,sha1,sha256", str(image)]),
            ("md5sum", ["md5sum", str(image)]),
            ("sha256sum", ["sha256sum", str(image)]),
        ]:
            t, _ = timed(lambda cmd=cmd: subprocess.run(cmd, check=True, capture_output=True))
            rows.append((name, t))
        print("hashing")
        for name, t in rows:
            print(f"  {name:28} {mb / t:8.1f} MB/s   quarry is {t / t_q:5.2f}x its speed")

        intact = {(i["offset"], i["length"]) for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"}
        t_c, found = timed(lambda: quarry_carve(image))
        t_f, recall_f = timed(lambda: foremost_recall(image, Path(tmp) / "foremost", key))
        print("\ncarving (JPEG, PNG, PDF, ZIP; byte-exact recall of intact planted files)")
        print(f"  {'quarry (1 core)':28} {mb / t_c:8.1f} MB/s   recall {len(found & intact)}/{len(intact)}")
        print(
            f"  {'foremost':28} {mb / t_f:8.1f} MB/s   recall {recall_f}/{len(intact)}   "
            f"quarry is {t_f / t_c:5.2f}x its speed"
        )
        print(json.dumps({"hash_mb_s": round(mb / t_q, 1), "carve_mb_s": round(mb / t_c, 1)}))


if __name__ == "__main__":
    main()
