"""A qcow2 whose chunk table points one cluster past the end of the file: that cluster
cannot be read, everything else is. The job still finishes: the cluster is named as
unreadable (hashed and carved as zeros), and the files around it are extracted."""

from __future__ import annotations

import csv
import hashlib
import io
import struct

import pyarrow.parquet as pq

from cluster import api
from cluster.cli import main
from cluster.results import manifest_key
from tests.integration.conftest import cli_env
from workers.store import RESULTS


def corrupt_one_cluster(source: bytes) -> tuple[bytes, int, int]:
    """Point the L2 entry of the third allocated cluster beyond the file; returns the new
    bytes, that cluster's media offset and the cluster size (read from the qcow2 header)."""
    data = bytearray(source)
    _, _, _, _, cluster_bits, _, _, l1_size, l1_offset = struct.unpack_from(">IIQIIQIIQ", data, 0)
    cluster = 1 << cluster_bits
    l2_offset = struct.unpack_from(">Q", data, l1_offset)[0] & 0x00FF_FFFF_FFFF_FE00
    entries = struct.unpack_from(f">{cluster // 8}Q", data, l2_offset)
    index = [i for i, e in enumerate(entries) if e][2]
    struct.pack_into(">Q", data, l2_offset + 8 * index, (1 << 63) | (len(data) * 4 & 0x00FF_FFFF_FFFF_FE00))
    return bytes(data), index * cluster, cluster


def test_an_unreadable_cluster_is_named_and_the_rest_processed(
    settings, store, minio, ray_cluster, testdata, tmp_path, monkeypatch, capsys
):
    damaged, offset, cluster = corrupt_one_cluster((testdata / "dfvfs-ext2/ext2.qcow2").read_bytes())
    path = tmp_path / "damaged.qcow2"
    path.write_bytes(damaged)
    raw = b"".join((testdata / f"dfvfs-ext2/ext2.splitraw.00{i}").read_bytes() for i in (0, 1))
    zeroed = raw[:offset] + bytes(cluster) + raw[offset + cluster :]

    job = api.wait(settings, api.submit(settings, "damaged", [str(path)]).id)
    assert job.state == "done", job.error
    img = job.summary["images"][0]
    assert [(u["offset"], u["length"]) for u in img["unreadable"]] == [(offset, cluster)]
    assert img["digests"]["sha256"] == hashlib.sha256(zeroed).hexdigest()
    assert job.summary["unreadable_bytes"] == cluster
    # TSK reads the bad cluster as zeros, so the filesystem still opens and every file is
    # still listed and extracted (in this small volume their data lies in that cluster).
    assert img["filesystems"] == ["ext2 at 0 (whole image)"]
    bad = [w for w in img["warnings"] if "unreadable, read as zeros" in w]
    spans = [tuple(map(int, w.split("media ", 1)[1].split(" ", 1)[0].split("+"))) for w in bad]
    assert spans and all(offset <= start and start + length <= offset + cluster for start, length in spans)
    rows = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id)))).to_pylist()
    extracted = {r["path"]: r["length"] for r in rows if r["origin"] == "allocated"}
    with open(testdata / "truth/dfvfs__ext2.qcow2/fs00_o0/files.tsv", newline="") as f:
        truth = {r["path"]: int(r["fls_size"]) for r in csv.DictReader(f, delimiter="\t")}
    assert extracted == truth

    for name, value in cli_env(minio.config, tmp_path / "home", ray_cluster["gcs_address"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert main(["submit", "--case", "damaged", str(path)]) == 3
    out, err = capsys.readouterr()
    assert f"UNREADABLE media {offset}+{cluster}" in out and "UNREADABLE MEDIA" in err
