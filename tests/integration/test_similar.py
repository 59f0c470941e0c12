"""`quarry find --similar-to`: a document, an edited copy and an unrelated one planted in an
image; the ranking's scores equal the ssdeep tool's and py-tlsh's for the same files."""

from __future__ import annotations

import hashlib
import io
import random
import re
import subprocess
import zipfile

import tlsh

from cluster import api
from cluster.query import Query
from cluster.query_engine import catalog_for
from cluster.similar import find_similar


def stored_zip(text: str) -> bytes:
    """A ZIP whose member is stored uncompressed, so an edit stays local in the bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        info = zipfile.ZipInfo("report.txt", date_time=(2026, 1, 2, 3, 4, 6))
        z.writestr(info, text)
    return out.getvalue()


def words(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    vocab = ["evidence", "seized", "device", "ledger", "transfer", "account", "witness", "invoice", "meeting"]
    return [rng.choice(vocab) + str(rng.randrange(1000)) for _ in range(n)]


def ssdeep_score(a: bytes, b: bytes, tmp) -> int:
    """The reference tool's match score for two files (0 when it reports no match)."""
    (tmp / "a.bin").write_bytes(a)
    (tmp / "b.bin").write_bytes(b)
    known = subprocess.run(["ssdeep", "-s", str(tmp / "a.bin")], check=True, capture_output=True, text=True).stdout
    (tmp / "known.txt").write_text(known)
    out = subprocess.run(
        ["ssdeep", "-a", "-s", "-m", str(tmp / "known.txt"), str(tmp / "b.bin")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    m = re.search(r"\((\d+)\)\s*$", out.strip())
    return int(m.group(1)) if m else 0


def test_similar_artifacts_ranked_with_reference_scores(settings, store, tmp_path):
    base_words = words(1, 12000)
    edited_words = list(base_words)
    for i in range(0, len(edited_words), 1500):
        edited_words[i] = "REDACTED"
    base, edited, other = (
        stored_zip(" ".join(base_words)),
        stored_zip(" ".join(edited_words)),
        stored_zip(" ".join(words(2, 12000))),
    )
    image = bytearray(8 << 20)
    offsets = {"base": 1 << 20, "edited": (3 << 20) + 17, "other": (5 << 20) + 4096}
    for name, blob in (("base", base), ("edited", edited), ("other", other)):
        image[offsets[name] : offsets[name] + len(blob)] = blob
    path = tmp_path / "similar.dd"
    path.write_bytes(bytes(image))

    job = api.wait(settings, api.submit(settings, "similar", [str(path)]).id)
    assert job.state == "done", job.error
    query = Query(cases=("similar",), limit=20)
    ref, rows = find_similar(catalog_for(store.config), store, query, hashlib.sha256(base).hexdigest(), 1, 300)

    want_edited = ssdeep_score(base, edited, tmp_path)
    assert want_edited >= 50, "the edited copy is similar by the reference tool's measure"
    top = rows[0]
    assert (top["sha256"], top["offset"]) == (hashlib.sha256(edited).hexdigest(), offsets["edited"])
    assert (top["case"], top["job"]) == ("similar", job.id)
    assert top["ssdeep_score"] == want_edited
    assert top["tlsh_distance"] == tlsh.diff(tlsh.hash(base), tlsh.hash(edited))
    for row in rows[1:]:
        assert row["sha256"] == hashlib.sha256(other).hexdigest()
        assert row["ssdeep_score"] == ssdeep_score(base, other, tmp_path)
        assert row["tlsh_distance"] == tlsh.diff(tlsh.hash(base), tlsh.hash(other))
    assert ref.ssdeep.split(":")[0] and all(r["sha256"] != ref.sha256 for r in rows)
