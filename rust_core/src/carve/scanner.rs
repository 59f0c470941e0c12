//! One pass over a window that finds every signature of every type.
//!
//! Every-byte scans use a packed multi-pattern searcher (SIMD "Teddy", several GB/s on
//! one core) to jump between positions where some signature may start; each such
//! position is then compared with the full signatures that begin with its byte. One
//! pass costs about the same whatever the number of types, where one substring search
//! per signature would read the window once per signature.
//!
//! Aligned scans look only at the aligned positions, testing each against a bitmap of
//! the two-byte pairs that begin a signature (8 KiB, so it stays in L1 cache).

use super::kinds::{Signature, SIGNATURES};
use aho_corasick::packed::{self, MatchKind};
use aho_corasick::Span;

/// A signature found in a window: the file it announces would start at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub start: usize,
    /// Index into [`SIGNATURES`].
    pub signature: usize,
}

impl Candidate {
    pub fn signature(&self) -> &'static Signature {
        &SIGNATURES[self.signature]
    }
}

/// The searcher and pair table, built once.
pub struct Scanner {
    /// None on a CPU without the SIMD the packed searcher needs; the pair table serves.
    teddy: Option<packed::Searcher>,
    pairs: Box<[u64; 1024]>,
    /// For each first byte, the signatures that begin with it (short lists).
    by_first: Vec<Vec<usize>>,
    /// The distinct offsets at which signatures stand inside their files.
    offsets: Vec<usize>,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

fn pair(a: u8, b: u8) -> usize {
    (a as usize) << 8 | b as usize
}

impl Scanner {
    pub fn new() -> Self {
        let mut pairs = Box::new([0u64; 1024]);
        let mut by_first = vec![Vec::new(); 256];
        let mut offsets = Vec::new();
        for (i, s) in SIGNATURES.iter().enumerate() {
            assert!(s.bytes.len() >= 2, "signature shorter than two bytes");
            let p = pair(s.bytes[0], s.bytes[1]);
            pairs[p / 64] |= 1 << (p % 64);
            by_first[s.bytes[0] as usize].push(i);
            if !offsets.contains(&s.at) {
                offsets.push(s.at);
            }
        }
        let teddy = packed::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .builder()
            .extend(SIGNATURES.iter().map(|s| s.bytes))
            .build();
        Scanner {
            teddy,
            pairs,
            by_first,
            offsets,
        }
    }

    #[inline(always)]
    fn marked(&self, a: u8, b: u8) -> bool {
        let p = pair(a, b);
        self.pairs[p / 64] & (1 << (p % 64)) != 0
    }

    /// Full signatures that match at `pos` and whose file starts before `owned`.
    #[inline]
    fn confirm(&self, data: &[u8], pos: usize, owned: usize, out: &mut Vec<Candidate>) {
        for &i in &self.by_first[data[pos] as usize] {
            let s = &SIGNATURES[i];
            if pos >= s.at && pos - s.at < owned && data[pos..].starts_with(s.bytes) {
                out.push(Candidate {
                    start: pos - s.at,
                    signature: i,
                });
            }
        }
    }

    /// Every candidate whose file starts in `data[..owned]`, sorted by start. With
    /// `align` > 1, only files starting where `(base + start) % align == 0`.
    pub fn candidates(&self, data: &[u8], base: u64, owned: usize, align: u64) -> Vec<Candidate> {
        let owned = owned.min(data.len());
        let mut out = Vec::new();
        if align > 1 {
            self.aligned(data, base, owned, align, &mut out);
        } else {
            self.every_byte(data, owned, &mut out);
        }
        out.sort_unstable();
        out
    }

    fn every_byte(&self, data: &[u8], owned: usize, out: &mut Vec<Candidate>) {
        let max_at = self.offsets.iter().copied().max().unwrap_or(0);
        // A signature may begin up to `max_at` past the owned part (its file starts inside).
        let end = (owned + max_at + 1).min(data.len());
        let longest = SIGNATURES.iter().map(|s| s.bytes.len()).max().unwrap_or(0);
        let region = &data[..(end + longest - 1).min(data.len())];
        // The searcher reports the leftmost match; every signature at that position is
        // then confirmed and the search resumes one byte later, so overlapping
        // signatures are all seen, exactly as the naive scan sees them.
        let Some(teddy) = &self.teddy else {
            for pos in 0..end.saturating_sub(1) {
                if self.marked(data[pos], data[pos + 1]) {
                    self.confirm(data, pos, owned, out);
                }
            }
            return;
        };
        let mut from = 0;
        while from < end {
            let span = Span {
                start: from,
                end: region.len(),
            };
            let Some(m) = teddy.find_in(region, span) else {
                break;
            };
            if m.start() >= end {
                break;
            }
            self.confirm(data, m.start(), owned, out);
            from = m.start() + 1;
        }
    }

    fn aligned(&self, data: &[u8], base: u64, owned: usize, align: u64, out: &mut Vec<Candidate>) {
        let first = ((align - base % align) % align) as usize;
        let mut start = first;
        while start < owned {
            for &at in &self.offsets {
                let pos = start + at;
                if pos + 1 < data.len() && self.marked(data[pos], data[pos + 1]) {
                    for &i in &self.by_first[data[pos] as usize] {
                        let s = &SIGNATURES[i];
                        if s.at == at && data[pos..].starts_with(s.bytes) {
                            out.push(Candidate { start, signature: i });
                        }
                    }
                }
            }
            start += align as usize;
        }
    }
}

/// The reference the fast scanner is tested against: every start, every signature.
pub fn naive_candidates(data: &[u8], owned: usize) -> Vec<Candidate> {
    let owned = owned.min(data.len());
    let mut out = Vec::new();
    for start in 0..owned {
        for (i, s) in SIGNATURES.iter().enumerate() {
            if data
                .get(start + s.at..)
                .is_some_and(|rest| rest.starts_with(s.bytes))
            {
                out.push(Candidate { start, signature: i });
            }
        }
    }
    out.sort_unstable();
    out
}
