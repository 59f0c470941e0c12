//! Known-image lists: 256-bit PDQ hashes matched within a Hamming distance, by multi-index
//! hashing (MIH), in one memory-mapped file.
//!
//! A list's hashes are cut into `m` contiguous substrings (chunks) of about 256/m bits. If a
//! hash lies within distance r of a query, then writing r = s*m + a (0 <= a < m), one of the
//! first a+1 chunks is within s of the query's chunk, or one of the others within s-1 (else
//! the distance would be at least (a+1)(s+1) + (m-a-1)s = r+1). So a query looks up, in
//! each chunk's table, every chunk value within that radius of its own, and checks the full
//! distance of only the hashes found there. With chunks of about log2(N) bits a bucket
//! holds about one hash, and a query at r = 31 against 10 M hashes checks a few thousand
//! instead of ten million.
//!
//! `IndexBuilder` sorts and deduplicates (hash, label) entries and writes the file;
//! `PdqIndex` maps it read-only (every worker process on a node shares one copy in the
//! page cache) and answers single and batched queries, spread over threads, with either
//! MIH or a linear scan, whichever its cost estimate says is cheaper (the linear scan is
//! also the brute-force reference).

mod builder;
mod format;
mod index;

pub use builder::{BuildStats, IndexBuilder};
pub use format::FORMAT_VERSION;
pub use index::{Match, Method, PdqIndex};

use std::fmt;
use std::path::PathBuf;

/// A PDQ hash as four 64-bit words; word 0 holds the first 16 hex digits (most significant
/// bits first), so the words' order is the hex text's order.
pub type Pdq = [u64; 4];

/// The PDQ authors' recommended match distance.
pub const DEFAULT_THRESHOLD: u32 = 31;
/// Bits in a PDQ hash.
pub const BITS: u32 = 256;
/// Bytes in a PDQ hash.
pub const WIDTH: usize = 32;
/// Fewest and most chunks an index may have (chunks of at most 24 bits keep a chunk's
/// bucket table at most 64 MiB; of at least 4 bits, at least 16 buckets).
pub const MIN_CHUNKS: usize = 11;
pub const MAX_CHUNKS: usize = 64;

/// Hamming distance of two hashes.
#[inline(always)]
pub fn distance(a: &Pdq, b: &Pdq) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

/// The hash spelled by 64 hex digits (either case), or None.
pub fn parse_hex(text: &str) -> Option<Pdq> {
    let text = text.as_bytes();
    if text.len() != 2 * WIDTH {
        return None;
    }
    let mut h = [0u64; 4];
    for (word, digits) in h.iter_mut().zip(text.chunks_exact(16)) {
        for &c in digits {
            *word = (*word << 4) | u64::from(hex_value(c)?);
        }
    }
    Some(h)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// 64 lowercase hex digits.
pub fn to_hex(h: &Pdq) -> String {
    h.iter().map(|w| format!("{w:016x}")).collect()
}

/// The hash in 32 raw bytes (the hex text's bytes, as `bytes.fromhex` gives them).
pub fn from_bytes(raw: &[u8; WIDTH]) -> Pdq {
    let mut h = [0u64; 4];
    for (word, bytes) in h.iter_mut().zip(raw.as_chunks::<8>().0) {
        *word = u64::from_be_bytes(*bytes);
    }
    h
}

/// Raw bytes laid end to end as hashes, or the problem with their length.
pub fn hashes_from_bytes(raw: &[u8], what: &str) -> Result<Vec<Pdq>, PdqError> {
    let (hashes, rest) = raw.as_chunks::<WIDTH>();
    if !rest.is_empty() {
        return Err(PdqError::Argument(format!(
            "{what}: {} bytes is not a whole number of {WIDTH}-byte PDQ hashes",
            raw.len()
        )));
    }
    Ok(hashes.iter().map(from_bytes).collect())
}

/// How the 256 bits are cut into `m` chunks: chunk i covers `width(i)` bits from bit
/// `start(i)` (bit 0 is the most significant of word 0); the first 256 % m chunks are one
/// bit wider than the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunks {
    starts: Vec<u32>,
    widths: Vec<u32>,
    /// Each chunk's bits as a mask over the four words, for per-chunk distances.
    masks: Vec<Pdq>,
}

impl Chunks {
    /// The layout of `m` chunks (MIN_CHUNKS..=MAX_CHUNKS).
    pub fn new(m: usize) -> Result<Chunks, PdqError> {
        if !(MIN_CHUNKS..=MAX_CHUNKS).contains(&m) {
            return Err(PdqError::Argument(format!(
                "{m} chunks: an index has {MIN_CHUNKS} to {MAX_CHUNKS}"
            )));
        }
        let (base, wider) = (BITS as usize / m, BITS as usize % m);
        let mut chunks = Chunks {
            starts: Vec::with_capacity(m),
            widths: Vec::with_capacity(m),
            masks: Vec::with_capacity(m),
        };
        let mut start = 0u32;
        for i in 0..m {
            let width = (base + usize::from(i < wider)) as u32;
            let mut mask = [0u64; 4];
            for bit in start..start + width {
                mask[(bit / 64) as usize] |= 1u64 << (63 - bit % 64);
            }
            chunks.starts.push(start);
            chunks.widths.push(width);
            chunks.masks.push(mask);
            start += width;
        }
        Ok(chunks)
    }

    /// The chunk count that suits a list of `count` hashes: chunks of about log2(count)
    /// bits (so a bucket holds about one hash), at most 22 bits (a 16 MiB bucket table).
    pub fn for_count(count: u64) -> usize {
        let bits = (count.max(1) as f64).log2().round().clamp(8.0, 22.0) as usize;
        (BITS as usize).div_ceil(bits).clamp(MIN_CHUNKS, MAX_CHUNKS)
    }

    pub fn len(&self) -> usize {
        self.widths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.widths.is_empty()
    }

    pub fn width(&self, i: usize) -> u32 {
        self.widths[i]
    }

    /// Chunk `i` of `h` as a number below 2^width(i).
    #[inline(always)]
    pub fn value(&self, h: &Pdq, i: usize) -> u32 {
        let (start, width) = (self.starts[i], self.widths[i]);
        let (word, offset) = ((start / 64) as usize, start % 64);
        let bits = if offset + width <= 64 {
            h[word] << offset >> (64 - width)
        } else {
            // Straddles two words: the low bits of `word`, then the high bits of the next.
            let high = 64 - offset;
            let low = width - high;
            ((h[word] << offset >> offset) << low) | (h[word + 1] >> (64 - low))
        };
        bits as u32
    }

    /// How many bits of chunk `i` are set in `x` (the XOR of two hashes).
    #[inline(always)]
    pub fn distance_in(&self, x: &Pdq, i: usize) -> u32 {
        let m = &self.masks[i];
        (x[0] & m[0]).count_ones()
            + (x[1] & m[1]).count_ones()
            + (x[2] & m[2]).count_ones()
            + (x[3] & m[3]).count_ones()
    }

    /// Each chunk's search radius for `threshold` (None: the chunk need not be searched),
    /// by the refined pigeonhole rule in the module's notes.
    pub fn radii(&self, threshold: u32) -> Vec<Option<u32>> {
        let m = self.len() as u32;
        let (s, a) = (threshold / m, threshold % m);
        (0..m)
            .map(|i| if i <= a { Some(s) } else { s.checked_sub(1) })
            .collect()
    }
}

/// What can go wrong with an index; every variant names the file or the argument at fault.
#[derive(Debug)]
pub enum PdqError {
    /// Reading or writing `path` failed.
    Io { path: PathBuf, source: std::io::Error },
    /// `path` is not a usable PDQ index file; `problem` says why.
    Corrupt { path: PathBuf, problem: String },
    /// An argument the index cannot take.
    Argument(String),
}

impl PdqError {
    pub(crate) fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> PdqError + '_ {
        move |source| PdqError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for PdqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdqError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            PdqError::Corrupt { path, problem } => {
                write!(f, "{}: not a valid PDQ index file: {problem}", path.display())
            }
            PdqError::Argument(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for PdqError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PdqError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
