"""One filesystem walked through The Sleuth Kit: every allocated and deleted name, the
orphans TSK collects under `$OrphanFiles`, and each NTFS named $DATA stream.

Names from evidence are data: they are escaped into printable, unambiguous strings
(`safe_name`) and never used to build a path on the examiner's machine. Damaged
filesystems are data too: a directory TSK cannot read, or one reached twice (a loop), is a
warning with its path and inode, and the walk goes on. Entries are yielded one at a time and
content is streamed in bounded chunks, so memory does not grow with the filesystem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytsk3

from workers.tsk_image import TskImage

CHUNK = 1 << 20
# pytsk3 raises IOError for TSK's own failures and RuntimeError when a read callback of
# TskImage raised (a reader error inside TSK); both mean "TSK could not", never a bug here
TSK_ERRORS = (OSError, RuntimeError)

FS_TYPES = {
    int(getattr(pytsk3, n)): n.removeprefix("TSK_FS_TYPE_").lower()
    for n in dir(pytsk3.TSK_FS_TYPE_ENUM)
    if n.startswith("TSK_FS_TYPE_") and not n.endswith(("_DETECT", "_ENUM"))
}

META_KINDS = {
    pytsk3.TSK_FS_META_TYPE_REG: "file",
    pytsk3.TSK_FS_META_TYPE_DIR: "dir",
    pytsk3.TSK_FS_META_TYPE_LNK: "link",
    pytsk3.TSK_FS_META_TYPE_FIFO: "fifo",
    pytsk3.TSK_FS_META_TYPE_CHR: "char-device",
    pytsk3.TSK_FS_META_TYPE_BLK: "block-device",
    pytsk3.TSK_FS_META_TYPE_SOCK: "socket",
    pytsk3.TSK_FS_META_TYPE_SHAD: "shadow",
    pytsk3.TSK_FS_META_TYPE_WHT: "whiteout",
    pytsk3.TSK_FS_META_TYPE_VIRT: "virtual",
    pytsk3.TSK_FS_META_TYPE_VIRT_DIR: "virtual-dir",
}
NAME_KINDS = {
    pytsk3.TSK_FS_NAME_TYPE_REG: "file",
    pytsk3.TSK_FS_NAME_TYPE_DIR: "dir",
    pytsk3.TSK_FS_NAME_TYPE_LNK: "link",
    pytsk3.TSK_FS_NAME_TYPE_FIFO: "fifo",
    pytsk3.TSK_FS_NAME_TYPE_CHR: "char-device",
    pytsk3.TSK_FS_NAME_TYPE_BLK: "block-device",
    pytsk3.TSK_FS_NAME_TYPE_SOCK: "socket",
    pytsk3.TSK_FS_NAME_TYPE_SHAD: "shadow",
    pytsk3.TSK_FS_NAME_TYPE_WHT: "whiteout",
    pytsk3.TSK_FS_NAME_TYPE_VIRT: "virtual",
    pytsk3.TSK_FS_NAME_TYPE_VIRT_DIR: "virtual-dir",
}
DIRECTORY_KINDS = ("dir", "virtual-dir")
TIMES = ("mtime", "atime", "ctime", "crtime")


class FilesystemError(Exception):
    """A filesystem or a file's content TSK cannot read; the message says where, `reason`
    says what without the where."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Filesystem:
    """A filesystem TSK opened at `offset` (bytes) in an image. Not picklable: a task
    re-opens it from the image and the offset that `workers.volumes` found."""

    tsk: pytsk3.FS_Info
    image: TskImage
    offset: int
    fs_type: str
    block_size: int
    block_count: int

    @property
    def label(self) -> str:
        """Where this filesystem is, for messages."""
        return f"{self.image.path}: {self.fs_type} at offset {self.offset}"


def open_filesystem(image: TskImage, offset: int) -> Filesystem:
    """The filesystem at byte `offset` of the image, or FilesystemError with TSK's reason."""
    try:
        tsk = pytsk3.FS_Info(image, offset=offset)
    except TSK_ERRORS as exc:
        raise FilesystemError(image.path, f"no filesystem TSK can open at offset {offset}: {tsk_reason(exc)}") from None
    info = tsk.info
    fs_type = FS_TYPES.get(int(info.ftype), f"type-{int(info.ftype):#x}")
    return Filesystem(tsk, image, offset, fs_type, int(info.block_size), int(info.block_count))


def tsk_reason(exc: BaseException) -> str:
    """TSK's words without pytsk3's wrapping: its source location prefix, or the repr of a
    reader error that passed through TSK."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    line = line.rsplit(" with error: ", 1)[-1]
    if m := re.fullmatch(r"\w+Error\((['\"])(.*)\1\)", line):
        return m.group(2)
    return line


@dataclass(frozen=True)
class Entry:
    """One name (or one named NTFS data stream) in a filesystem, as TSK reports it.

    `allocation` says in one word what TSK's flags say: "allocated" (the name is in use),
    "deleted" (the name is unallocated: fls's `*`), or "reallocated" (a deleted name whose
    metadata now belongs to another file, so its times and content are not this name's:
    fls's `* (realloc)`). `name_allocated`/`meta_allocated` keep the flags themselves;
    `orphan` marks files TSK found only under $OrphanFiles (metadata with no name left).
    Times are whole seconds since the epoch plus nanoseconds; None where TSK has none (0).
    """

    path: str
    name_hex: str
    inode: int
    parent_inode: int
    kind: str
    name_kind: str
    allocation: str
    name_allocated: bool
    meta_allocated: bool | None
    orphan: bool
    size: int
    attr_type: int | None = None
    attr_id: int | None = None
    stream: str | None = None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    link_target: str | None = None
    mtime: int | None = None
    mtime_ns: int | None = None
    atime: int | None = None
    atime_ns: int | None = None
    ctime: int | None = None
    ctime_ns: int | None = None
    crtime: int | None = None
    crtime_ns: int | None = None

    @property
    def has_content(self) -> bool:
        """Whether `read_content` has bytes to give (metadata present, size above zero)."""
        return self.meta_allocated is not None and self.size > 0


def safe_name(raw: bytes | str) -> str:
    """A name from evidence as a printable string that cannot be mistaken for structure.

    Valid UTF-8 stays as it is, except: a backslash becomes `\\\\`; `/` and ASCII control
    characters become `\\xNN`; every byte that is not valid UTF-8 becomes `\\xNN` (so `\\x80`
    and above always mean a raw byte); other unprintable characters (C1 controls, bidi
    overrides, line separators) become `\\uNNNN`. The mapping is one-to-one, so the original
    bytes can be told from the string, and `..` inside a name is harmless once `/` is escaped.
    """
    return _escape(raw, keep_slash=False)


def safe_target(raw: bytes | str) -> str:
    """A symbolic link's target, escaped as `safe_name` does but with `/` kept: a target is a
    path, shown to the examiner and never followed."""
    return _escape(raw, keep_slash=True)


def _escape(raw: bytes | str, keep_slash: bool) -> str:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    out = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, carried by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F or (ch == "/" and not keep_slash):
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable() and ch != " ":
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def walk(fs: Filesystem, warn: Callable[[str], None]) -> Iterator[Entry]:
    """Every name under the root, depth first (the order of `fls -r`), each followed by its
    named streams. `warn` receives a message for each directory skipped or unreadable."""
    info = fs.tsk.info
    root, orphan_dir = int(info.root_inum), int(info.last_inum)  # TSK numbers $OrphanFiles last
    try:
        top = fs.tsk.open_dir(inode=root)
    except TSK_ERRORS as exc:
        raise FilesystemError(fs.label, f"root directory (inode {root}) unreadable: {tsk_reason(exc)}") from None
    visited = {root}
    ntfs = fs.fs_type == "ntfs"
    # one open listing per directory level: memory follows the depth, not the file count
    stack: list[tuple[str, int, bool, Iterator[pytsk3.File]]] = [("", root, False, iter(top))]
    while stack:
        parent_path, parent_inode, in_orphans, listing = stack[-1]
        try:
            tsk_file = next(listing)
        except StopIteration:
            stack.pop()
            continue
        except TSK_ERRORS as exc:
            warn(f"{fs.label}: directory {parent_path or '/'} (inode {parent_inode}) read stopped: {tsk_reason(exc)}")
            stack.pop()
            continue
        raw = bytes(tsk_file.info.name.name or b"")
        if raw in (b".", b".."):
            continue
        name, source = tsk_file.info.name, tsk_file
        if in_orphans and tsk_file.info.meta is None and name.meta_addr:
            source = _by_address(fs, tsk_file)
        meta = source.info.meta
        entry = _entry(name, meta, f"{parent_path}/{safe_name(raw)}", raw, parent_inode, in_orphans)
        if ntfs and meta is not None:
            yield from _with_streams(fs, source, entry, warn)
        else:
            yield entry
        # a reallocated directory name points at another file's directory: TSK's own walk
        # does not descend there either
        if entry.kind not in DIRECTORY_KINDS or entry.allocation == "reallocated":
            continue
        if entry.inode in visited:
            warn(f"{fs.label}: directory {entry.path} (inode {entry.inode}) was already walked; not entered again")
            continue
        visited.add(entry.inode)
        try:
            listing_of = source.as_directory()
        except TSK_ERRORS as exc:
            warn(f"{fs.label}: directory {entry.path} (inode {entry.inode}) unreadable: {tsk_reason(exc)}")
            continue
        orphans = in_orphans or (entry.kind == "virtual-dir" and entry.inode == orphan_dir)
        stack.append((entry.path, entry.inode, orphans, iter(listing_of)))


def _by_address(fs: Filesystem, tsk_file: pytsk3.File) -> pytsk3.File:
    """An orphan as TSK's listing gives it carries its name ("OrphanFile-N") but not always
    its metadata: the file opened by its address has it."""
    try:
        loaded = fs.tsk.open_meta(inode=int(tsk_file.info.name.meta_addr))
    except TSK_ERRORS:
        return tsk_file
    return loaded if loaded.info.meta is not None else tsk_file


def _entry(
    name: pytsk3.TSK_FS_NAME, meta: pytsk3.TSK_FS_META | None, path: str, raw: bytes, parent_inode: int, orphan: bool
) -> Entry:
    name_allocated = bool(int(name.flags) & pytsk3.TSK_FS_NAME_FLAG_ALLOC)
    name_kind = NAME_KINDS.get(int(name.type), "unknown")
    fields: dict[str, object] = {}
    meta_allocated = None
    size = 0
    kind = name_kind
    if meta is not None:
        meta_allocated = bool(int(meta.flags) & pytsk3.TSK_FS_META_FLAG_ALLOC)
        kind = META_KINDS.get(int(meta.type), "unknown")
        size = int(meta.size)
        fields.update(mode=int(meta.mode), uid=int(meta.uid), gid=int(meta.gid))
        if meta.link:
            fields["link_target"] = safe_target(meta.link)
        for t in TIMES:
            seconds = int(getattr(meta, t))
            if seconds:
                fields[t] = seconds
                fields[f"{t}_ns"] = int(getattr(meta, f"{t}_nano"))
    if name_allocated:
        allocation = "allocated"
    else:
        allocation = "reallocated" if meta_allocated else "deleted"
    return Entry(
        path=path,
        name_hex=raw.hex(),
        inode=int(name.meta_addr),
        parent_inode=parent_inode,
        kind=kind,
        name_kind=name_kind,
        allocation=allocation,
        name_allocated=name_allocated,
        meta_allocated=meta_allocated,
        orphan=orphan,
        size=size,
        **fields,  # type: ignore[arg-type]
    )


def _with_streams(fs: Filesystem, tsk_file: pytsk3.File, entry: Entry, warn: Callable[[str], None]) -> Iterator[Entry]:
    """An NTFS name with the attribute of its unnamed $DATA (its own content), then each named
    $DATA attribute as an entry of its own, `path:stream`."""
    try:
        attrs = [(int(a.info.type), a.info.name, int(a.info.id), int(a.info.size)) for a in tsk_file]
    except TSK_ERRORS as exc:
        warn(f"{fs.label}: {entry.path} (inode {entry.inode}) attributes unreadable: {tsk_reason(exc)}")
        attrs = []
    data = [(name, attr_id, size) for kind, name, attr_id, size in attrs if kind == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA]
    unnamed = next((attr_id for name, attr_id, _ in data if not name), None)
    if unnamed is not None:
        entry = replace(entry, attr_type=pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA, attr_id=unnamed)
    yield entry
    for name, attr_id, size in data:
        if not name:
            continue
        stream = safe_name(name)
        yield replace(
            entry,
            path=f"{entry.path}:{stream}",
            kind="stream",
            size=size,
            attr_type=pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA,
            attr_id=attr_id,
            stream=stream,
            link_target=None,
        )


def data_runs(fs: Filesystem, entry: Entry) -> list[tuple[int, int, int]]:
    """Where an entry's content lies in the image: (image offset, length, file offset) of each
    allocated run of its data attribute, clipped to its size. Sparse and filler runs, and
    data resident in the metadata (small NTFS files), have no place of their own: none."""
    if not entry.has_content:
        return []
    try:
        tsk_file = fs.tsk.open_meta(inode=entry.inode)
        attrs = list(tsk_file)
    except TSK_ERRORS:
        return []
    skip = int(pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE) | int(pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER)
    runs = []
    for attr in attrs:
        kind, attr_id = int(attr.info.type), int(attr.info.id)
        wanted = (
            (kind, attr_id) == (entry.attr_type, entry.attr_id)
            if entry.attr_type is not None
            else kind
            in (
                int(pytsk3.TSK_FS_ATTR_TYPE_DEFAULT),
                int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA),
            )
        )
        if not wanted:
            continue
        for run in attr:
            if int(run.flags) & skip:
                continue
            file_offset = int(run.offset) * fs.block_size
            length = min(int(run.len) * fs.block_size, entry.size - file_offset)
            if length > 0:
                runs.append((fs.offset + int(run.addr) * fs.block_size, length, file_offset))
        break
    return runs


def read_content(fs: Filesystem, entry: Entry, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """The bytes of an entry (its default data, or its named stream) in chunks of at most
    `chunk_size`, for hashing or storing without holding the file in memory.

    The stream ends where TSK has no more bytes for the entry, which can be before
    `entry.size` (a sparse NTFS stream with no runs, such as $BadClus:$Bad): the caller
    compares the bytes it got with `entry.size`. A read TSK fails is a FilesystemError
    naming the path and the file offset.
    """
    if not entry.has_content:
        return
    try:
        tsk_file = fs.tsk.open_meta(inode=entry.inode)
    except TSK_ERRORS as exc:
        raise FilesystemError(
            fs.label, f"{entry.path} (inode {entry.inode}) cannot be opened: {tsk_reason(exc)}"
        ) from None
    offset = 0
    while offset < entry.size:
        want = min(chunk_size, entry.size - offset)
        try:
            if entry.attr_type is None:
                data = tsk_file.read_random(offset, want)
            else:
                data = tsk_file.read_random(offset, want, entry.attr_type, entry.attr_id)
        except TSK_ERRORS as exc:
            raise FilesystemError(
                fs.label, f"{entry.path} (inode {entry.inode}) read error at file offset {offset}: {tsk_reason(exc)}"
            ) from None
        if not data:
            return
        offset += len(data)
        yield data
