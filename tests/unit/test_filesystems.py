"""The filesystem walk, content streaming and unallocated runs against published answers:
../shared/testdata/truth/<container>/fs00_o0 (files.tsv hashes, the mactime body file, fls
listing and blkls digests, made there with The Sleuth Kit's own tools) for every container of
the two public filesystems, and fiwalk's DFXML for image.dd."""

from __future__ import annotations

import hashlib
import shutil
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from workers.filesystems import Entry, Filesystem, FilesystemError, open_filesystem, read_content, safe_name, walk
from workers.images import open_image
from workers.tsk_image import TskImage
from workers.unallocated import unallocated_runs
from workers.volumes import find_filesystems

CONTAINERS = {
    "dfvfs__ext2.splitraw": ("dfvfs-ext2/ext2.splitraw.000", "ext2"),
    "dfvfs__ext2.E01": ("dfvfs-ext2/ext2.E01", "ext2"),
    "dfvfs__ext2.split.E01": ("dfvfs-ext2/ext2.split.E01", "ext2"),
    "dfvfs__ext2.qcow2": ("dfvfs-ext2/ext2.qcow2", "ext2"),
    "dfvfs__ext2.vmdk": ("dfvfs-ext2/ext2.vmdk", "ext2"),
    "dfvfs__ext2.vhd": ("dfvfs-ext2/ext2.vhd", "ext2"),
    "sleuthkit__image.dd": ("sleuthkit/image.dd", "ext2"),
    "sleuthkit__image.E01": ("sleuthkit/image.E01", "ext2"),
    "sleuthkit__image.qcow": ("sleuthkit/image.qcow", "ext2"),
    "sleuthkit__image.vmdk": ("sleuthkit/image.vmdk", "ext2"),
    "sleuthkit__image.vhd": ("sleuthkit/image.vhd", "ext2"),
    "sleuthkit__image.iso": ("sleuthkit/image.iso", "iso9660"),
}
LETTERS = {"file": "r", "dir": "d", "link": "l", "virtual-dir": "V", "virtual": "v", "fifo": "p", "socket": "s"}
MMLS_1 = "sleuthkit/imageformat_mmls_1.E01"


# ---- the published answers, read in their own formats --------------------------------------


def truth_files(testdata: Path, name: str) -> dict[str, dict[str, str]]:
    """files.tsv: path -> row (inode, flags, fls_size, icat_bytes, md5, sha1, sha256)."""
    lines = (testdata / "truth" / name / "fs00_o0" / "files.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return {row["path"]: row for row in (dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:])}


def truth_body(testdata: Path, name: str) -> dict[str, dict]:
    """bodyfile.txt (md5|name|inode|mode|uid|gid|size|atime|mtime|ctime|crtime): path -> fields,
    with fls's " (deleted)" and " -> target" decorations taken off the name."""
    out = {}
    for line in (testdata / "truth" / name / "fs00_o0" / "bodyfile.txt").read_text().splitlines():
        md5, path, inode, mode, uid, gid, size, atime, mtime, ctime, crtime = line.split("|")
        deleted = path.endswith(" (deleted)")
        path = path.removesuffix(" (deleted)")
        target = None
        if mode[2] == "l" and " -> " in path:
            path, target = path.split(" -> ", 1)
        out[path] = {
            "inode": int(inode.split("-")[0]),
            "mode": mode,
            "uid": int(uid),
            "gid": int(gid),
            "size": int(size),
            "atime": int(atime),
            "mtime": int(mtime),
            "ctime": int(ctime),
            "crtime": int(crtime),
            "deleted": deleted,
            "target": target,
        }
    return out


def truth_fls(testdata: Path, name: str) -> dict[str, tuple[str, bool, int]]:
    """fls_rpl.txt: "/" + path -> (type letters, deleted mark `*`, inode)."""
    out = {}
    for line in (testdata / "truth" / name / "fs00_o0" / "fls_rpl.txt").read_text().splitlines():
        head, path = line.split("\t")[:2]
        kinds, *rest = head.rstrip(":").split()
        out["/" + path] = (kinds, rest[0] == "*", int(rest[-1].split("-")[0]))
    return out


def truth_unalloc(testdata: Path, name: str) -> dict[str, str]:
    lines = (testdata / "truth" / name / "fs00_o0" / "unalloc.txt").read_text().splitlines()[1:]
    return dict(line.split("\t") for line in lines)


# ---- helpers --------------------------------------------------------------------------------


@contextmanager
def opened(base: Path, rel: str, offset: int = 0) -> Iterator[Filesystem]:
    with open_image(base / rel) as media:
        yield open_filesystem(TskImage(media), offset)


@pytest.fixture(params=sorted(CONTAINERS))
def container(request, testdata) -> Iterator[tuple[str, Filesystem, list[Entry], list[str]]]:
    name = request.param
    rel, fs_type = CONTAINERS[name]
    with open_image(testdata / rel) as media:
        image = TskImage(media)
        layout = find_filesystems(image)
        assert [(f.offset, f.fs_type, f.partition) for f in layout.filesystems] == [(0, fs_type, None)]
        assert layout.warnings == [] and layout.volume_system is None
        fs = open_filesystem(image, 0)
        warnings: list[str] = []
        entries = list(walk(fs, warnings.append))
        yield name, fs, entries, warnings


def digests(fs: Filesystem, entry: Entry, chunk_size: int = 1 << 20) -> tuple[int, dict[str, str]]:
    hashers = {a: hashlib.new(a) for a in ("md5", "sha1", "sha256")}
    total = 0
    for chunk in read_content(fs, entry, chunk_size):
        assert 0 < len(chunk) <= chunk_size
        total += len(chunk)
        for h in hashers.values():
            h.update(chunk)
    return total, {a: h.hexdigest() for a, h in hashers.items()}


def permissions(mode: int) -> str:
    bits = "rwxrwxrwx"
    return "".join(b if mode & (1 << (8 - i)) else "-" for i, b in enumerate(bits))


# ---- every container against its published answers ----------------------------------------


def test_regular_files_and_their_digests_equal_files_tsv(testdata, container):
    name, fs, entries, warnings = container
    want = truth_files(testdata, name)
    files = [e for e in entries if e.kind == "file" and e.meta_allocated is not None]
    assert {e.path: (e.inode, e.size) for e in files} == {
        p: (int(r["inode"]), int(r["fls_size"])) for p, r in want.items()
    }
    for entry in files:
        row = want[entry.path]
        assert entry.allocation == "allocated" and row["flags"] == "alloc"
        # a tiny chunk size proves the stream is chunked, not read whole
        total, got = digests(fs, entry, chunk_size=7)
        assert total == int(row["icat_bytes"])
        assert got == {a: row[a] for a in ("md5", "sha1", "sha256")}, entry.path
    assert warnings == []


def test_every_name_and_its_macb_times_equal_the_body_file(testdata, container):
    name, _, entries, _ = container
    body = truth_body(testdata, name)
    ours = {e.path: e for e in entries}
    assert set(ours) == set(body)
    for path, want in body.items():
        e = ours[path]
        assert e.inode == want["inode"], path
        assert e.size == want["size"], path
        for t in ("atime", "mtime", "ctime", "crtime"):
            assert (getattr(e, t) or 0) == want[t], (path, t)
        assert (e.allocation == "deleted") == want["deleted"], path
        meta_letter = LETTERS[e.kind] if e.meta_allocated is not None else "-"
        assert want["mode"][:3] == f"{LETTERS[e.name_kind]}/{meta_letter}", path
        assert want["mode"][3:] == permissions(e.mode or 0), path
        assert (e.uid or 0, e.gid or 0) == (want["uid"], want["gid"]), path
        assert e.link_target == want["target"], path


def test_listing_types_and_deleted_marks_equal_fls(testdata, container):
    name, _, entries, _ = container
    fls = truth_fls(testdata, name)
    ours = {e.path: e for e in entries}
    assert set(ours) == set(fls)
    for path, (kinds, deleted, inode) in fls.items():
        e = ours[path]
        meta_letter = LETTERS[e.kind] if e.meta_allocated is not None else "-"
        assert kinds == f"{LETTERS[e.name_kind]}/{meta_letter}", path
        assert (e.allocation in ("deleted", "reallocated")) == deleted, path
        assert e.inode == inode, path


def test_unallocated_runs_equal_blkls(testdata, container):
    name, fs, _, _ = container
    want = truth_unalloc(testdata, name)
    runs = list(unallocated_runs(fs))
    hashers = {a: hashlib.new(a) for a in ("md5", "sha1", "sha256")}
    previous_end = -1
    for offset, length in runs:
        assert offset > previous_end, "runs are sorted, disjoint and merged"
        previous_end = offset + length
        data = fs.image.media.read_at(offset, length)
        for h in hashers.values():
            h.update(data)
    assert sum(length for _, length in runs) == int(want["bytes"])
    assert {a: h.hexdigest() for a, h in hashers.items()} == {a: want[a] for a in ("md5", "sha1", "sha256")}


def test_unallocated_runs_do_not_depend_on_the_walk_window(testdata):
    with opened(testdata, "dfvfs-ext2/ext2.qcow2") as fs:
        assert list(unallocated_runs(fs, window=3)) == list(unallocated_runs(fs))


# ---- deleted names --------------------------------------------------------------------------


def test_deleted_names_are_reported_as_deleted(testdata):
    with opened(testdata, "sleuthkit/image.E01") as fs:
        entries = {e.path: e for e in walk(fs, pytest.fail)}
    for path in ("/a_directory/.another_file.swp", "/a_directory/another_file~"):
        e = entries[path]
        assert (e.allocation, e.name_allocated, e.meta_allocated, e.inode) == ("deleted", False, None, 0)
        assert (e.kind, e.size, e.mtime, e.has_content) == ("file", 0, None, False)
        assert list(read_content(fs, e)) == []
    assert entries["/passwords.txt"].allocation == "allocated"
    assert entries["/$OrphanFiles"].kind == "virtual-dir"


# ---- fiwalk's DFXML for image.dd ------------------------------------------------------------


def test_image_dd_equals_fiwalk_dfxml(testdata):
    ns = {"d": "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"}
    root = ET.parse(testdata / "sleuthkit/expected/fiwalk_image_dd.xml").getroot()
    want = {}
    for obj in root.iterfind(".//d:fileobject", ns):
        path = obj.findtext("d:filename", namespaces=ns)
        if path.rsplit("/", 1)[-1] in (".", ".."):
            continue  # the directory's own links, which a walk does not list as names
        want["/" + path] = {
            "alloc_name": obj.findtext("d:alloc_name", namespaces=ns),
            "inode": obj.findtext("d:inode", namespaces=ns),
            "size": obj.findtext("d:filesize", namespaces=ns),
            "md5": obj.findtext("d:hashdigest[@type='md5']", namespaces=ns),
            "sha1": obj.findtext("d:hashdigest[@type='sha1']", namespaces=ns),
        }
    with opened(testdata, "sleuthkit/image.dd") as fs:
        ours = {e.path: e for e in walk(fs, pytest.fail)}
        assert set(ours) == set(want)
        hashed = 0
        for path, w in want.items():
            e = ours[path]
            assert (e.allocation == "allocated") == (w["alloc_name"] == "1"), path
            if w["inode"] is not None:
                assert (e.inode, e.size) == (int(w["inode"]), int(w["size"])), path
            if w["md5"]:  # files, directories and the symlink: fiwalk hashes each one's content
                _, got = digests(fs, e)
                assert (got["md5"], got["sha1"]) == (w["md5"], w["sha1"]), path
                hashed += 1
        assert hashed == 6


# ---- NTFS: named streams, nanoseconds, the $Bitmap ------------------------------------------


def ntfs_geometry(testdata: Path, offset: int) -> tuple[int, int]:
    """(cluster size, cluster count) from the NTFS boot sector, read here with struct."""
    with open_image(testdata / MMLS_1) as media:
        boot = media.read_at(offset, 512)
    assert boot[3:11] == b"NTFS    "
    sector, per_cluster = struct.unpack_from("<HB", boot, 0x0B)
    (total_sectors,) = struct.unpack_from("<Q", boot, 0x28)
    return sector * per_cluster, total_sectors // per_cluster


def test_ntfs_named_data_streams_are_entries_of_their_own(testdata):
    cluster, clusters = ntfs_geometry(testdata, 65536)
    with opened(testdata, MMLS_1, 65536) as fs:
        entries = {e.path: e for e in walk(fs, pytest.fail)}
        streams = {p: e for p, e in entries.items() if e.stream is not None}
        # streams every NTFS volume carries (NTFS's own metadata files)
        for path in ("/$BadClus:$Bad", "/$Secure:$SDS", "/$UpCase:$Info"):
            e = streams[path]
            assert (e.kind, e.attr_type) == ("stream", 128)
            assert e.inode == entries[path.split(":")[0]].inode
        assert streams["/$BadClus:$Bad"].size == cluster * clusters  # one sparse run as big as the volume
        assert streams["/$UpCase:$Info"].size == 32
        assert all(":" not in p for p, e in entries.items() if e.stream is None)
        upcase = entries["/$UpCase"]
        assert (upcase.size, upcase.attr_type, upcase.attr_id) == (131072, 128, 1)  # its unnamed $DATA
        table = b"".join(read_content(fs, upcase, chunk_size=4096))
        assert [struct.unpack_from("<H", table, 2 * c)[0] for c in range(128)] == [
            ord(chr(c).upper()) for c in range(128)
        ]
        sds = streams["/$Secure:$SDS"]
        assert digests(fs, sds)[0] == sds.size
        assert any(e.mtime_ns for e in entries.values()), "NTFS keeps 100 ns times"
        assert all(e.mtime_ns % 100 == 0 for e in entries.values() if e.mtime_ns is not None)


def test_ntfs_unallocated_runs_equal_the_zero_bits_of_bitmap(testdata):
    cluster, clusters = ntfs_geometry(testdata, 65536)
    with opened(testdata, MMLS_1, 65536) as fs:
        bitmap_entry = next(e for e in walk(fs, pytest.fail) if e.path == "/$Bitmap")
        bitmap = b"".join(read_content(fs, bitmap_entry))
        runs, start = [], None
        for c in range(clusters + 1):
            free = c < clusters and not (bitmap[c // 8] >> (c % 8)) & 1
            if free and start is None:
                start = c
            elif not free and start is not None:
                runs.append((65536 + start * cluster, (c - start) * cluster))
                start = None
        assert runs and list(unallocated_runs(fs)) == runs


# ---- damaged and hostile filesystems --------------------------------------------------------


def patched_image_dd(testdata: Path, tmp_path: Path, name: str, patches: dict[bytes, bytes]) -> Path:
    """A copy of image.dd with directory entry bytes replaced in place (same lengths, so the
    filesystem stays otherwise valid)."""
    data = bytearray((testdata / "sleuthkit/image.dd").read_bytes())
    for old, new in patches.items():
        assert len(old) == len(new) and data.count(old) == 1
        at = data.index(old)
        data[at : at + len(old)] = new
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def test_hostile_names_are_escaped_not_interpreted(testdata, tmp_path):
    raw = b"../\x01\xff\xc3(\n\\\xe2\x80\xaez"  # 13 bytes, as long as "passwords.txt"
    path = patched_image_dd(testdata, tmp_path, "names.dd", {b"\x0d\x01passwords.txt": b"\x0d\x01" + raw})
    with opened(tmp_path, path.name) as fs:
        entries = {e.inode: e for e in walk(fs, pytest.fail)}
        e = entries[15]
        assert e.path == "/..\\x2f\\x01\\xff\\xc3(\\x0a\\\\\\u202ez"
        assert bytes.fromhex(e.name_hex) == raw
        assert e.path.count("/") == 1 and e.path.isprintable()
        _, got = digests(fs, e)
        assert got["md5"] == truth_files(testdata, "sleuthkit__image.dd")["/passwords.txt"]["md5"]


def test_a_directory_loop_is_a_warning_and_the_walk_ends(testdata, tmp_path):
    # a_directory's entry "a_file" (inode 14, regular) made to point at the root, as a directory
    path = patched_image_dd(
        testdata,
        tmp_path,
        "loop.dd",
        {b"\x0e\x00\x00\x00\xd4\x03\x06\x01a_file": b"\x02\x00\x00\x00\xd4\x03\x06\x02a_file"},
    )
    with opened(tmp_path, path.name) as fs:
        warnings: list[str] = []
        entries = list(walk(fs, warnings.append))
    assert len(entries) == 9
    loop = next(e for e in entries if e.path == "/a_directory/a_file")
    assert (loop.kind, loop.inode) == ("dir", 2)
    assert warnings == [
        f"{path}: ext2 at offset 0: directory /a_directory/a_file (inode 2) was already walked; not entered again"
    ]


def test_a_filesystem_tsk_cannot_open_is_an_error_naming_the_offset(testdata):
    with open_image(testdata / "sleuthkit/image.dd") as media:
        with pytest.raises(FilesystemError, match=r"image\.dd: no filesystem TSK can open at offset 512: "):
            open_filesystem(TskImage(media), 512)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (b"plain.txt", "plain.txt"),
        ("caf\u00e9 \u65e5\u672c".encode(), "caf\u00e9 \u65e5\u672c"),
        (b"../../etc/passwd", "..\\x2f..\\x2fetc\\x2fpasswd"),
        (b"a\x00b\x1b[31m\x7f", "a\\x00b\\x1b[31m\\x7f"),
        (b"\xff\xfe\x80", "\\xff\\xfe\\x80"),
        (b"\xc3\x28", "\\xc3("),  # a cut UTF-8 sequence: the lone lead byte is raw
        (b"back\\slash\\x41", "back\\\\slash\\\\x41"),  # a literal backslash can't fake an escape
        ("a\u0085b\u202ec\u2028".encode(), "a\\u0085b\\u202ec\\u2028"),
        ("\U0001f600".encode(), "\U0001f600"),
        ("\U000e0001".encode(), "\\U000e0001"),
        ("str/name", "str\\x2fname"),
    ],
)
def test_safe_name(raw, want):
    assert safe_name(raw) == want
    assert safe_name(raw).isprintable()


def test_safe_name_is_one_to_one():
    names = [b"a\\x41", b"a\x5cx41", b"aA", b"a\x41", b"\xc2\x85", b"\x85", b"\\u0085", "\u0085".encode()]
    escaped = {safe_name(n) for n in set(names)}
    assert len(escaped) == len(set(names))


def test_tsk_reads_past_the_media_end_come_back_short(testdata):
    with open_image(testdata / "dfvfs-ext2/ext2.vmdk") as media:
        image = TskImage(media)
        assert image.get_size() == media.size == 4 << 20
        assert len(image.read(media.size - 10, 100)) == 10
        assert image.read(media.size, 100) == b""


def test_content_is_never_read_whole(testdata):
    with opened(testdata, "dfvfs-ext2/ext2.E01") as fs:
        entry = next(e for e in walk(fs, pytest.fail) if e.path == "/passwords.txt")
        sizes = [len(c) for c in read_content(fs, entry, chunk_size=50)]
    assert sizes == [50, 50, 16]


def test_files_on_a_copy_match_the_original(testdata, tmp_path):
    """The walk reads through Quarry's reader, not by path: a renamed copy gives the same."""
    copy = tmp_path / "renamed.bin"
    shutil.copyfile(testdata / "sleuthkit/image.dd", copy)
    with opened(tmp_path, copy.name) as fs:
        assert {e.path for e in walk(fs, pytest.fail)} == set(truth_body(testdata, "sleuthkit__image.dd"))
