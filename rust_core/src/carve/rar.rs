//! RAR: block by block from the marker, every header checked against its CRC.
//!
//! RAR 1.5-4.x (`Rar!\x1A\x07\x00`): blocks of HEAD_CRC (low 16 bits of the CRC-32 of the
//! rest of the header), HEAD_TYPE, HEAD_FLAGS, HEAD_SIZE, then for file and service
//! blocks the packed data (PACK_SIZE, with HIGH_PACK_SIZE for large files), for others
//! ADD_SIZE bytes when the long-block flag is set. The archive header must come first;
//! the walk ends at the end-of-archive block (0x7B).
//!
//! RAR 5 (`Rar!\x1A\x07\x01\x00`): headers of CRC-32, a variable-length header size, type,
//! flags, optional extra-area and data-area sizes; the main archive header first, the
//! end-of-archive header (type 5) last.
//!
//! A block is confirmed when the next valid header starts where its data ends (or when
//! it has no data, or stored data whose CRC matches). The end block reached: Complete,
//! or Damaged when a stored member's data failed its CRC. Without the end block: RAR 5
//! and RAR 2.9+ archives (a file that needs version 2.9 or carries extended times) write
//! one, so the archive is Truncated after its last confirmed block; older archives never
//! do, so they end after the last valid block (Complete, at lower confidence when the
//! last member's data could not be checked). Archives whose headers are encrypted cannot be walked past the archive
//! header (RAR 4) or the encryption header (RAR 5): Truncated there, at low confidence.
//! RAR 1.4 (`RE~^`) has another signature and is not carved.

use super::{le_u16, le_u32, Found, Probe};

const RAR4_MARK: &[u8] = b"Rar!\x1A\x07\x00";
const RAR5_MARK: &[u8] = b"Rar!\x1A\x07\x01\x00";

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let more = !at_eof && data.len() < max_len;
    if data.starts_with(RAR5_MARK) {
        walk5(&data[..data.len().min(max_len)], more)
    } else if data.starts_with(RAR4_MARK) {
        walk4(&data[..data.len().min(max_len)], more)
    } else if data.len() < RAR5_MARK.len() && more {
        Probe::NeedMore
    } else {
        Probe::Invalid
    }
}

/// How a walk stopped.
enum End {
    /// At the end-of-archive block ending here.
    Closed(usize),
    /// The next header is not valid (or not there): the walk stopped at `at`.
    Broke { at: usize },
    /// A block runs past the data; its full end when known.
    RanOut { block_end: Option<u64> },
    /// Headers are encrypted from here on.
    Encrypted(usize),
}

/// What the walk learnt on its way.
struct Walk {
    /// Valid blocks after the marker, the archive header included.
    blocks: usize,
    /// End of the last confirmed block.
    confirmed: usize,
    /// The archive comes from a version that always writes the end block.
    writes_end_block: bool,
    /// A stored member's data does not match its CRC.
    bad_data: bool,
}

fn conclude(data: &[u8], end: End, w: &Walk, more: bool) -> Probe {
    match end {
        End::Closed(len) if w.bad_data => Probe::Found(Found::damaged(len, 50)),
        End::Closed(len) => Probe::Found(Found::complete(len, 90)),
        End::Encrypted(at) => Probe::Found(Found::truncated(at, None, 20)),
        End::RanOut { .. } if more => Probe::NeedMore,
        // A header (unchecked: its CRC covers bytes that are not there) claims more than
        // the image holds: random bytes after a cut read as a header do that too.
        End::RanOut { block_end: None } if w.blocks > 0 => {
            Probe::Found(Found::truncated(w.confirmed, None, 30))
        }
        End::RanOut { block_end } if w.blocks > 0 => {
            let missing = block_end.map(|e| e.saturating_sub(data.len() as u64));
            Probe::Found(Found::truncated(data.len(), missing, 40))
        }
        End::RanOut { .. } => Probe::Invalid,
        End::Broke { .. } if w.blocks == 0 => Probe::Invalid,
        End::Broke { at } if !w.writes_end_block && w.blocks > 1 && w.bad_data => {
            Probe::Found(Found::damaged(at, 40))
        }
        End::Broke { at } if !w.writes_end_block && w.blocks > 1 => {
            let confidence = if w.confirmed == at { 60 } else { 40 };
            Probe::Found(Found::complete(at, confidence))
        }
        End::Broke { .. } => Probe::Found(Found::truncated(w.confirmed, None, 40)),
    }
}

const RAR4_MAIN: u8 = 0x73;
const RAR4_FILE: u8 = 0x74;
const RAR4_SERVICE: u8 = 0x7A;
const RAR4_END: u8 = 0x7B;
const LONG_BLOCK: usize = 0x8000;
const LARGE_FILE: usize = 0x0100;
const MAIN_ENCRYPTED_HEADERS: usize = 0x0080;
const FILE_ENCRYPTED: usize = 0x0004;
const FILE_SPLIT: usize = 0x0001 | 0x0002;
const EXT_TIME: usize = 0x1000;

fn walk4(data: &[u8], more: bool) -> Probe {
    let mut w = Walk {
        blocks: 0,
        confirmed: RAR4_MARK.len(),
        writes_end_block: false,
        bad_data: false,
    };
    let mut pos = RAR4_MARK.len();
    let end = loop {
        let Some(h) = data.get(pos..pos + 7) else {
            // Old archives have no end block: the data may end right after the last one.
            if pos == data.len() && !more && !w.writes_end_block {
                break End::Broke { at: pos };
            }
            break End::RanOut { block_end: None };
        };
        let (crc, kind, flags, size) = (
            le_u16(h, 0).unwrap_or(0),
            h[2],
            le_u16(h, 3).unwrap_or(0),
            le_u16(h, 5).unwrap_or(0),
        );
        let first = w.blocks == 0;
        let min_size = match kind {
            RAR4_MAIN => 13,
            RAR4_FILE | RAR4_SERVICE => 32,
            _ => 7,
        };
        if size < min_size || !(0x73..=0x7B).contains(&kind) || first != (kind == RAR4_MAIN) {
            break End::Broke { at: pos };
        }
        let Some(header) = data.get(pos..pos + size) else {
            break End::RanOut { block_end: None };
        };
        if crc32fast::hash(&header[2..]) & 0xFFFF != crc as u32 {
            break End::Broke { at: pos };
        }
        // The header is valid: the block before it is confirmed.
        w.confirmed = pos;
        w.blocks += 1;
        let mut add = 0u64;
        if kind == RAR4_FILE || kind == RAR4_SERVICE {
            add = le_u32(header, 7).unwrap_or(0) as u64;
            if flags & LARGE_FILE != 0 {
                let Some(high) = le_u32(header, 32) else {
                    break End::Broke { at: pos };
                };
                add |= (high as u64) << 32;
            }
            if kind == RAR4_FILE {
                // UNP_VER (version needed), or extended times: written by RAR 2.9 and later.
                w.writes_end_block |= header[24] >= 29 || flags & EXT_TIME != 0;
            }
        } else if flags & LONG_BLOCK != 0 {
            add = le_u32(header, 7).unwrap_or(0) as u64;
        }
        let block_end = (pos + size) as u64 + add;
        if kind == RAR4_END {
            break End::Closed(pos + size);
        }
        if kind == RAR4_MAIN && flags & MAIN_ENCRYPTED_HEADERS != 0 {
            break End::Encrypted(pos + size);
        }
        let Some(next) = usize::try_from(block_end).ok().filter(|&e| e <= data.len()) else {
            break End::RanOut {
                block_end: Some(block_end),
            };
        };
        let checkable = kind == RAR4_FILE && header[25] == 0x30 && flags & (FILE_ENCRYPTED | FILE_SPLIT) == 0;
        let stored_ok =
            checkable && le_u32(header, 16) == Some(crc32fast::hash(&data[pos + size..next]) as usize);
        w.bad_data |= checkable && !stored_ok;
        if add == 0 || stored_ok {
            w.confirmed = next;
        }
        pos = next;
    };
    conclude(data, end, &w, more)
}

/// A RAR 5 variable-length integer at `at`: its value and byte length.
fn vint(d: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = *d.get(at + i)?;
        v |= ((b & 0x7F) as u64).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

const RAR5_MAIN: u64 = 1;
const RAR5_FILE: u64 = 2;
const RAR5_SERVICE: u64 = 3;
const RAR5_CRYPT: u64 = 4;
const RAR5_END: u64 = 5;
const HFL_EXTRA: u64 = 0x0001;
const HFL_DATA: u64 = 0x0002;
const HFL_SPLIT: u64 = 0x0008 | 0x0010;
/// Largest header the format allows.
const MAX_HEADER: u64 = 2 << 20;

fn walk5(data: &[u8], more: bool) -> Probe {
    let mut w = Walk {
        blocks: 0,
        confirmed: RAR5_MARK.len(),
        writes_end_block: true,
        bad_data: false,
    };
    let mut pos = RAR5_MARK.len();
    let end = loop {
        let (Some(crc), Some((size, size_len))) = (le_u32(data, pos), vint(data, pos + 4)) else {
            break if data.len() < pos + 7 {
                End::RanOut { block_end: None }
            } else {
                End::Broke { at: pos }
            };
        };
        if size == 0 || size > MAX_HEADER {
            break End::Broke { at: pos };
        }
        let body_at = pos + 4 + size_len;
        let header_end = body_at + size as usize;
        let Some(covered) = data.get(pos + 4..header_end) else {
            break End::RanOut { block_end: None };
        };
        if crc32fast::hash(covered) as usize != crc {
            break End::Broke { at: pos };
        }
        let header = &data[body_at..header_end];
        let Some(h) = Header5::parse(header) else {
            break End::Broke { at: pos };
        };
        let first = w.blocks == 0;
        let allowed = match h.kind {
            RAR5_MAIN | RAR5_CRYPT => first,
            RAR5_FILE | RAR5_SERVICE | RAR5_END => !first,
            _ => false,
        };
        if !allowed {
            break End::Broke { at: pos };
        }
        w.confirmed = pos;
        w.blocks += 1;
        if h.kind == RAR5_END {
            break End::Closed(header_end);
        }
        if h.kind == RAR5_CRYPT {
            break End::Encrypted(header_end);
        }
        let block_end = header_end as u64 + h.data_size;
        let Some(next) = usize::try_from(block_end).ok().filter(|&e| e <= data.len()) else {
            break End::RanOut {
                block_end: Some(block_end),
            };
        };
        let stored_ok = h
            .stored_crc
            .map(|c| c == crc32fast::hash(&data[header_end..next]));
        w.bad_data |= stored_ok == Some(false);
        if h.data_size == 0 || stored_ok == Some(true) {
            w.confirmed = next;
        }
        pos = next;
    };
    conclude(data, end, &w, more)
}

/// The fields of a RAR 5 header after its size.
struct Header5 {
    kind: u64,
    data_size: u64,
    /// For a stored, unencrypted, unsplit file: the CRC-32 of its data.
    stored_crc: Option<u32>,
}

impl Header5 {
    fn parse(h: &[u8]) -> Option<Header5> {
        let mut at = 0;
        let mut next = || -> Option<u64> {
            let (v, n) = vint(h, at)?;
            at += n;
            Some(v)
        };
        let kind = next()?;
        let flags = next()?;
        let extra_size = if flags & HFL_EXTRA != 0 { next()? } else { 0 };
        let data_size = if flags & HFL_DATA != 0 { next()? } else { 0 };
        if extra_size > h.len() as u64 || at > h.len() - extra_size as usize {
            return None;
        }
        let stored_crc = if kind == RAR5_FILE && flags & HFL_SPLIT == 0 {
            file_crc(h, at, h.len() - extra_size as usize)
        } else {
            None
        };
        Some(Header5 {
            kind,
            data_size,
            stored_crc,
        })
    }
}

/// The data CRC of a stored file header whose type-specific fields start at `at`, when
/// its extra area (from `extra_at`) has no encryption record.
fn file_crc(h: &[u8], mut at: usize, extra_at: usize) -> Option<u32> {
    let mut next = || -> Option<u64> {
        let (v, n) = vint(h, at)?;
        at += n;
        Some(v)
    };
    let file_flags = next()?;
    let _unpacked = next()?;
    let _attributes = next()?;
    let mut pos = at;
    if file_flags & 0x0002 != 0 {
        pos += 4; // mtime
    }
    let crc = if file_flags & 0x0004 != 0 {
        let c = le_u32(h, pos)? as u32;
        pos += 4;
        Some(c)
    } else {
        None
    };
    let (method_info, _) = vint(h, pos)?;
    if file_flags & 0x0001 != 0 || (method_info >> 7) & 7 != 0 {
        return None; // a directory, or compressed data
    }
    // Extra records: size, type, data; type 1 is encryption.
    let extra = h.get(extra_at..)?;
    let mut e = 0;
    while e < extra.len() {
        let (size, n) = vint(extra, e)?;
        let (kind, _) = vint(extra, e + n)?;
        if kind == 1 {
            return None;
        }
        e = e.checked_add(n)?.checked_add(usize::try_from(size).ok()?)?;
    }
    crc
}
