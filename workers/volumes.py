"""Where the filesystems of an image are: a volume system (DOS/MBR with extended partitions,
GPT, BSD, Sun, Mac) read by TSK, each allocated partition tried as a filesystem; or a
filesystem straight on the image at offset 0.

Broken structures are data, not failures: a partition table TSK cannot read, an extended
table that leads nowhere, a partition with no filesystem TSK knows, each becomes a warning
naming the image and the byte offset, and the search goes on (offset 0 is always tried when
the volume system gave no filesystem). The result is small, picklable dataclasses, so the
planner can hand a filesystem's offset to a task that re-opens it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pytsk3

from workers.evidence import EvidenceError
from workers.filesystems import TSK_ERRORS, FilesystemError, open_filesystem
from workers.tsk_image import TskImage

VS_TYPES = {
    int(getattr(pytsk3, n)): n.removeprefix("TSK_VS_TYPE_").lower()
    for n in dir(pytsk3.TSK_VS_TYPE_ENUM)
    if n.startswith("TSK_VS_TYPE_") and n not in ("TSK_VS_TYPE_DETECT", "TSK_VS_TYPE_ENUM")
}
DOS_EXTENDED = (0x05, 0x0F, 0x85)
GPT_MAGIC = b"EFI PART"


@dataclass(frozen=True)
class Partition:
    """One row of the volume system, as `mmls` lists it (sectors of `sector_size` bytes)."""

    index: int  # TSK's partition address: mmls's row number
    slot: str  # "table:slot" of a DOS entry ("001:000"), the slot of a GPT one ("003"); else "Meta" or "-------"
    start: int
    length: int
    offset: int  # bytes from the start of the image
    size: int  # bytes
    description: str
    kind: str  # "allocated", "unallocated" (space no entry claims) or "meta" (tables)


@dataclass(frozen=True)
class FilesystemLocation:
    """A filesystem TSK opened: where it is (bytes in the image) and what it is."""

    offset: int
    length: int  # the filesystem's own size: block_count * block_size
    fs_type: str  # TSK's name: ext2, ext4, ntfs, fat32, exfat, iso9660, hfs, apfs, ...
    block_size: int
    block_count: int
    partition: Partition | None = None  # None: a filesystem on the whole image

    @property
    def description(self) -> str:
        if self.partition is None:
            return "whole image"
        return f"partition {self.partition.slot} ({self.partition.description})"


@dataclass
class Layout:
    """What an image holds: its volume system (if any), every partition row, the
    filesystems found, and warnings for what could not be read."""

    path: str
    volume_system: str | None = None  # "dos", "gpt", ... ; None when TSK found none
    sector_size: int = 512
    partitions: list[Partition] = field(default_factory=list)
    filesystems: list[FilesystemLocation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_filesystems(image: TskImage) -> Layout:
    """The volume system and filesystems of an image; never raises for damaged structures."""
    layout = Layout(path=image.path)
    image.last_error = None
    try:
        vs = pytsk3.Volume_Info(image)
    except TSK_ERRORS:  # pytsk3 gives no reason here: "none found" and "unreadable" look alike
        vs = None
        if image.last_error:
            layout.warnings.append(f"volume system not read: {image.last_error}")
    if vs is not None:
        _read_volume_system(image, vs, layout)
        if not layout.filesystems:
            _try(image, layout, 0, None)
            if not layout.filesystems and not layout.warnings:
                layout.warnings.append(f"{image.path}: {layout.volume_system} volume system lists no partition")
        return layout
    failure = _try(image, layout, 0, None)
    if failure is None:
        return layout  # a filesystem at offset 0; any 0x55AA there was its boot sector
    try:
        claim = _table_claim(image)
    except EvidenceError as exc:
        layout.warnings.append(f"partition table not read: {exc}")
        return layout
    if claim is None:
        layout.warnings.append(f"{image.path}: no partition table recognised, and {failure}")
        return layout
    kind, offset = claim
    salvage = kind == "DOS partition table"
    then = "; trying its primary entries one by one" if salvage else ""
    layout.warnings.append(f"{image.path}: {kind} at offset {offset} that TSK cannot read, and {failure}{then}")
    if salvage:
        _salvage_dos(image, layout)
    return layout


def _read_volume_system(image: TskImage, vs: pytsk3.Volume_Info, layout: Layout) -> None:
    info = vs.info
    layout.volume_system = VS_TYPES.get(int(info.vstype), f"type-{int(info.vstype):#x}")
    layout.sector_size = sector = int(info.block_size)
    base = int(info.offset)
    for part in vs:
        flags = int(part.flags)
        kind = (
            "allocated"
            if flags & pytsk3.TSK_VS_PART_FLAG_ALLOC
            else ("meta" if flags & pytsk3.TSK_VS_PART_FLAG_META else "unallocated")
        )
        table, slot_num = int(part.table_num), int(part.slot_num)
        if slot_num >= 0:  # GPT has one table, which TSK numbers -1: mmls shows the slot alone
            slot = f"{table:03d}:{slot_num:03d}" if table >= 0 else f"{slot_num:03d}"
        else:
            slot = "Meta" if kind == "meta" else "-------"
        start, length = int(part.start), int(part.len)
        layout.partitions.append(
            Partition(
                index=int(part.addr),
                slot=slot,
                start=start,
                length=length,
                offset=base + start * sector,
                size=length * sector,
                description=_text(part.desc),
                kind=kind,
            )
        )
    _check_extended_tables(image, layout)
    for part in layout.partitions:
        if part.kind != "allocated":
            continue
        if part.offset >= image.get_size():
            layout.warnings.append(
                f"{image.path}: partition {part.slot} ({part.description}) at offset {part.offset} "
                f"starts past the end of the image ({image.get_size()} bytes)"
            )
            continue
        _try(image, layout, part.offset, part)


def _check_extended_tables(image: TskImage, layout: Layout) -> None:
    """TSK silently drops logical partitions whose extended table it cannot read; say so."""
    if layout.volume_system != "dos":
        return
    tables = {p.start for p in layout.partitions if p.kind == "meta" and p.description.startswith("Extended Table")}
    for part in layout.partitions:
        if part.kind == "meta" and "Extended" in part.description and not part.description.startswith("Extended"):
            if part.start not in tables:
                layout.warnings.append(
                    f"{image.path}: extended partition table at offset {part.offset} is unreadable; "
                    "logical partitions inside it are not listed"
                )


def _try(image: TskImage, layout: Layout, offset: int, partition: Partition | None) -> str | None:
    """Open a filesystem at `offset` and record it; returns why not (quiet for offset 0:
    the caller decides whether that is worth a warning)."""
    try:
        fs = open_filesystem(image, offset)
    except FilesystemError as exc:
        if partition is not None:
            layout.warnings.append(f"{image.path}: partition {partition.slot} ({partition.description}): {exc.reason}")
        return exc.reason
    layout.filesystems.append(
        FilesystemLocation(
            offset=offset,
            length=fs.block_count * fs.block_size,
            fs_type=fs.fs_type,
            block_size=fs.block_size,
            block_count=fs.block_count,
            partition=partition,
        )
    )
    return None


def _table_claim(image: TskImage) -> tuple[str, int] | None:
    """The partition table the first sectors claim to hold, and its offset, judged by its
    signatures only, so that an unreadable table is told apart from an image with none."""
    head = image.media.read_at(0, 4096 + 8)
    for offset in (512, 4096):
        if head[offset : offset + 8] == GPT_MAGIC:
            return "GPT header", offset
    if len(head) >= 512 and head[510:512] == b"\x55\xaa" and _dos_entries(head):
        return "DOS partition table", 0
    return None


def _dos_entries(sector: bytes) -> list[tuple[int, int, int, int]]:
    """(slot, type, first sector, sector count) of the plausible primary entries of an MBR."""
    out = []
    for slot in range(4):
        boot, ptype, start, count = struct.unpack_from("<B3xB3xII", sector, 446 + 16 * slot)
        if ptype and count and boot in (0x00, 0x80):
            out.append((slot, ptype, start, count))
    return out


def _salvage_dos(image: TskImage, layout: Layout) -> None:
    """When TSK refused a DOS table (one bad entry is enough for that), try each primary
    entry that lies inside the image on its own, so one bad entry does not hide the rest."""
    head = image.media.read_at(0, 512)
    for slot, ptype, start, count in _dos_entries(head):
        offset = start * 512
        if ptype in DOS_EXTENDED or offset == 0:
            continue
        if offset >= image.get_size():
            layout.warnings.append(
                f"{image.path}: primary entry {slot} (type {ptype:#04x}) starts at offset {offset}, "
                f"past the end of the image ({image.get_size()} bytes)"
            )
            continue
        partition = Partition(
            index=-1,
            slot=f"000:{slot:03d}",
            start=start,
            length=count,
            offset=offset,
            size=count * 512,
            description=f"primary entry type {ptype:#04x}, read by Quarry: TSK refused the table",
            kind="allocated",
        )
        layout.partitions.append(partition)
        _try(image, layout, offset, partition)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
