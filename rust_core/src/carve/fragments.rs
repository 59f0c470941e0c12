//! Bifragment gap carving: a file whose structure breaks at a block boundary is tried
//! again as its first fragment followed by data from each later block boundary, up to
//! a largest gap; the first continuation with which the type's walker reaches the file's
//! end with every check passing gives the reassembled file and its two byte runs.
//!
//! Only types whose structure can confirm a seam are tried (JPEG markers up to EOI, a
//! ZIP's central directory pointing at every local header, a PDF's startxref pointing
//! at its xref). Wrong continuations usually fail within a few hundred bytes, so each
//! try first walks a short tail and only grows it while the walker asks for more.

use super::kinds::FileType;
use super::{jpeg, le_u32, pdf, Found, Probe, Status};
use memchr::memmem;

/// How far to look for the second fragment, and in what units.
#[derive(Debug, Clone, Copy)]
pub struct GapSearch {
    /// Fragments begin and end on multiples of this (the filesystem's cluster size).
    pub block: usize,
    /// Largest gap between the fragments.
    pub max_gap: usize,
    /// How many block boundaries before the point where the walk broke to try as the
    /// end of the first fragment (data after the real boundary can look valid for a while).
    pub back_blocks: usize,
}

impl Default for GapSearch {
    fn default() -> Self {
        GapSearch {
            block: 4096,
            max_gap: 256 << 10,
            back_blocks: 4,
        }
    }
}

/// A file put back together from two runs: `runs` are (offset, length) relative to the
/// start of the data handed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembly {
    pub found: Found,
    pub runs: [(usize, usize); 2],
}

/// The types reassembly is tried for.
pub fn reassembles(kind: FileType) -> bool {
    matches!(kind, FileType::Jpeg | FileType::Zip | FileType::Pdf)
}

const FIRST_TAIL: usize = 64 << 10;

/// Try to reassemble a `kind` file that starts at `data[0]` (image offset `base`) and
/// whose walk broke after `valid` bytes. `data` runs from the header through the gap
/// search region and the largest second fragment wanted; `max_len` caps the file.
pub fn reassemble(
    kind: FileType,
    data: &[u8],
    base: u64,
    valid: usize,
    max_len: usize,
    search: GapSearch,
) -> Option<Reassembly> {
    if !reassembles(kind) || search.block == 0 {
        return None;
    }
    let block = search.block;
    let mut buf = Seam::default();
    // Where the file records its own layout (a ZIP's central directory offset, a PDF's
    // startxref), the distance between the fragments follows from it: only the cut is
    // unknown, and it may lie anywhere from a little before the break onwards.
    let shifts = recorded_shifts(kind, data, valid, search);
    let earliest = first_cut(base, 0, search);
    if kind == FileType::Pdf {
        return shifts
            .iter()
            .find_map(|&shift| pdf_seam(data, shift, earliest, block, max_len, &mut buf));
    }
    for &shift in &shifts {
        let mut cut = earliest;
        let mut tries = 0;
        while cut + shift < data.len() && tries < MAX_CUTS {
            if let Some(r) = attempt(kind, data, cut, cut + shift, max_len, &mut buf) {
                // When the next cut passes too, the structure does not pin the seam (a
                // PDF's uncompressed stream spans it): report no reassembly, not a guess.
                let next = cut + block;
                let ambiguous = attempt(kind, data, next, next + shift, max_len, &mut buf).is_some();
                return (!ambiguous).then_some(r);
            }
            cut += block;
            tries += 1;
        }
    }
    if !shifts.is_empty() {
        return None;
    }
    // A ZIP is whole only with its end record: with none after the break, no
    // continuation can complete it.
    if kind == FileType::Zip && memmem::find(data.get(valid..).unwrap_or_default(), b"PK\x05\x06").is_none() {
        return None;
    }
    // Otherwise (JPEG) the break shows soon after the cut. The walk's trusted length can
    // stop well before it (a segment it could not check), so a JPEG's marker walk names
    // where it breaks too.
    let mut breaks = vec![valid];
    if kind == FileType::Jpeg {
        breaks.extend(jpeg::breaks(data).into_iter().filter(|&b| b > valid));
    }
    breaks.dedup();
    breaks
        .into_iter()
        .find_map(|at| gap_search(kind, data, first_cut(base, at, search), search, max_len, &mut buf))
}

/// Try the last few block boundaries before a break (from `first` + `back_blocks` blocks
/// down to `first`) as the end of the first fragment, each with every gap up to the
/// largest; the first continuation that completes the file wins.
fn gap_search(
    kind: FileType,
    data: &[u8],
    first: usize,
    search: GapSearch,
    max_len: usize,
    buf: &mut Seam,
) -> Option<Reassembly> {
    let block = search.block;
    let mut cut = first + search.back_blocks * block;
    loop {
        // Where the cut falls tells what a JPEG's continuation must look like: most gaps
        // are ruled out by a look at a few of their bytes, without walking (and
        // decoding) the whole file again for each.
        let cut_in = if kind == FileType::Jpeg {
            jpeg::cut_in(data, cut)
        } else {
            jpeg::CutIn::Unknown
        };
        let mut c = cut + block;
        while c <= cut + search.max_gap && c < data.len() {
            let plausible = match cut_in {
                jpeg::CutIn::ScanData => {
                    jpeg::scan_data_may_continue(&data[c..(c + FIRST_TAIL).min(data.len())])
                }
                jpeg::CutIn::Segment { rest } => data.get(c + rest) == Some(&0xFF),
                jpeg::CutIn::Unknown => true,
            };
            if plausible {
                if let Some(r) = attempt(kind, data, cut, c, max_len, buf) {
                    return pinned(kind, data, cut, c - cut, r, search, max_len, buf);
                }
            }
            c += block;
        }
        if cut <= first || cut < block {
            return None;
        }
        cut -= block;
    }
}

/// A seam found at `cut` with the fragments `shift` apart, if nothing else explains the
/// file as well. When the cut next to it passes too (it lies in a segment whose content
/// no walker checks, such as a JPEG comment), the structure does not pin it: inside text,
/// only the right cut has text on both sides (one too late takes in gap bytes before it,
/// one too early after it); otherwise nothing is reported rather than a guess.
#[allow(clippy::too_many_arguments)]
fn pinned(
    kind: FileType,
    data: &[u8],
    cut: usize,
    shift: usize,
    found: Reassembly,
    search: GapSearch,
    max_len: usize,
    buf: &mut Seam,
) -> Option<Reassembly> {
    let block = search.block;
    let mut passes = |at: usize| at > 0 && attempt(kind, data, at, at + shift, max_len, buf).is_some();
    if !passes(cut + block) && (cut < block || !passes(cut - block)) {
        return Some(found);
    }
    let lowest = cut.saturating_sub(PIN_SEARCH * block);
    let mut textual = (0..)
        .map(|i| cut + search.back_blocks * block - i * block)
        .take_while(|&at| at >= lowest.max(block))
        .filter(|&at| seam_is_text(data, at, shift));
    let (Some(only), None) = (textual.next(), textual.next()) else {
        return None;
    };
    attempt(kind, data, only, only + shift, max_len, buf)
}

/// Block boundaries before an unpinned cut looked at for the one inside text.
const PIN_SEARCH: usize = 64;

/// A PDF whose fragments lie `shift` apart: its cross-reference tables (the last, found
/// `shift` past where startxref records it, and the earlier ones its `/Prev`s name) pin
/// the cut between the last object or table found where recorded and the first one found
/// `shift` later. Only block boundaries in that interval are tried, each walked whole;
/// with two that pass, the seam is not pinned and nothing is reported.
fn pdf_seam(
    data: &[u8],
    shift: usize,
    earliest: usize,
    block: usize,
    max_len: usize,
    buf: &mut Seam,
) -> Option<Reassembly> {
    let table = memmem::find_iter(data, b"startxref")
        .filter_map(|k| pdf::number_at(data, k + 9))
        .find(|&x| data.get(x + shift..).is_some_and(|t| t.starts_with(b"xref")))?;
    let (mut lo, mut hi) = (earliest, data.len().saturating_sub(shift));
    let is_table = |at: usize| data.get(at..).is_some_and(|t| t.starts_with(b"xref"));
    let mut section = Some(table);
    for newest in (0..MAX_SECTIONS).map(|i| i == 0) {
        let Some(x) = section.take() else { break };
        let here = match (is_table(x), is_table(x + shift)) {
            (true, false) => {
                lo = lo.max(x + 1);
                x
            }
            (false, true) => {
                hi = hi.min(x);
                x + shift
            }
            _ => break, // where this section lies cannot be told
        };
        let Some(entries) = pdf::xref_in_use(data, here, usize::MAX) else {
            if newest {
                return None;
            }
            break;
        };
        for (n, offset) in entries {
            match (
                pdf::object_at(data, offset, n),
                pdf::object_at(data, offset + shift, n),
            ) {
                (true, false) => lo = lo.max(offset + 1),
                (false, true) => hi = hi.min(offset),
                (false, false) if newest => return None, // this shift does not explain the file
                _ => {}
            }
        }
        section = pdf::previous_section(data, here);
    }
    if lo > hi {
        return None;
    }
    let cuts: Vec<usize> = (0..MAX_CUTS)
        .map(|i| earliest + (lo - earliest).div_ceil(block) * block + i * block)
        .take_while(|&cut| cut <= hi)
        .collect();
    // Inside an uncompressed (text) stream, only the right cut has text on both sides of
    // the seam: a cut too late takes in gap bytes before it, one too early after it.
    let textual: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&cut| seam_is_text(data, cut, shift))
        .collect();
    let tried = if textual.is_empty() || textual.len() > 8 {
        &cuts
    } else {
        &textual
    };
    let mut found = None;
    for &cut in tried {
        if let Some(r) = attempt(FileType::Pdf, data, cut, cut + shift, max_len, buf) {
            if found.is_some() {
                return None; // two seams pass: ambiguous
            }
            found = Some(r);
        }
    }
    found
}

/// Bytes on each side of a seam that must be text for it to count as one inside text.
const TEXT_SIDE: usize = 512;

/// Are the bytes before the cut and after the continuation's start all printable ASCII
/// or whitespace?
fn seam_is_text(data: &[u8], cut: usize, shift: usize) -> bool {
    let text = |b: &[u8]| {
        b.iter()
            .all(|&c| (0x20..0x7F).contains(&c) || matches!(c, b'\n' | b'\r' | b'\t'))
    };
    let (Some(before), Some(after)) = (
        data.get(cut.saturating_sub(TEXT_SIDE)..cut),
        data.get(cut + shift..cut + shift + TEXT_SIDE),
    ) else {
        return false;
    };
    cut >= TEXT_SIDE && text(before) && text(after)
}

/// Cross-reference sections followed back through `/Prev` at most.
const MAX_SECTIONS: usize = 64;

/// Most cuts tried for one recorded shift.
const MAX_CUTS: usize = 1024;

/// The earliest block boundary (relative to data[0], after it) tried as the cut.
fn first_cut(base: u64, valid: usize, search: GapSearch) -> usize {
    let block = search.block as u64;
    let at_break = (base + valid as u64) / block * block;
    let earliest = at_break.saturating_sub((search.back_blocks as u64) * block);
    let first_boundary = base.div_ceil(block) * block;
    (earliest.max(first_boundary).max(base + 1).div_ceil(block) * block - base) as usize
}

fn attempt(
    kind: FileType,
    data: &[u8],
    cut: usize,
    c: usize,
    max_len: usize,
    buf: &mut Seam,
) -> Option<Reassembly> {
    if cut == 0 || c >= data.len() {
        return None;
    }
    try_seam(kind, data, cut, c, max_len, buf).map(|found| Reassembly {
        found,
        runs: [(0, cut), (c, found.len - cut)],
    })
}

/// Gaps between fragments implied by the file's own offsets, nearest first.
fn recorded_shifts(kind: FileType, data: &[u8], valid: usize, search: GapSearch) -> Vec<usize> {
    // A ZIP's end record follows the break; a PDF's startxref may precede it (the walk
    // of a damaged PDF runs on past the seam).
    let from = if kind == FileType::Zip {
        valid.min(data.len())
    } else {
        0
    };
    let mut out = Vec::new();
    match kind {
        FileType::Zip => {
            for e in memmem::find_iter(&data[from..], b"PK\x05\x06")
                .map(|e| e + from)
                .take(8)
            {
                let (Some(cd_size), Some(cd_off)) = (le_u32(data, e + 12), le_u32(data, e + 16)) else {
                    continue;
                };
                let Some(phys) = e.checked_sub(cd_size) else {
                    continue;
                };
                if data.get(phys..phys + 4) == Some(b"PK\x01\x02") && phys > cd_off {
                    out.push(phys - cd_off);
                }
            }
        }
        FileType::Pdf => {
            for k in memmem::find_iter(&data[from..], b"startxref")
                .map(|k| k + from)
                .take(64)
            {
                let Some(n) = pdf::number_at(data, k + 9) else {
                    continue;
                };
                let mut gap = search.block;
                while gap <= search.max_gap {
                    if data.get(n + gap..).is_some_and(|at| at.starts_with(b"xref")) {
                        out.push(gap);
                        break;
                    }
                    gap += search.block;
                }
            }
        }
        _ => {}
    }
    out.retain(|s| s % search.block == 0 && *s <= search.max_gap);
    out.dedup();
    out
}

/// Walk `data[..cut] ++ data[c..]`, growing the tail while the walker wants more.
fn try_seam(
    kind: FileType,
    data: &[u8],
    cut: usize,
    c: usize,
    max_len: usize,
    buf: &mut Seam,
) -> Option<Found> {
    let mut tail = FIRST_TAIL;
    loop {
        let end = (c + tail).min(data.len()).min(c + max_len.saturating_sub(cut));
        let buf = buf.with_head(data, cut);
        buf.extend_from_slice(&data[c..end]);
        let at_eof = end == data.len();
        match kind.probe(buf, at_eof, max_len) {
            Probe::Found(f)
                if f.status == Status::Complete && f.len > cut && seam_holds(kind, &buf[..f.len]) =>
            {
                return Some(Found {
                    confidence: f.confidence.saturating_sub(20),
                    ..f
                })
            }
            Probe::NeedMore if end < data.len() && buf.len() < max_len => tail *= 4,
            _ => return None,
        }
    }
}

/// Checks the walker leaves out but a seam must pass: every object a PDF's last
/// cross-reference table lists as in use starts where the table says.
fn seam_holds(kind: FileType, file: &[u8]) -> bool {
    if kind != FileType::Pdf {
        return true;
    }
    let xref = memmem::rfind(file, b"startxref").and_then(|k| pdf::number_at(file, k + 9));
    // A cross-reference stream is not checked, so it does not pin the seam.
    xref.is_some_and(|x| pdf::xref_entries_agree(file, x, usize::MAX) == Some(true))
}

/// The buffer a seam is walked in; the first fragment is copied once per cut, and only
/// the continuation is replaced from one try to the next.
#[derive(Default)]
struct Seam {
    buf: Vec<u8>,
    cut: Option<usize>,
}

impl Seam {
    fn with_head(&mut self, data: &[u8], cut: usize) -> &mut Vec<u8> {
        if self.cut == Some(cut) {
            self.buf.truncate(cut);
        } else {
            self.buf.clear();
            self.buf.extend_from_slice(&data[..cut]);
            self.cut = Some(cut);
        }
        &mut self.buf
    }
}
