"""`quarry forge`: deterministic images whose answer key matches the bytes on disk."""

import hashlib

from cluster.forge import forge_image


def test_every_planted_item_is_where_the_key_says(forged):
    path, key = forged
    data = path.read_bytes()
    assert len(data) == key["size"] == 64 << 20
    assert hashlib.sha256(data).hexdigest() == key["sha256"]
    for item in key["items"]:
        planted = data[item["offset"] : item["offset"] + item["length"]]
        assert hashlib.sha256(planted).hexdigest() == item["sha256"], item


def test_key_covers_the_promised_situations(forged):
    _, key = forged
    items = key["items"]
    for kind in ("jpeg", "png", "pdf", "zip"):
        mine = [i for i in items if i["kind"] == kind]
        assert any(i["status"] == "intact" for i in mine), kind
        assert any(i["status"] == "truncated" for i in mine), kind
        assert any(not i["aligned"] for i in mine), kind
        assert any(i["after"] == "zeros" for i in mine) and any(i["after"] == "random" for i in mine), kind
    assert any(i["kind"] == "email" and "@" in i["value"] for i in items)
    assert any(i["kind"] == "url" and i["value"].startswith("https://") for i in items)
    offsets = sorted((i["offset"], i["offset"] + i["length"]) for i in items)
    assert all(end <= nxt for (_, end), (nxt, _) in zip(offsets, offsets[1:], strict=False)), "items overlap"


def test_planted_files_start_with_their_magic(forged):
    path, key = forged
    magic = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-1.", "zip": b"PK\x03\x04"}
    with open(path, "rb") as f:
        for item in key["items"]:
            if item["kind"] in magic:
                f.seek(item["offset"])
                assert f.read(len(magic[item["kind"]])) == magic[item["kind"]]


def test_same_seed_same_image_other_seed_other_image(tmp_path):
    a = forge_image(tmp_path / "a.img", 2 << 20, seed=5)
    b = forge_image(tmp_path / "b.img", 2 << 20, seed=5)
    c = forge_image(tmp_path / "c.img", 2 << 20, seed=6)
    assert a["sha256"] == b["sha256"] == hashlib.sha256((tmp_path / "a.img").read_bytes()).hexdigest()
    assert a["items"] == b["items"]
    assert c["sha256"] != a["sha256"]
