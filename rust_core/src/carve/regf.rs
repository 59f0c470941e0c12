//! Windows registry hive (`regf`): a 4096-byte base block, then the hive bins.
//!
//! Base block: major version 1, minor 3..=6, file format 1, a clustering factor of 1..=8,
//! a hive bins data size (offset 0x28) that is a multiple of 4096, and at 0x1FC the
//! XOR of the first 127 dwords (stored as 1 when that is 0 and as 0xFFFFFFFE when it is
//! 0xFFFFFFFF). The file type (offset 28) says what follows:
//!
//! - 0, a primary hive (or a backup copy): length 4096 + the bins data size. Every bin is
//!   walked: `hbin`, its offset field equal to its position in the bins data, a size that
//!   is a non-zero multiple of 4096, and cells (a signed size, a multiple of 8, at least
//!   8) that tile it exactly. The root cell (offset 0x24) must be an allocated key node
//!   (`nk`) marked as the hive's root. Padding after the last bin is not taken.
//! - 1 or 2, a transaction log in the old format (subtype "log"): the base block's first
//!   sector, the dirty vector (`DIRT` and one bit per 512 bytes of bins data) from the
//!   second sector, then one 512-byte page per bit set, from the next sector boundary.
//! - 6, a transaction log in the new format (subtype "log"): log entries from the second
//!   sector (`HvLE`, a size that is a multiple of 512, consecutive sequence numbers, the
//!   page references fitting the entry); the file is taken to end after the last
//!   entry of the run (the Marvin32 hashes are not checked; old entries or preallocated
//!   space after the run are not taken).
//!
//! Status: a bin header that is not there ends the file (Truncated, with the missing
//! bytes); a bad checksum, a bad root cell or cells that do not tile a bin (other than
//! the last) is Damaged; cells that break inside the last bin mean the end was
//! overwritten (Truncated). A truncated length never goes past the first place a check
//! failed: for cells, the start of the cell before the break (its bytes are unchecked,
//! the cut may lie in them); nor past 512 when the base block's reserved area is not
//! zero. A cut inside the last cell of a bin (often one large free cell, whose bytes
//! mean nothing) shows only at the next bin header. A base block whose checksum fails
//! with no bin behind it is not carved.

use super::{le_u16, le_u32, Found, Probe};

const BASE_BLOCK: usize = 4096;
const BIN_HEADER: usize = 32;
const PAGE: usize = 512;
/// The base block is zero from 512 up to the fields Windows 10 added at its end.
const RESERVED_END: usize = 4040;
/// Key node flag: the root key of the hive.
const KEY_HIVE_ENTRY: usize = 0x0004;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let more = !at_eof && data.len() < max_len;
    let data = &data[..data.len().min(max_len)];
    let Some(base) = data.get(..PAGE) else {
        return if more { Probe::NeedMore } else { Probe::Invalid };
    };
    let field = |at| le_u32(base, at).unwrap_or(usize::MAX);
    let bins_size = field(0x28);
    let cluster = field(0x2C);
    if !base.starts_with(b"regf")
        || field(20) != 1
        || !(3..=6).contains(&field(24))
        || field(32) != 1
        || !bins_size.is_multiple_of(BASE_BLOCK)
        || !(1..=8).contains(&cluster)
    {
        return Probe::Invalid;
    }
    let base_ok = checksum(base) == field(0x1FC);
    let ctx = Ctx {
        data,
        more,
        base_ok,
        bins_size,
    };
    match field(28) {
        0 => primary(&ctx, field(0x24), field(4) == field(8)),
        1 | 2 => old_log(&ctx, PAGE * cluster),
        6 => new_log(&ctx, PAGE * cluster),
        _ => Probe::Invalid,
    }
}

/// XOR-32 of the first 508 bytes, as the base block stores it.
fn checksum(base: &[u8]) -> usize {
    let x = base[..508]
        .chunks_exact(4)
        .fold(0u32, |acc, w| acc ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    match x {
        0 => 1,
        0xFFFF_FFFF => 0xFFFF_FFFE,
        x => x as usize,
    }
}

struct Ctx<'a> {
    data: &'a [u8],
    more: bool,
    base_ok: bool,
    bins_size: usize,
}

fn primary(ctx: &Ctx, root: usize, synced: bool) -> Probe {
    let data = ctx.data;
    if ctx.bins_size == 0 {
        return Probe::Invalid;
    }
    let full = BASE_BLOCK + ctx.bins_size;
    let mut doubt: Option<usize> = None;
    let mut bins = 0usize;
    let mut limit = usize::MAX;
    // The file breaks off at `at`: truncated there (or at the first doubt before it).
    let cut = |at: usize, doubt: Option<usize>, bins: usize, limit: usize| {
        if !ctx.base_ok && bins == 0 {
            return Probe::Invalid;
        }
        let len = doubt.map_or(at, |d| d.min(at)).min(limit);
        Probe::Found(Found::truncated(len, Some((full - len) as u64), 60))
    };
    if data.len() < BASE_BLOCK {
        return if ctx.more {
            Probe::NeedMore
        } else {
            cut(data.len(), doubt, bins, limit)
        };
    }
    // The base block's reserved area is zero: other bytes there mean the file may be
    // overwritten from that point (a truncated length does not pass it).
    if data[PAGE..RESERVED_END].iter().any(|&b| b != 0) {
        limit = PAGE;
    }
    let mut off = 0usize;
    let mut last_broken = false;
    while off < ctx.bins_size {
        let at = BASE_BLOCK + off;
        let Some(head) = data.get(at..at + BIN_HEADER) else {
            return if ctx.more {
                Probe::NeedMore
            } else {
                cut(data.len(), doubt, bins, limit)
            };
        };
        let size = le_u32(head, 8).unwrap_or(0);
        if &head[..4] != b"hbin"
            || le_u32(head, 4) != Some(off)
            || size == 0
            || !size.is_multiple_of(BASE_BLOCK)
        {
            return cut(at, doubt, bins, limit);
        }
        if off.checked_add(size).is_none_or(|e| e > ctx.bins_size) {
            // The bin claims more than the base block gives the whole hive.
            doubt.get_or_insert(at);
            break;
        }
        let Some(bin) = data.get(at..at + size) else {
            if ctx.more {
                return Probe::NeedMore;
            }
            let part = &data[at..];
            return cut(at + cells_end(part, part.len()).0, doubt, bins, limit);
        };
        let (end, last_cell) = cells_end(bin, size);
        if end != size {
            // The cell before the break holds unchecked bytes: the break may lie in it.
            doubt.get_or_insert(at + last_cell);
            last_broken = off + size == ctx.bins_size;
        }
        bins += 1;
        off += size;
    }
    if data.len() < full {
        return if ctx.more {
            Probe::NeedMore
        } else {
            cut(data.len(), doubt, bins, limit)
        };
    }
    if !root_ok(data, root, ctx.bins_size) {
        doubt.get_or_insert(BASE_BLOCK);
    }
    match doubt {
        Some(d) if last_broken => cut(d, doubt, bins, limit),
        Some(_) => Probe::Found(Found::damaged(full, if ctx.base_ok { 65 } else { 50 })),
        None if !ctx.base_ok => Probe::Found(Found::damaged(full, 60)),
        None => Probe::Found(Found::complete(full, if synced { 90 } else { 80 })),
    }
}

/// Walk the cells of a bin (`bin[..len]`, the header first): the offset where they stop
/// tiling it (`len` when they tile it exactly) and the start of the last whole cell (the
/// bin's start when there is none).
fn cells_end(bin: &[u8], len: usize) -> (usize, usize) {
    let mut at = BIN_HEADER.min(len);
    let mut last = 0;
    while at < len {
        let Some(raw) = le_u32(bin, at) else {
            return (at, last);
        };
        let size = (raw as u32 as i32).unsigned_abs() as usize;
        if size < 8 || !size.is_multiple_of(8) || at + size > len {
            return (at, last);
        }
        last = at;
        at += size;
    }
    (at, last)
}

/// The root cell: allocated (negative size), a key node, flagged as the hive's root.
fn root_ok(data: &[u8], root: usize, bins_size: usize) -> bool {
    if root >= bins_size || !root.is_multiple_of(8) {
        return false;
    }
    let at = BASE_BLOCK + root;
    let allocated = le_u32(data, at).is_some_and(|s| (s as u32 as i32) < 0);
    allocated
        && data.get(at + 4..at + 6) == Some(b"nk")
        && le_u16(data, at + 6).is_some_and(|f| f & KEY_HIVE_ENTRY != 0)
}

/// Old-format log: base block sector, dirty vector, dirty pages.
fn old_log(ctx: &Ctx, sector: usize) -> Probe {
    let data = ctx.data;
    let short = |at: usize, full: usize| {
        if ctx.more {
            Probe::NeedMore
        } else if !ctx.base_ok {
            Probe::Invalid
        } else {
            Probe::Found(Found::truncated(at, Some((full - at) as u64), 40).with_subtype("log"))
        }
    };
    let Some(sig) = data.get(sector..sector + 4) else {
        return short(data.len().min(sector), sector + 4);
    };
    if sig != b"DIRT" {
        // A log with no dirty data written: the base block's sector alone.
        return if ctx.base_ok {
            Probe::Found(Found::complete(sector, 40).with_subtype("log"))
        } else {
            Probe::Invalid
        };
    }
    // One bit per 512-byte page of the bins data.
    let bitmap_len = ctx.bins_size / (PAGE * 8);
    let bitmap_end = sector + 4 + bitmap_len;
    let Some(bitmap) = data.get(sector + 4..bitmap_end) else {
        return short(data.len(), bitmap_end);
    };
    let pages: usize = bitmap.iter().map(|b| b.count_ones() as usize).sum();
    let full = bitmap_end.div_ceil(sector) * sector + pages * PAGE;
    if data.len() < full {
        return short(data.len(), full);
    }
    let f = if ctx.base_ok {
        Found::complete(full, 60)
    } else {
        Found::damaged(full, 40)
    };
    Probe::Found(f.with_subtype("log"))
}

/// New-format log: base block sector, then a run of log entries.
fn new_log(ctx: &Ctx, sector: usize) -> Probe {
    let data = ctx.data;
    let mut at = sector;
    let mut entries = 0usize;
    let mut last_seq = 0usize;
    loop {
        let Some(head) = data.get(at..at + 40) else {
            if ctx.more {
                return Probe::NeedMore;
            }
            break;
        };
        let size = le_u32(head, 4).unwrap_or(0);
        let seq = le_u32(head, 12).unwrap_or(0);
        let pages = le_u32(head, 20).unwrap_or(usize::MAX);
        let refs_end = pages.checked_mul(8).and_then(|r| r.checked_add(40));
        let sound = &head[..4] == b"HvLE"
            && size >= PAGE
            && size.is_multiple_of(PAGE)
            && le_u32(head, 8).is_some_and(|f| f <= 1)
            && le_u32(head, 16).is_some_and(|b| b.is_multiple_of(BASE_BLOCK))
            && refs_end.is_some_and(|r| r <= size)
            && (entries == 0 || seq == (last_seq.wrapping_add(1) & 0xFFFF_FFFF));
        if !sound {
            break;
        }
        let Some(entry) = data.get(at..at + size) else {
            if ctx.more {
                return Probe::NeedMore;
            }
            if !ctx.base_ok {
                return Probe::Invalid;
            }
            let f = Found::truncated(data.len(), Some((at + size - data.len()) as u64), 40);
            return Probe::Found(f.with_subtype("log"));
        };
        // The pages referenced must fit in the entry after their references.
        let refs_end = refs_end.unwrap_or(usize::MAX);
        let mut page_bytes = 0usize;
        for r in (40..refs_end).step_by(8) {
            page_bytes = page_bytes.saturating_add(le_u32(entry, r + 4).unwrap_or(usize::MAX));
        }
        if refs_end.saturating_add(page_bytes) > size {
            break;
        }
        entries += 1;
        last_seq = seq;
        at += size;
    }
    if !ctx.base_ok {
        return if entries == 0 {
            Probe::Invalid
        } else {
            Probe::Found(Found::damaged(at, 40).with_subtype("log"))
        };
    }
    let confidence = if entries == 0 { 40 } else { 55 };
    Probe::Found(Found::complete(at, confidence).with_subtype("log"))
}
