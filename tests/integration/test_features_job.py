"""Feature scanning in a cluster job, with a real Ray and a real MinIO: published values
planted at chosen offsets come back at those offsets, a value inside a carved ZIP carries
the ZIP's forensic path and its offset in it, the job's histograms count what was planted,
and `quarry find --feature` redacts sensitive values unless asked to reveal them."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cluster import api
from cluster.cli import main
from cluster.results import features_key, histograms_key
from tests.conftest import e2fs
from tests.integration.conftest import cli_env
from workers.store import RESULTS

GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"  # Bitcoin's genesis address
CARD = "4111111111111111"  # the card networks' Visa test number
MAIL = "suspect@example.net"


def stored_zip(member: bytes) -> bytes:
    """A ZIP storing `member` uncompressed, so its bytes are visible in the image."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("notes.txt", member)
    return out.getvalue()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[int]], int, int]:
    """An image of non-text bytes with plants (some across the 4 MiB segment edges of the
    test settings) and a ZIP whose member holds MAIL; offsets of each, the ZIP's offset and
    MAIL's offset inside the ZIP."""
    rng = random.Random(9)
    path = tmp_path_factory.mktemp("features") / "img.raw"
    out, where = io.BytesIO(), {GENESIS: [], CARD: [], MAIL: []}

    def filler(n: int) -> None:
        out.write(bytes(rng.randrange(0x80, 0x100) for _ in range(n)))

    for text, at in ((GENESIS, (4 << 20) - 10), (CARD, (8 << 20) - 3), (GENESIS, 9 << 20)):
        filler(at - out.tell())
        out.write(b" ")
        where[text].append(out.tell())
        out.write(text.encode() + b"\n")
    filler(50_000)
    zip_at = out.tell()
    member = b"call me at " + MAIL.encode() + b" tonight\n"
    data = stored_zip(member)
    out.write(data)
    mail_in_zip = data.index(MAIL.encode())
    where[MAIL].append(zip_at + mail_in_zip)
    filler(70_000)
    path.write_bytes(out.getvalue())
    return path, where, zip_at, mail_in_zip


@pytest.fixture(scope="module")
def job(settings, store, planted):
    done = api.wait(settings, api.submit(settings, "case-features", [str(planted[0])]).id)
    assert done.state == "done", done.error
    return done


def test_planted_values_at_their_offsets(job, store, planted) -> None:
    _, where, zip_at, mail_in_zip = planted
    rows = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, features_key(job.case, job.id)))).to_pylist()
    found = sorted((r["value"], r["offset"]) for r in rows if r["kind"] in ("bitcoin", "ccn", "email"))
    assert found == sorted((value, o) for value, offsets in where.items() for o in offsets)
    mail = next(r for r in rows if r["kind"] == "email")
    assert (mail["artifact_path"], mail["artifact_offset"]) == (f"carved/zip/{zip_at}", mail_in_zip)
    assert mail["artifact_sha256"] is not None
    assert all(r["artifact_path"] is None for r in rows if r["kind"] == "bitcoin")
    assert job.summary["features"]["by_kind"] == {"bitcoin": 2, "ccn": 1, "domain": 1, "email": 1}


def test_histograms_count_what_was_planted(job, store) -> None:
    table = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, histograms_key(job.case, job.id)))).to_pylist()
    counts = {(r["kind"], r["value"]): r["count"] for r in table}
    assert counts == {("bitcoin", GENESIS): 2, ("ccn", CARD): 1, ("email", MAIL): 1, ("domain", "example.net"): 1}


def test_a_hit_inside_a_filesystem_file_names_the_file(settings, store, tmp_path) -> None:
    # The e-mail sits 3000 bytes into a file of an ext4 filesystem (1 KiB blocks, so the
    # file spans blocks); where the image holds it is found with bytes.find, not Quarry.
    src = tmp_path / "src"
    (src / "mail").mkdir(parents=True)
    (src / "mail" / "draft.txt").write_bytes(b"x" * 3000 + b" write to " + MAIL.encode() + b" soon\n")
    image = tmp_path / "ext4.img"
    e2fs("mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-d", str(src), str(image), "8M")
    at = image.read_bytes().index(MAIL.encode())
    done = api.wait(settings, api.submit(settings, "case-features-fs", [str(image)]).id)
    assert done.state == "done", done.error
    rows = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, features_key(done.case, done.id)))).to_pylist()
    mail = [r for r in rows if r["kind"] == "email"]
    assert [(r["offset"], r["artifact_path"], r["artifact_offset"]) for r in mail] == [
        (at, "fs@0:/mail/draft.txt", 3000 + len(" write to "))
    ]


def test_find_redacts_sensitive_values_unless_revealed(job, minio, ray_cluster, tmp_path, monkeypatch, capsys):
    for name, value in cli_env(minio.config, tmp_path / "home", ray_cluster["gcs_address"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert main(["find", "--feature", "ccn", "--case", "case-features"]) == 0
    out, err = capsys.readouterr()
    assert "411111******1111" in out and CARD not in out and "--reveal" in err
    assert (
        main(["find", "--feature", "ccn", "--case", "case-features", "--reveal", "--reason", "test of the reveal"]) == 0
    )
    assert CARD in capsys.readouterr().out
    assert main(["find", "--feature", "bitcoin", GENESIS, "--case", "case-features"]) == 0
    assert capsys.readouterr().out.count(GENESIS) == 2
    assert main(["find", "--feature", "monero", "--case", "case-features"]) == 1
