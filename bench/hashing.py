"""Image hashing: Quarry's one pass vs hashdeep, dc3dd, md5sum and sha256sum on one file.

Quarry runs the hash step's own loop (workers.hashing.hash_stream), with and without the
1 MiB piecewise windows a job keeps. The digests are checked against the forge's key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.common import best_of, run_tool
from workers.hashing import HashPlan, hash_stream
from workers.images import open_image


class Discard:
    """A window sink that keeps nothing (the bench measures hashing, not uploading)."""

    def write_table(self, table: pa.Table) -> None:
        pass


def quarry_pass(image: Path, plan: HashPlan) -> dict[str, str]:
    with open_image(image) as img:
        digests, _ = hash_stream(img, plan, Discard())
    return digests


def bench_hashing(image: Path, sha256: str, repeat: int) -> dict[str, Any]:
    mb = image.stat().st_size / 1e6
    three = ("md5", "sha1", "sha256")
    rows: list[tuple[str, float]] = []
    for label, plan in [
        ("quarry md5+sha1+sha256", HashPlan(three, 0)),
        ("quarry same + 1 MiB blake3 windows", HashPlan(three, 1 << 20, ("blake3",))),
        ("quarry same + 1 MiB sha256 windows", HashPlan(three, 1 << 20, ("sha256",))),
    ]:
        t, digests = best_of(repeat, lambda plan=plan: quarry_pass(image, plan))
        assert digests["sha256"] == sha256, "quarry's digest differs from the forge's key"
        rows.append((label, t))
    peers = [
        ("hashdeep -c md5,sha1,sha256", ["hashdeep", "-c", "md5,sha1,sha256", str(image)]),
        ("dc3dd hash=md5 hash=sha256", ["dc3dd", f"if={image}", "hash=md5", "hash=sha256", "of=/dev/null"]),
        ("md5sum", ["md5sum", str(image)]),
        ("sha256sum", ["sha256sum", str(image)]),
    ]
    for label, cmd in peers:
        t, _ = best_of(repeat, lambda cmd=cmd: run_tool(cmd))
        rows.append((label, t))
    t_q = rows[0][1]
    print(f"hashing ({mb:.0f} MB, best of {repeat} runs each, page cache warm)")
    for label, t in rows:
        print(f"  {label:36} {t:6.2f} s {mb / t:8.1f} MB/s   quarry md5+sha1+sha256 is {t / t_q:5.2f}x its speed")
    speeds = {label: mb / t for label, t in rows}
    return {
        "quarry_mb_s": round(speeds["quarry md5+sha1+sha256"], 1),
        "quarry_job_pass_mb_s": round(speeds["quarry same + 1 MiB blake3 windows"], 1),
        "x_hashdeep": round(speeds["quarry md5+sha1+sha256"] / speeds["hashdeep -c md5,sha1,sha256"], 2),
        "of_md5sum": round(speeds["quarry md5+sha1+sha256"] / speeds["md5sum"], 3),
    }
