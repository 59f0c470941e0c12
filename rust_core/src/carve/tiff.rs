//! TIFF ("II*\0" little-endian, "MM\0*" big-endian): the chain of image file directories
//! (IFDs) from the header, with their SubIFDs and EXIF/GPS/interoperability IFDs; the
//! file ends at the furthest byte any of them refers to (the IFDs themselves, values
//! stored out of line, strips, tiles, an embedded JPEG).
//!
//! Every entry must have a known field type and its values must lie inside the size
//! cap; the first IFD (or one of its SubIFDs) must point at image data, which is what
//! separates a TIFF from the EXIF block inside every camera JPEG (its IFDs hold no
//! strips or tiles). Directories are visited once each, and their number and size are
//! capped, so a loop or a huge count in damaged data ends the walk.

use super::{Found, Probe};

const HEADER: usize = 8;
/// Most IFDs followed in one file (pages, SubIFDs, EXIF...).
const MAX_IFDS: usize = 512;
/// Most entries believed in one IFD.
const MAX_ENTRIES: usize = 1000;
/// Most strip or tile offsets read from one IFD.
const MAX_PIECES: usize = 1 << 20;

const STRIP_OFFSETS: u16 = 273;
const STRIP_BYTE_COUNTS: u16 = 279;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const SUB_IFDS: u16 = 330;
const JPEG_IF: u16 = 513;
const JPEG_IF_LEN: u16 = 514;
const EXIF_IFD: u16 = 34665;
const GPS_IFD: u16 = 34853;
const INTEROP_IFD: u16 = 40965;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// IFD0: must point at image data (itself or through a SubIFD).
    First,
    /// The pages chained after IFD0.
    Page,
    /// A SubIFD of IFD0 (or chained after one): may hold the main image.
    FirstSub,
    /// Any other SubIFD.
    Sub,
    /// EXIF, GPS, interoperability: metadata, followed for their extent only.
    Meta,
}

#[derive(Clone, Copy)]
struct Entry {
    tag: u16,
    kind: u16,
    count: usize,
    /// Offset of the entry's 4-byte value field.
    field: usize,
}

/// Why a walk stopped before its end.
enum Stop {
    /// A structure lies past the data in hand.
    NeedMore,
    /// The first IFD is not one.
    Invalid,
}

struct Walk<'a> {
    data: &'a [u8],
    at_eof: bool,
    le: bool,
    max_len: usize,
    /// Furthest byte referred to so far.
    extent: usize,
    /// Visited IFD offsets.
    visited: Vec<usize>,
    /// IFDs to visit: offset, role, and the end of the pointer that named it.
    queue: Vec<(usize, Role, usize)>,
    has_image: bool,
    /// The page chain ends in a pointer to no valid IFD, or in none at all.
    chain_broken: bool,
    /// At the end of the image, something the file refers to lies past it.
    cut: bool,
    /// Some check inside failed (a SubIFD or metadata IFD that does not parse, a loop,
    /// strip offsets and byte counts that disagree).
    damaged: bool,
    /// Smaller doubts: entries out of order, strips without byte counts.
    doubts: u8,
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let (data, at_eof) = if data.len() > max_len {
        (&data[..max_len], false)
    } else {
        (data, at_eof)
    };
    let Some(first) = data.get(..HEADER) else {
        return if at_eof || data.len() >= max_len {
            Probe::Invalid
        } else {
            Probe::NeedMore
        };
    };
    let le = first[0] == b'I';
    let mut walk = Walk {
        data,
        at_eof,
        le,
        max_len,
        extent: HEADER,
        visited: Vec::new(),
        queue: Vec::new(),
        has_image: false,
        chain_broken: false,
        cut: false,
        damaged: false,
        doubts: 0,
    };
    let ifd0 = walk.u32_at(4).unwrap_or(0);
    if ifd0 < HEADER || ifd0 >= max_len {
        return Probe::Invalid;
    }
    walk.queue.push((ifd0, Role::First, HEADER));
    match walk.run() {
        Ok(()) => {}
        Err(Stop::Invalid) => return Probe::Invalid,
        Err(Stop::NeedMore) => {
            return if at_eof || data.len() >= max_len {
                Probe::Invalid
            } else {
                Probe::NeedMore
            };
        }
    }
    if !walk.has_image {
        return Probe::Invalid;
    }
    let len = walk.extent;
    if len > data.len() {
        if !at_eof {
            return Probe::NeedMore;
        }
        let missing = (len - data.len()) as u64;
        return Probe::Found(Found::truncated(data.len(), Some(missing), 50));
    }
    if walk.cut || walk.chain_broken {
        return Probe::Found(Found::truncated(len, None, 50));
    }
    if walk.damaged {
        return Probe::Found(Found::damaged(len, 50));
    }
    Probe::Found(Found::complete(len, 90 - 10 * walk.doubts.min(3)))
}

fn type_size(kind: u16) -> Option<usize> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

impl Walk<'_> {
    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.data.get(at..at.checked_add(2)?)?;
        Some(if self.le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    }

    fn u32_at(&self, at: usize) -> Option<usize> {
        let b = self.data.get(at..at.checked_add(4)?)?;
        let v = if self.le {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        };
        Some(v as usize)
    }

    fn run(&mut self) -> Result<(), Stop> {
        while let Some((at, role, named_by)) = self.queue.pop() {
            if self.visited.contains(&at) {
                self.damaged = true; // a loop
                continue;
            }
            if self.visited.len() >= MAX_IFDS {
                self.damaged = true;
                break;
            }
            self.visited.push(at);
            match self.ifd(at, role) {
                Ok(()) => self.extent = self.extent.max(named_by),
                // At the image's end, IFD0 must be whole; a later IFD past the end is a
                // pointer that leads nowhere (cut or garbage: the file stops before it).
                Err(Stop::NeedMore) if self.at_eof && role != Role::First => self.chain_broken = true,
                Err(Stop::NeedMore) => return Err(Stop::NeedMore),
                Err(Stop::Invalid) if role == Role::First => return Err(Stop::Invalid),
                Err(Stop::Invalid) if role == Role::Page => self.chain_broken = true,
                Err(Stop::Invalid) => self.damaged = true,
            }
        }
        Ok(())
    }

    /// Walk one IFD at `at`: its entries, what they point at, and the next IFD.
    fn ifd(&mut self, at: usize, role: Role) -> Result<(), Stop> {
        if at >= self.max_len {
            return Err(Stop::Invalid);
        }
        let count = self.u16_at(at).ok_or(Stop::NeedMore)? as usize;
        if count == 0 || count > MAX_ENTRIES {
            return Err(Stop::Invalid);
        }
        let entries_end = at + 2 + 12 * count;
        if entries_end + 4 > self.max_len {
            return Err(Stop::Invalid);
        }
        if self.data.len() < entries_end {
            return Err(Stop::NeedMore);
        }
        let mut entries = Vec::with_capacity(count);
        let mut extent = entries_end;
        let mut prev_tag = 0u16;
        let mut unordered = false;
        for i in 0..count {
            let e = at + 2 + 12 * i;
            let tag = self.u16_at(e).ok_or(Stop::NeedMore)?;
            let kind = self.u16_at(e + 2).ok_or(Stop::NeedMore)?;
            let n = self.u32_at(e + 4).ok_or(Stop::NeedMore)?;
            let size = type_size(kind).ok_or(Stop::Invalid)?;
            let bytes = n.checked_mul(size).ok_or(Stop::Invalid)?;
            if bytes > 4 {
                let off = self.u32_at(e + 8).ok_or(Stop::NeedMore)?;
                let end = off.checked_add(bytes).ok_or(Stop::Invalid)?;
                if off < HEADER || end > self.max_len {
                    return Err(Stop::Invalid);
                }
                extent = extent.max(end);
            }
            unordered |= i > 0 && tag <= prev_tag;
            prev_tag = tag;
            entries.push(Entry {
                tag,
                kind,
                count: n,
                field: e + 8,
            });
        }
        // Only now is this an IFD: its references count.
        self.extent = self.extent.max(extent);
        if unordered {
            self.doubts += 1;
        }
        let find = |tag: u16| entries.iter().find(|e| e.tag == tag).copied();
        // Image data where a TIFF's main image lives: this is what makes it a TIFF.
        if matches!(role, Role::First | Role::FirstSub)
            && (find(STRIP_OFFSETS).is_some() || find(TILE_OFFSETS).is_some())
        {
            self.has_image = true;
        }
        let strips = self.pieces(find(STRIP_OFFSETS), find(STRIP_BYTE_COUNTS));
        self.soft(strips)?;
        let tiles = self.pieces(find(TILE_OFFSETS), find(TILE_BYTE_COUNTS));
        self.soft(tiles)?;
        if let (Some(start), Some(len)) = (find(JPEG_IF), find(JPEG_IF_LEN)) {
            let start = self.value(&start, 0);
            let len = self.value(&len, 0);
            if let (Some(start), Some(len)) = (self.soft(start)?, self.soft(len)?) {
                match start.checked_add(len) {
                    Some(end) if start >= HEADER && end <= self.max_len => self.extent = self.extent.max(end),
                    _ => self.damaged = true,
                }
            }
        }
        let sub_role = if matches!(role, Role::First | Role::FirstSub) {
            Role::FirstSub
        } else {
            Role::Sub
        };
        if let Some(subs) = find(SUB_IFDS) {
            for i in 0..subs.count.min(MAX_IFDS) {
                let off = self.value(&subs, i);
                if let Some(off) = self.soft(off)? {
                    self.push(off, sub_role, 0);
                }
            }
        }
        for tag in [EXIF_IFD, GPS_IFD, INTEROP_IFD] {
            if let Some(e) = find(tag) {
                let off = self.value(&e, 0);
                if let Some(off) = self.soft(off)? {
                    self.push(off, Role::Meta, 0);
                }
            }
        }
        // The next IFD in this chain. The pointer is part of the file when it is zero or
        // names a valid IFD; missing at the image's end, the file was cut before it.
        let Some(next) = self.u32_at(entries_end) else {
            if self.at_eof {
                self.chain_broken = true;
                return Ok(());
            }
            return Err(Stop::NeedMore);
        };
        let pointer_end = entries_end + 4;
        match role {
            _ if next == 0 => self.extent = self.extent.max(pointer_end),
            Role::First | Role::Page => self.push(next, Role::Page, pointer_end),
            Role::FirstSub | Role::Sub => self.push(next, role, pointer_end),
            // A metadata IFD's link is not followed; count it as written.
            Role::Meta => self.extent = self.extent.max(pointer_end),
        }
        Ok(())
    }

    /// A reference that could not be followed: past the end of the image it was cut;
    /// malformed, the file is damaged; past the data in hand, the walk needs more.
    fn soft<T>(&mut self, r: Result<T, Stop>) -> Result<Option<T>, Stop> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(Stop::NeedMore) if self.at_eof => {
                self.cut = true;
                Ok(None)
            }
            Err(Stop::NeedMore) => Err(Stop::NeedMore),
            Err(Stop::Invalid) => {
                self.damaged = true;
                Ok(None)
            }
        }
    }

    fn push(&mut self, off: usize, role: Role, named_by: usize) {
        if off < HEADER || off >= self.max_len {
            if matches!(role, Role::First | Role::Page) {
                self.chain_broken = true;
            } else {
                self.damaged = true;
            }
            return;
        }
        if self.queue.len() < MAX_IFDS {
            self.queue.push((off, role, named_by));
        }
    }

    /// Value `i` of an integer entry (BYTE, SHORT, LONG or IFD), inline or out of line.
    fn value(&self, e: &Entry, i: usize) -> Result<usize, Stop> {
        let size = match e.kind {
            1 => 1,
            3 => 2,
            4 | 13 => 4,
            _ => return Err(Stop::Invalid),
        };
        if i >= e.count {
            return Err(Stop::Invalid);
        }
        let base = if e.count * size <= 4 {
            e.field
        } else {
            self.u32_at(e.field).ok_or(Stop::NeedMore)?
        };
        let at = base + i * size;
        let v = match size {
            1 => self.data.get(at).map(|&b| b as usize),
            2 => self.u16_at(at).map(usize::from),
            _ => self.u32_at(at),
        };
        v.ok_or(Stop::NeedMore)
    }

    /// Strips or tiles: every piece's end counts toward the extent.
    fn pieces(&mut self, offsets: Option<Entry>, counts: Option<Entry>) -> Result<(), Stop> {
        let Some(offsets) = offsets else {
            return Ok(());
        };
        if offsets.count == 0 || offsets.count > MAX_PIECES {
            self.damaged = true;
            return Ok(());
        }
        let Some(counts) = counts else {
            // Byte counts are required; without them only the starts are known.
            self.doubts += 1;
            for i in 0..offsets.count {
                let off = self.value(&offsets, i)?;
                if off > self.max_len {
                    return Err(Stop::Invalid);
                }
                self.extent = self.extent.max(off);
            }
            return Ok(());
        };
        if counts.count != offsets.count {
            self.damaged = true;
        }
        for i in 0..offsets.count.min(counts.count) {
            let off = self.value(&offsets, i)?;
            let len = self.value(&counts, i)?;
            if len == 0 {
                continue;
            }
            match off.checked_add(len) {
                Some(end) if end <= self.max_len => self.extent = self.extent.max(end),
                _ => return Err(Stop::Invalid),
            }
        }
        Ok(())
    }
}
