//! ssdeep-compatible context-triggered piecewise hashing (CTPH), as libfuzzy 2.14 does it.
//!
//! A rolling hash over a 7-byte window cuts the input into pieces wherever its value hits
//! a trigger that depends on the block size; each piece contributes one base64 character
//! (a 6-bit FNV-style hash of the piece). The digest is `bs:part1:part2`, part1 at block
//! size `bs` and part2 at `2*bs`, where `bs` is the smallest `3*2^k` whose pieces fill at
//! least half of a 64-character part.
//!
//! The block size depends on the total length, which a stream does not know in advance,
//! so every candidate block size (31 of them) runs at once, as libfuzzy's streaming mode
//! does: a block size starts the first time the one below it triggers, and the smallest
//! ones are dropped once they can no longer be chosen. The state is fixed (about 2.5 KiB)
//! whatever the input size.
//!
//! Inputs beyond libfuzzy's limit (3 * 2^30 * 64 bytes, 192 GiB), which it refuses, get the
//! largest block size here instead of an error.

use super::DigestError;

const ROLLING_WINDOW: usize = 7;
const MIN_BLOCKSIZE: u64 = 3;
const SPAMSUM_LENGTH: usize = 64;
const HALF_LENGTH: usize = SPAMSUM_LENGTH / 2;
const NUM_BLOCKHASHES: usize = 31;
/// The low 6 bits of libfuzzy's FNV start value 0x28021967: only those reach the digest.
const HASH_INIT: u8 = 0x27;
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const fn block_size(index: usize) -> u64 {
    MIN_BLOCKSIZE << index
}

/// The piece hashes of all block sizes: a piece hash is the low 6 bits of FNV-1
/// (`h * 0x01000193 ^ c`), and those depend only on the low 6 bits of `h` and `c`, so it
/// fits a 16-bit lane and eight of them step in one vector multiply. Block size `i` has
/// its `h` in lane `2i` and its `halfh` in lane `2i + 1`, so the live ones sit together.
#[derive(Clone, Copy)]
struct Lanes([[u16; LANES_PER_CHUNK]; LANE_CHUNKS]);

const LANES_PER_CHUNK: usize = 8;
/// Two lanes per block size, plus the would-be block size past the last (libfuzzy's `lasth`).
const LANE_CHUNKS: usize = (2 * (NUM_BLOCKHASHES + 1)).div_ceil(LANES_PER_CHUNK);

impl Lanes {
    const INIT: Lanes = Lanes([[HASH_INIT as u16; LANES_PER_CHUNK]; LANE_CHUNKS]);

    /// Step the lanes of the chunks in `chunks` with byte `c`.
    #[inline(always)]
    fn step(&mut self, chunks: std::ops::Range<usize>, c: u8) {
        for chunk in &mut self.0[chunks] {
            for lane in chunk.iter_mut() {
                *lane = (lane.wrapping_mul(0x93) ^ c as u16) & 0x3f;
            }
        }
    }

    /// The chunks holding block sizes `start..end`.
    fn chunks(start: usize, end: usize) -> std::ops::Range<usize> {
        2 * start / LANES_PER_CHUNK..(2 * end).div_ceil(LANES_PER_CHUNK)
    }

    fn get(&self, lane: usize) -> u8 {
        self.0[lane / LANES_PER_CHUNK][lane % LANES_PER_CHUNK] as u8
    }

    fn set(&mut self, lane: usize, h: u8) {
        self.0[lane / LANES_PER_CHUNK][lane % LANES_PER_CHUNK] = h as u16;
    }

    fn h(&self, i: usize) -> u8 {
        self.get(2 * i)
    }

    fn halfh(&self, i: usize) -> u8 {
        self.get(2 * i + 1)
    }

    fn set_h(&mut self, i: usize, h: u8) {
        self.set(2 * i, h)
    }

    fn set_halfh(&mut self, i: usize, h: u8) {
        self.set(2 * i + 1, h)
    }
}

/// The Adler-like rolling hash over the last 7 bytes that places the cut points.
#[derive(Clone, Copy, Default)]
struct Roll {
    /// The last 7 bytes, most recent in the low byte.
    window: u64,
    h1: u32,
    h2: u32,
    h3: u32,
}

impl Roll {
    #[inline(always)]
    fn push(&mut self, c: u8) {
        let c32 = c as u32;
        let leaving = (self.window >> (8 * (ROLLING_WINDOW - 1))) as u32 & 0xff;
        self.window = ((self.window << 8) | c as u64) & ((1 << (8 * ROLLING_WINDOW)) - 1);
        self.h2 = self
            .h2
            .wrapping_sub(self.h1)
            .wrapping_add(ROLLING_WINDOW as u32 * c32);
        self.h1 = self.h1.wrapping_add(c32).wrapping_sub(leaving);
        self.h3 = (self.h3 << 5) ^ c32;
    }

    #[inline(always)]
    fn sum(&self) -> u32 {
        self.h1.wrapping_add(self.h2).wrapping_add(self.h3)
    }
}

/// The digest under construction for one block size (its piece hashes live in `Lanes`).
#[derive(Clone, Copy)]
struct BlockHash {
    /// Characters emitted so far; 0 marks a slot not written yet.
    digest: [u8; SPAMSUM_LENGTH],
    dindex: usize,
    /// The `halfh` character at the last cut, 0 while fewer than 32 characters are out.
    halfdigest: u8,
}

impl BlockHash {
    const EMPTY: BlockHash = BlockHash {
        digest: [0; SPAMSUM_LENGTH],
        dindex: 0,
        halfdigest: 0,
    };
}

/// Streaming ssdeep digest: feed any number of buffers, then ask for the digest.
#[derive(Clone)]
pub struct SsdeepHasher {
    total_size: u64,
    /// Block sizes `bhstart..bhend` are live.
    bhstart: usize,
    bhend: usize,
    bh: [BlockHash; NUM_BLOCKHASHES],
    /// Per block size, the hash of the current piece (`h`) and the same but no longer reset
    /// once 32 characters are out (`halfh`), so the last character of a part truncated to
    /// 32 covers the whole rest of the input. Block size `NUM_BLOCKHASHES` stands for the
    /// would-be next one once all 31 run.
    lanes: Lanes,
    need_lasth: bool,
    roll: Roll,
}

impl Default for SsdeepHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl SsdeepHasher {
    pub fn new() -> Self {
        SsdeepHasher {
            total_size: 0,
            bhstart: 0,
            bhend: 1,
            bh: [BlockHash::EMPTY; NUM_BLOCKHASHES],
            lanes: Lanes::INIT,
            need_lasth: false,
            roll: Roll::default(),
        }
    }

    /// Bytes fed so far.
    pub fn length(&self) -> u64 {
        self.total_size
    }

    /// Low bits of `sum + 1` that must be clear for a cut at the smallest live block size.
    #[inline(always)]
    fn rollmask(&self) -> u32 {
        (1u32 << self.bhstart) - 1
    }

    /// Lane chunks of the live block sizes (and of `lasth` once needed). Lanes outside the
    /// live range may be stepped too: they are never read again (below) or are set afresh
    /// when their block size starts (above).
    fn live_chunks(&self) -> std::ops::Range<usize> {
        let end = if self.need_lasth {
            NUM_BLOCKHASHES + 1
        } else {
            self.bhend
        };
        Lanes::chunks(self.bhstart, end)
    }

    pub fn update(&mut self, data: &[u8]) {
        // libfuzzy counts a buffer before walking it; the pruning of small block sizes
        // reads this count, so do the same.
        self.total_size = self.total_size.saturating_add(data.len() as u64);
        let mut roll = self.roll;
        let mut chunks = self.live_chunks();
        let mut rollmask = self.rollmask();
        for &c in data {
            roll.push(c);
            self.lanes.step(chunks.clone(), c);
            // A cut at block size 3*2^i where sum + 1 is a multiple of 3*2^i: test the
            // power of two first, rarely passed once the smallest live size is past 3.
            let trigger = roll.sum().wrapping_add(1);
            if trigger & rollmask != 0 || trigger == 0 || !trigger.is_multiple_of(MIN_BLOCKSIZE as u32) {
                continue;
            }
            let top = trigger.trailing_zeros() as usize;
            let mut i = self.bhstart;
            while i <= top && i < self.bhend {
                self.cut(i);
                i += 1;
            }
            chunks = self.live_chunks();
            rollmask = self.rollmask();
        }
        self.roll = roll;
    }

    /// A piece ends at block size index `i`: emit its character.
    fn cut(&mut self, i: usize) {
        if self.bh[i].dindex == 0 {
            self.try_fork();
        }
        let b = &mut self.bh[i];
        b.digest[b.dindex] = B64[self.lanes.h(i) as usize];
        b.halfdigest = B64[self.lanes.halfh(i) as usize];
        if b.dindex < SPAMSUM_LENGTH - 1 {
            b.dindex += 1;
            b.digest[b.dindex] = 0;
            self.lanes.set_h(i, HASH_INIT);
            if b.dindex < HALF_LENGTH {
                self.lanes.set_halfh(i, HASH_INIT);
                b.halfdigest = 0;
            }
        } else {
            // Full: the last character keeps absorbing the rest of the input.
            self.try_reduce();
        }
    }

    /// Start the next block size from the state of the largest live one.
    fn try_fork(&mut self) {
        let last = self.bhend - 1;
        if self.bhend < NUM_BLOCKHASHES {
            self.bh[self.bhend] = BlockHash::EMPTY;
            self.lanes.set_h(self.bhend, self.lanes.h(last));
            self.lanes.set_halfh(self.bhend, self.lanes.halfh(last));
            self.bhend += 1;
        } else if !self.need_lasth {
            self.need_lasth = true;
            self.lanes.set_h(NUM_BLOCKHASHES, self.lanes.h(last));
        }
    }

    /// Drop the smallest block size once the length and the next one's digest rule it out.
    fn try_reduce(&mut self) {
        if self.bhend - self.bhstart < 2 {
            return;
        }
        if block_size(self.bhstart) * SPAMSUM_LENGTH as u64 >= self.total_size {
            return;
        }
        if self.bh[self.bhstart + 1].dindex < HALF_LENGTH {
            return;
        }
        self.bhstart += 1;
    }

    /// The digest of everything fed so far, as the `ssdeep` tool prints it. The hasher
    /// stays usable: more input may follow.
    pub fn digest(&self) -> String {
        let rolling = self.roll.sum();
        let mut bi = self.bhstart;
        while bi < NUM_BLOCKHASHES - 1 && block_size(bi) * (SPAMSUM_LENGTH as u64) < self.total_size {
            bi += 1;
        }
        bi = bi.min(self.bhend - 1);
        while bi > self.bhstart && self.bh[bi].dindex < HALF_LENGTH {
            bi -= 1;
        }

        let mut out = format!("{}:", block_size(bi));
        let first = &self.bh[bi];
        push_ascii(&mut out, &first.digest[..first.dindex]);
        if rolling != 0 {
            out.push(B64[self.lanes.h(bi) as usize] as char);
        } else if first.digest[first.dindex] != 0 {
            out.push(first.digest[first.dindex] as char);
        }
        out.push(':');
        if bi < self.bhend - 1 {
            let second = &self.bh[bi + 1];
            let n = second.dindex.min(HALF_LENGTH - 1);
            push_ascii(&mut out, &second.digest[..n]);
            if rolling != 0 {
                out.push(B64[self.lanes.halfh(bi + 1) as usize] as char);
            } else if second.halfdigest != 0 {
                out.push(second.halfdigest as char);
            }
        } else if rolling != 0 {
            // Only at the smallest or the largest block size; past the largest, the piece
            // hash of the would-be next one.
            let index = if self.need_lasth { NUM_BLOCKHASHES } else { bi };
            out.push(B64[self.lanes.h(index) as usize] as char);
        }
        out
    }
}

fn push_ascii(out: &mut String, chars: &[u8]) {
    out.extend(chars.iter().map(|&c| c as char));
}

/// The ssdeep digest of one buffer.
pub fn ssdeep_digest(data: &[u8]) -> String {
    let mut h = SsdeepHasher::new();
    h.update(data);
    h.digest()
}

/// One part of a digest with runs of more than 3 equal characters cut to 3, as libfuzzy
/// reads it for comparison.
struct Part {
    chars: [u8; SPAMSUM_LENGTH],
    len: usize,
}

impl Part {
    fn read(text: &str, what: &str, which: &str) -> Result<Part, DigestError> {
        let mut part = Part {
            chars: [0; SPAMSUM_LENGTH],
            len: 0,
        };
        let mut run = 0;
        for (k, c) in text.bytes().enumerate() {
            if !B64.contains(&c) {
                return Err(DigestError(format!(
                    "{what}: the {which} part has {:?}, not a base64 character",
                    text[k..].chars().next().unwrap_or('?')
                )));
            }
            run = if part.len > 0 && part.chars[part.len - 1] == c {
                run + 1
            } else {
                1
            };
            if run > 3 {
                continue;
            }
            if part.len == SPAMSUM_LENGTH {
                return Err(DigestError(format!(
                    "{what}: the {which} part is longer than {SPAMSUM_LENGTH} characters"
                )));
            }
            part.chars[part.len] = c;
            part.len += 1;
        }
        Ok(part)
    }

    fn as_slice(&self) -> &[u8] {
        &self.chars[..self.len]
    }
}

struct Signature {
    block_size: u64,
    first: Part,
    second: Part,
}

/// Reads `blocksize:part1:part2`, optionally followed by `,filename` as in ssdeep's
/// own match files.
fn parse(sig: &str, what: &str) -> Result<Signature, DigestError> {
    let bad = |problem: &str| DigestError(format!("{what}: {problem} in ssdeep digest {sig:?}"));
    let (size, rest) = sig.split_once(':').ok_or_else(|| bad("no ':'"))?;
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("the block size is not a decimal number"));
    }
    let block_size = size
        .parse::<u64>()
        .map_err(|_| bad("the block size is too large"))?;
    let (first, rest) = rest.split_once(':').ok_or_else(|| bad("no second ':'"))?;
    let second = rest.split_once(',').map_or(rest, |(part, _name)| part);
    Ok(Signature {
        block_size,
        first: Part::read(first, what, "first")?,
        second: Part::read(second, what, "second")?,
    })
}

/// Whether two parts share a run of 7 characters: without one, libfuzzy scores 0.
fn has_common_substring(a: &[u8], b: &[u8]) -> bool {
    if a.len() < ROLLING_WINDOW || b.len() < ROLLING_WINDOW {
        return false;
    }
    a.windows(ROLLING_WINDOW)
        .any(|wa| b.windows(ROLLING_WINDOW).any(|wb| wa == wb))
}

/// Edit distance with insertions and deletions costing 1 and a substitution 2 (libfuzzy's
/// weights), i.e. `len(a) + len(b) - 2 * LCS(a, b)`.
fn edit_distance(a: &[u8], b: &[u8]) -> u64 {
    let mut row = [0u64; SPAMSUM_LENGTH + 1];
    for (j, cell) in row.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j as u64;
    }
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i as u64 + 1;
        for (j, &cb) in b.iter().enumerate() {
            let replace = diagonal + if ca == cb { 0 } else { 2 };
            diagonal = row[j + 1];
            row[j + 1] = replace.min(row[j + 1] + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

/// libfuzzy's score of two parts at one block size, 0 (unrelated) to 100.
fn score_parts(a: &[u8], b: &[u8], block_size: u64) -> u32 {
    if !has_common_substring(a, b) {
        return 0;
    }
    let total = (a.len() + b.len()) as u64;
    let scaled = edit_distance(a, b) * SPAMSUM_LENGTH as u64 / total;
    let score = 100 - 100 * scaled / SPAMSUM_LENGTH as u64;
    // Small block sizes mean small inputs: do not let a short match look strong.
    if block_size >= (99 + ROLLING_WINDOW as u64) / ROLLING_WINDOW as u64 * MIN_BLOCKSIZE {
        return score as u32;
    }
    let cap = block_size / MIN_BLOCKSIZE * a.len().min(b.len()) as u64;
    score.min(cap) as u32
}

/// The match score (0..=100) of two ssdeep digests, as libfuzzy's `fuzzy_compare` gives
/// it. Digests whose block sizes are neither equal nor a factor of two apart score 0.
pub fn ssdeep_compare(a: &str, b: &str) -> Result<u32, DigestError> {
    let s1 = parse(a, "first digest")?;
    let s2 = parse(b, "second digest")?;
    let (bs1, bs2) = (s1.block_size, s2.block_size);
    let doubles = |x: u64, y: u64| x.checked_mul(2) == Some(y);
    if bs1 != bs2 && !doubles(bs1, bs2) && !doubles(bs2, bs1) {
        return Ok(0);
    }
    if bs1 == bs2
        && s1.first.as_slice() == s2.first.as_slice()
        && s1.second.as_slice() == s2.second.as_slice()
    {
        return Ok(100);
    }
    let score = if bs1 == bs2 {
        let at_bs = score_parts(s1.first.as_slice(), s2.first.as_slice(), bs1);
        match bs1.checked_mul(2) {
            Some(double) => at_bs.max(score_parts(s1.second.as_slice(), s2.second.as_slice(), double)),
            None => at_bs,
        }
    } else if doubles(bs1, bs2) {
        score_parts(s2.first.as_slice(), s1.second.as_slice(), bs2)
    } else {
        score_parts(s1.first.as_slice(), s2.second.as_slice(), bs1)
    };
    Ok(score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::noise;

    #[test]
    fn known_digests_of_small_inputs() {
        // Answers printed by the ssdeep 2.14.1 command-line tool.
        assert_eq!(ssdeep_digest(b""), "3::");
        assert_eq!(ssdeep_digest(b"a"), "3:E:E");
        assert_eq!(ssdeep_digest(&[0u8; 4096]), "3::");
        assert_eq!(
            ssdeep_digest(b"The quick brown fox jumps over the lazy dog\n"),
            "3:FJKKIUKacdn:FHIGM"
        );
        let lines: Vec<u8> = b"Quarry evidence line\n"
            .iter()
            .copied()
            .cycle()
            .take(100_000)
            .collect();
        assert_eq!(ssdeep_digest(&lines), format!("24:1{}c:c", "y".repeat(62)));
    }

    #[test]
    fn streaming_matches_one_shot_whatever_the_chunking() {
        let data = noise(300_000, 7);
        let whole = ssdeep_digest(&data);
        for chunk in [1, 7, 4096, 65_537] {
            let mut h = SsdeepHasher::new();
            data.chunks(chunk).for_each(|c| h.update(c));
            assert_eq!(h.digest(), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn compare_scores() {
        let data = noise(200_000, 11);
        let mut edited = data.clone();
        edited[100_000..100_050].fill(b'x');
        let (a, b) = (ssdeep_digest(&data), ssdeep_digest(&edited));
        assert_eq!(ssdeep_compare(&a, &a), Ok(100));
        let score = ssdeep_compare(&a, &b).unwrap();
        assert!((50..100).contains(&score), "{a} vs {b}: {score}");
        assert_eq!(ssdeep_compare(&a, &ssdeep_digest(&noise(200_000, 12))), Ok(0));
        assert_eq!(ssdeep_compare("3:AAAAAAAB:AB", "3:AAAB:AB,\"name\""), Ok(100));
        assert_eq!(ssdeep_compare("3:abcdefgh:", "96:abcdefgh:"), Ok(0));
    }

    #[test]
    fn edit_distance_counts_substitution_as_two() {
        assert_eq!(edit_distance(b"abc", b"abc"), 0);
        assert_eq!(edit_distance(b"abc", b"axc"), 2);
        assert_eq!(edit_distance(b"abc", b""), 3);
        assert_eq!(edit_distance(b"ab", b"ba"), 2);
    }

    #[test]
    fn malformed_digests_are_errors() {
        for bad in ["", "3", "3:abc", "x:abc:def", ":abc:def", "3:a$c:def"] {
            let err = ssdeep_compare(bad, "3::").unwrap_err();
            assert!(err.0.starts_with("first digest"), "{bad:?}: {err}");
        }
        let long = format!("3:{}:", "ab".repeat(33));
        assert!(ssdeep_compare("3::", &long)
            .unwrap_err()
            .0
            .contains("longer than 64"));
    }
}
