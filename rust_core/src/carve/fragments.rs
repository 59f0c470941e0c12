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
use super::{Found, Probe, Status};

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
            max_gap: 1 << 20,
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
    let block = search.block as u64;
    // Block boundaries (relative to data[0]) that may end the first fragment, latest first.
    let last = (base + valid as u64) / block * block;
    let mut cuts = Vec::new();
    let mut b = last;
    while b > base && cuts.len() <= search.back_blocks {
        cuts.push((b - base) as usize);
        b -= block;
    }
    let mut buf = Vec::new();
    for cut in cuts {
        let mut c = cut + search.block;
        while c <= cut + search.max_gap && c < data.len() {
            if let Some(found) = try_seam(kind, data, cut, c, max_len, &mut buf) {
                return Some(Reassembly {
                    found,
                    runs: [(0, cut), (c, found.len - cut)],
                });
            }
            c += search.block;
        }
    }
    None
}

/// Walk `data[..cut] ++ data[c..]`, growing the tail while the walker wants more.
fn try_seam(kind: FileType, data: &[u8], cut: usize, c: usize, max_len: usize, buf: &mut Vec<u8>) -> Option<Found> {
    let mut tail = FIRST_TAIL;
    loop {
        let end = (c + tail).min(data.len()).min(c + max_len.saturating_sub(cut));
        buf.clear();
        buf.extend_from_slice(&data[..cut]);
        buf.extend_from_slice(&data[c..end]);
        let at_eof = end == data.len();
        match kind.probe(buf, at_eof, max_len) {
            Probe::Found(f) if f.status == Status::Complete && f.len > cut => {
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
