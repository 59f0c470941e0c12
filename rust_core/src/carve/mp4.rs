//! MP4 / QuickTime / 3GP / HEIF (ISO base media file format): a walk over the top-level
//! boxes from the leading `ftyp`.
//!
//! Every box is a 32-bit size and a four-character type (size 1: a 64-bit size follows;
//! size 0: the box runs to the end of the file). The file ends at the first top-level
//! "box" that is not a plausible one (a type that is not four printable characters, a
//! size that does not fit, a second `ftyp`). Boxes the walker knows at top level are
//! taken on their header; another printable type is taken only when a known box follows
//! it. `moov` (and `moof`/`meta`) are walked inside: their children must tile them
//! exactly, and `moov` must hold an `mvhd`, so a cut file whose tail is overwritten is
//! caught there. Chunk offsets (`stco`/`co64`) that all land in an `mdat` raise the
//! confidence; one that points past the end makes the file truncated.
//!
//! Complete needs a movie (`moov`) and its media (`mdat` or fragments), or for HEIF an
//! item box (`meta`) and its data; a fragmented-MP4 initialisation segment (`moov` with
//! `mvex`) needs no media. A walk that stops early is truncated at the start of the box
//! that broke.

use super::{be_u32, be_u64, Found, Probe};

/// Box types taken on their header at top level.
const TOP_LEVEL: &[&[u8; 4]] = &[
    b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"meta", b"moof", b"mfra", b"styp", b"sidx",
    b"ssix", b"prft", b"emsg", b"pdin", b"pnot", b"PICT", b"udta",
];

/// Boxes whose payload is a sequence of boxes (checked to tile the parent exactly).
/// `meta` is an ISO full box (four bytes of version/flags first) except in QuickTime.
const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"edts", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"moof", b"traf", b"mfra",
    b"meta", b"iprp", b"ipco",
];

const MAX_DEPTH: u8 = 10;
/// At most this many `mdat` payload ranges are kept to check chunk offsets against.
const MAX_MDATS: usize = 16;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let Some(ftyp_len) = be_u32(data, 0) else {
        return need(data, at_eof, max_len);
    };
    if !(16..=4096).contains(&ftyp_len) || !ftyp_len.is_multiple_of(4) || ftyp_len > max_len {
        return Probe::Invalid;
    }
    let Some(ftyp) = data.get(..ftyp_len) else {
        return need(data, at_eof, max_len);
    };
    let major: [u8; 4] = [ftyp[8], ftyp[9], ftyp[10], ftyp[11]];
    if !is_brand(&major) || !ftyp[16..].chunks_exact(4).all(|b| is_brand(b) || b == [0; 4]) {
        return Probe::Invalid;
    }
    let subtype = subtype(&major);
    let heif = subtype == "heif" || subtype == "avif";

    let mut walk = Walk::default();
    let mut pos = ftyp_len;
    let end_reason = loop {
        if pos >= data.len() {
            if at_eof || pos >= max_len {
                break End::Stop;
            }
            return Probe::NeedMore;
        }
        let Some(head) = BoxHead::read(data, pos) else {
            // Fewer than a box header's bytes left.
            if at_eof || data.len() >= max_len {
                break End::Stop;
            }
            return Probe::NeedMore;
        };
        let known = TOP_LEVEL.contains(&&head.kind);
        // A second ftyp is the next file.
        if (!known && !is_plain_type(&head.kind)) || &head.kind == b"ftyp" {
            break End::Stop;
        }
        let box_end = match head.size {
            BoxSize::ToEnd => {
                // Runs to the end of the file: the end is not recorded anywhere.
                if !known {
                    break End::Stop;
                }
                if !at_eof && data.len() < max_len {
                    return Probe::NeedMore;
                }
                walk.note(&head.kind, pos, data.len().min(max_len));
                break End::Unbounded;
            }
            BoxSize::Bad => break End::Stop,
            BoxSize::Len(len) => match pos.checked_add(len) {
                Some(e) => e,
                None => break End::Stop,
            },
        };
        if !known {
            // An unknown type counts only when a known box (or the image's end) follows.
            match box_end.checked_add(8).and_then(|e| data.get(box_end..e)) {
                Some(_) => match BoxHead::read(data, box_end) {
                    Some(next) if TOP_LEVEL.contains(&&next.kind) => {}
                    _ => break End::Stop,
                },
                None if box_end == data.len() && at_eof => {}
                None if !at_eof && box_end < max_len && data.len() < max_len => return Probe::NeedMore,
                None => break End::Stop,
            }
        }
        if box_end > data.len() {
            if !at_eof && data.len() < max_len {
                return Probe::NeedMore;
            }
            // The image ends (or the size cap is reached) inside this box.
            walk.note(&head.kind, pos, box_end);
            break End::RunsPast(box_end);
        }
        if matches!(&head.kind, b"moov" | b"moof" | b"meta" | b"mfra") {
            let mut inner = Inner::default();
            if !children_ok(data, &head.kind, pos + head.header, box_end, 0, &mut inner)
                || (&head.kind == b"moov" && !inner.mvhd)
            {
                break End::Broken;
            }
            walk.chunks_max = walk.chunks_max.max(inner.chunks_max);
            let room = MAX_CHUNKS_KEPT.saturating_sub(walk.chunks.len());
            walk.chunks.extend(inner.chunks.into_iter().take(room));
            walk.mvex |= inner.mvex;
        }
        walk.note(&head.kind, pos + head.header, box_end);
        pos = box_end;
    };
    walk.finish(data, pos, end_reason, heif, max_len)
        .map_or(Probe::Invalid, |f| Probe::Found(f.with_subtype(subtype)))
}

fn need(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    if at_eof || data.len() >= max_len {
        Probe::Invalid
    } else {
        Probe::NeedMore
    }
}

/// Why the top-level walk stopped at `pos`.
enum End {
    /// At a byte that does not start a top-level box (or at the end of the data).
    Stop,
    /// The box at `pos` failed its inner checks.
    Broken,
    /// The box at `pos` runs to the recorded end, past the data.
    RunsPast(usize),
    /// A size-0 box at `pos` runs to the end of the data.
    Unbounded,
}

#[derive(Default)]
struct Walk {
    boxes: usize,
    moov: bool,
    mdat: bool,
    moof: bool,
    meta: bool,
    mvex: bool,
    /// Payload ranges of the `mdat` boxes.
    mdats: Vec<(usize, usize)>,
    /// Chunk offsets read from `stco`/`co64` (a bounded sample) and the largest one.
    chunks: Vec<u64>,
    chunks_max: Option<u64>,
}

impl Walk {
    fn note(&mut self, kind: &[u8; 4], payload: usize, end: usize) {
        self.boxes += 1;
        match kind {
            b"moov" => self.moov = true,
            b"moof" => self.moof = true,
            b"meta" => self.meta = true,
            b"mdat" => {
                self.mdat = true;
                if self.mdats.len() < MAX_MDATS {
                    self.mdats.push((payload, end));
                }
            }
            _ => {}
        }
    }

    fn finish(&self, data: &[u8], pos: usize, end: End, heif: bool, max_len: usize) -> Option<Found> {
        if self.boxes == 0 {
            // An ftyp followed by nothing that reads as a box.
            return None;
        }
        let whole = (self.moov && (self.mdat || self.moof || self.mvex)) || (heif && self.meta && self.mdat);
        match end {
            End::Unbounded => Some(Found::truncated(data.len().min(max_len), None, 30)),
            End::RunsPast(box_end) => {
                let have = data.len().min(max_len);
                Some(Found::truncated(have, Some((box_end - have) as u64), 50))
            }
            End::Broken => Some(Found::truncated(pos, None, 40)),
            End::Stop if !whole => Some(Found::truncated(
                pos,
                None,
                if self.moov || self.mdat { 40 } else { 20 },
            )),
            End::Stop => {
                let Some(max_chunk) = self.chunks_max else {
                    return Some(Found::complete(pos, if self.moov { 80 } else { 75 }));
                };
                if max_chunk >= pos as u64 {
                    // The movie's media reaches past where the boxes stop.
                    return Some(Found::truncated(pos, None, 40));
                }
                let in_mdat = self
                    .chunks
                    .iter()
                    .all(|&c| self.mdats.iter().any(|&(s, e)| (s as u64..e as u64).contains(&c)));
                Some(Found::complete(pos, if in_mdat { 95 } else { 75 }))
            }
        }
    }
}

/// What the inner walk of `moov`/`moof`/`meta` found.
#[derive(Default)]
struct Inner {
    mvhd: bool,
    mvex: bool,
    chunks: Vec<u64>,
    chunks_max: Option<u64>,
}

/// At most this many chunk offsets are kept for the in-`mdat` check (all are scanned
/// for the largest).
const MAX_CHUNKS_KEPT: usize = 4096;

/// The boxes in `data[start..end]` tile it exactly; containers among them are walked too.
fn children_ok(
    data: &[u8],
    parent: &[u8; 4],
    start: usize,
    end: usize,
    depth: u8,
    inner: &mut Inner,
) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let mut pos = start;
    if parent == b"meta" {
        // ISO: a full box (version 0, flags 0) before its children; QuickTime: none.
        if data.get(pos..pos + 4) == Some(&[0, 0, 0, 0]) {
            pos += 4;
        }
    }
    while pos < end {
        if end - pos < 8 {
            // QuickTime ends some atom lists with a 32-bit zero.
            return data
                .get(pos..end)
                .is_some_and(|rest| rest.iter().all(|&b| b == 0));
        }
        let Some(head) = BoxHead::read(data, pos) else {
            return false;
        };
        if !is_child_type(&head.kind) {
            // A QuickTime list may also end with a zero terminator of 4 bytes + padding.
            return head.kind == [0; 4] && data.get(pos..end).is_some_and(|r| r.iter().all(|&b| b == 0));
        }
        let BoxSize::Len(len) = head.size else {
            return false;
        };
        let Some(child_end) = pos.checked_add(len).filter(|&e| e <= end) else {
            return false;
        };
        let payload = pos + head.header;
        match &head.kind {
            b"mvhd" => inner.mvhd = true,
            b"mvex" => inner.mvex = true,
            b"stco" | b"co64" if !chunk_offsets(data, &head.kind, payload, child_end, inner) => return false,
            _ => {}
        }
        if CONTAINERS.contains(&&head.kind)
            && !children_ok(data, &head.kind, payload, child_end, depth + 1, inner)
        {
            return false;
        }
        pos = child_end;
    }
    pos == end
}

/// Read a chunk offset table: its entry count must fit the box.
fn chunk_offsets(data: &[u8], kind: &[u8; 4], payload: usize, end: usize, inner: &mut Inner) -> bool {
    let width = if kind == b"co64" { 8 } else { 4 };
    let Some(count) = be_u32(data, payload + 4) else {
        return false;
    };
    let table = payload + 8;
    if count
        .checked_mul(width)
        .and_then(|n| n.checked_add(table))
        .is_none_or(|e| e > end)
    {
        return false;
    }
    for i in 0..count {
        let at = table + i * width;
        let off = if width == 8 {
            be_u64(data, at)
        } else {
            be_u32(data, at).map(|v| v as u64)
        };
        let Some(off) = off else {
            return false;
        };
        inner.chunks_max = Some(inner.chunks_max.map_or(off, |m| m.max(off)));
        if inner.chunks.len() < MAX_CHUNKS_KEPT {
            inner.chunks.push(off);
        }
    }
    true
}

enum BoxSize {
    Len(usize),
    ToEnd,
    Bad,
}

struct BoxHead {
    kind: [u8; 4],
    size: BoxSize,
    /// Bytes of header before the payload (8, or 16 with a 64-bit size).
    header: usize,
}

impl BoxHead {
    /// The header at `pos`; `None` when the data ends inside it.
    fn read(data: &[u8], pos: usize) -> Option<BoxHead> {
        let size = be_u32(data, pos)?;
        let t = data.get(pos + 4..pos + 8)?;
        let kind = [t[0], t[1], t[2], t[3]];
        let (size, header) = match size {
            0 => (BoxSize::ToEnd, 8),
            1 => {
                let large = be_u64(data, pos + 8)?;
                match usize::try_from(large) {
                    Ok(l) if l >= 16 => (BoxSize::Len(l), 16),
                    _ => (BoxSize::Bad, 16),
                }
            }
            2..=7 => (BoxSize::Bad, 8),
            n => (BoxSize::Len(n), 8),
        };
        Some(BoxHead { kind, size, header })
    }
}

/// A brand: four printable characters, the first a letter or digit.
fn is_brand(b: &[u8]) -> bool {
    b.len() == 4 && b[0].is_ascii_alphanumeric() && b.iter().all(|&c| c.is_ascii_graphic() || c == b' ')
}

/// An unknown top-level type the walker may accept: letters, digits and spaces.
fn is_plain_type(t: &[u8; 4]) -> bool {
    t[0].is_ascii_alphanumeric() && t.iter().all(|&c| c.is_ascii_alphanumeric() || c == b' ')
}

/// A child box type: printable ASCII, or QuickTime's '©' (0xA9) metadata prefix.
fn is_child_type(t: &[u8; 4]) -> bool {
    (t[0].is_ascii_graphic() || t[0] == 0xA9) && t[1..].iter().all(|&c| c.is_ascii_graphic() || c == b' ')
}

fn subtype(major: &[u8; 4]) -> &'static str {
    match major {
        b"qt  " => "mov",
        b"M4A " | b"M4B " | b"M4P " => "m4a",
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => "heif",
        b"avif" | b"avis" => "avif",
        b"crx " => "cr3",
        [b'3', b'g', ..] => "3gp",
        _ => "mp4",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_map_to_subtypes() {
        assert_eq!(subtype(b"qt  "), "mov");
        assert_eq!(subtype(b"3gp5"), "3gp");
        assert_eq!(subtype(b"mif1"), "heif");
        assert_eq!(subtype(b"isom"), "mp4");
    }

    #[test]
    fn header_only_asks_for_more_until_the_cap() {
        let ftyp = b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00";
        assert_eq!(probe(ftyp, false, 1 << 20), Probe::NeedMore);
        assert_eq!(probe(ftyp, false, 16), Probe::Invalid);
        assert_eq!(probe(ftyp, true, 1 << 20), Probe::Invalid);
    }
}
