//! gzip (RFC 1952): the member header, then the DEFLATE stream (RFC 1951) decoded block by
//! block to find where it ends, then the 8-byte trailer (CRC-32 and ISIZE of the output).
//!
//! The output is never stored: it passes through a 32 KiB ring (the largest distance a
//! match may reach back) and into a running CRC-32. Work is bounded by the input: every
//! symbol costs at least one input bit, and past [`HASH_CAP`] bytes of output the bytes
//! are only counted, not written or hashed, so a bomb costs no more than its own length.
//!
//! Only the first member is carved. `cat a.gz b.gz` is one valid gzip file, but each
//! member is found at its own offset anyway, and walking on into later members from
//! every member's header would decode a many-member file (BGZF) once per member.
//!
//! Status: Complete when the stream ends and both CRC-32 and ISIZE match; Damaged when
//! one of them matches, or ISIZE is within a mebibyte of the output (bytes changed in
//! place: Huffman decoding resynchronises after a flipped bit). A stream that breaks (an
//! invalid code, a distance before the start, a trailer that matches nothing) is
//! Truncated at a conservative length, before the block that was cut (see [`broken`]):
//! random bytes after a cut continue the cut block, since most codes decode anything,
//! until a later block header gives them away.

use super::{Found, Probe};

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
/// Longest file name or comment looked through for its terminating zero.
const MAX_STRING: usize = 64 << 10;
/// How far ISIZE may be from the output's size for a changed stream to count as damaged.
const NEAR_SIZE: u32 = 1 << 20;
/// Output bytes hashed for the CRC check; past this the walk only counts.
const HASH_CAP: u64 = 1 << 30;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let limit = data.len().min(max_len);
    let d = &data[..limit];
    let capped = data.len() >= max_len;
    let header = match header(d) {
        Ok(h) => h,
        Err(Stop::Eof) if !at_eof && !capped => return Probe::NeedMore,
        Err(_) => return Probe::Invalid,
    };
    let mut inf = Inflater::new(d, header.len, true);
    let result = inf.run();
    let blocks = inf.blocks;
    match result {
        Ok(()) => {}
        Err(Stop::Eof) if !at_eof && !capped => return Probe::NeedMore,
        Err(Stop::Eof) => {
            // The image (or the cap) ends inside the stream: everything to there is kept.
            return if blocks.done > 0 || at_eof {
                Probe::Found(Found::truncated(limit, None, 40))
            } else {
                Probe::Invalid
            };
        }
        Err(Stop::Bad) => return broken(&blocks, blocks.done),
    }
    let end = inf.bits.byte_pos();
    let Some(trailer) = d.get(end..end + 8) else {
        if !at_eof && !capped {
            return Probe::NeedMore;
        }
        let missing = (end + 8 - limit) as u64;
        return Probe::Found(Found::truncated(limit, Some(missing), 50));
    };
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let isize = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let size_ok = isize == inf.out as u32;
    let crc_ok = match inf.crc() {
        Some(c) => c == crc,
        None => size_ok, // past the hashing cap only the size is checked
    };
    let len = end + 8;
    // A size off by little means bytes changed inside a stream that still decodes; a
    // random ISIZE (after a cut) is almost never that close.
    let size_near = (isize.wrapping_sub(inf.out as u32) as i32).unsigned_abs() < NEAR_SIZE;
    if crc_ok && size_ok && header.crc_ok {
        let confidence = if inf.crc().is_some() { 95 } else { 70 };
        Probe::Found(Found::complete(len, confidence))
    } else if crc_ok || size_ok || size_near {
        Probe::Found(Found::damaged(len, 50))
    } else {
        // Neither matches nor is close: the "end" was most likely random bytes after a
        // cut, so the final block counts as the one that broke.
        broken(&blocks, blocks.done - 1)
    }
}

/// A stream that broke in block `failed`: random bytes after a cut continue the cut
/// block (whose code decodes anything) until they happen to end it, and may then pass for
/// a block of fixed codes or two (any bits decode there too) before an invalid code gives
/// them away. So the carve drops the failed block, the fixed-code blocks before it and
/// one block more; with no whole block left, nothing is carved.
fn broken(blocks: &Blocks, failed: usize) -> Probe {
    let oldest = failed.saturating_sub(HISTORY - 1);
    let mut i = failed.saturating_sub(1);
    while i > oldest && blocks.fixed(i) {
        i -= 1;
    }
    if i >= 1 {
        Probe::Found(Found::truncated(blocks.start(i).div_ceil(8), None, 30))
    } else {
        Probe::Invalid
    }
}

struct Header {
    len: usize,
    crc_ok: bool,
}

/// The member header up to the first DEFLATE byte.
fn header(d: &[u8]) -> Result<Header, Stop> {
    let fixed = d.get(..10).ok_or(Stop::Eof)?;
    let (flags, xfl, os) = (fixed[3], fixed[8], fixed[9]);
    // Reserved flag bits clear; XFL as compressors write it; a known OS code.
    if fixed[..3] != [0x1F, 0x8B, 0x08]
        || flags & 0xE0 != 0
        || !matches!(xfl, 0 | 2 | 4)
        || !(os <= 13 || os == 255)
    {
        return Err(Stop::Bad);
    }
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let xlen = super::le_u16(d, pos).ok_or(Stop::Eof)?;
        let extra = d.get(pos + 2..pos + 2 + xlen).ok_or(Stop::Eof)?;
        // Subfields (two id bytes, a length, the data) must tile the field exactly.
        let mut at = 0;
        while at < extra.len() {
            let sub = super::le_u16(extra, at + 2).ok_or(Stop::Bad)?;
            at += 4 + sub;
        }
        if at != extra.len() {
            return Err(Stop::Bad);
        }
        pos += 2 + xlen;
    }
    for (flag, lines_allowed) in [(FNAME, false), (FCOMMENT, true)] {
        if flags & flag != 0 {
            pos += zero_terminated(d, pos, lines_allowed)?;
        }
    }
    let mut crc_ok = true;
    if flags & FHCRC != 0 {
        let stored = super::le_u16(d, pos).ok_or(Stop::Eof)?;
        crc_ok = crc32fast::hash(&d[..pos]) & 0xFFFF == stored as u32;
        pos += 2;
    }
    Ok(Header { len: pos, crc_ok })
}

/// Length (with the zero) of an ISO 8859-1 string: no control characters but line ends
/// in a comment.
fn zero_terminated(d: &[u8], pos: usize, lines_allowed: bool) -> Result<usize, Stop> {
    let rest = d.get(pos..).unwrap_or_default();
    for (i, &b) in rest.iter().take(MAX_STRING).enumerate() {
        match b {
            0 => return Ok(i + 1),
            b'\n' | b'\r' | b'\t' if lines_allowed => {}
            0x01..=0x1F | 0x7F => return Err(Stop::Bad),
            _ => {}
        }
    }
    if rest.len() >= MAX_STRING {
        Err(Stop::Bad)
    } else {
        Err(Stop::Eof)
    }
}

/// Why a walk stopped before the end of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// The input ended first.
    Eof,
    /// Not valid DEFLATE data.
    Bad,
}

/// Where a raw DEFLATE stream starting at `data[start]` ends (the first byte after it),
/// for ZIP members whose size is only in a data descriptor after the data.
pub(super) fn deflate_end(data: &[u8], start: usize) -> Result<usize, Stop> {
    let mut inf = Inflater::new(data, start, false);
    inf.run()?;
    Ok(inf.bits.byte_pos())
}

/// What a raw DEFLATE stream decodes to, for checking a ZIP member against its CRC.
pub(super) struct Decoded {
    /// First byte after the stream.
    pub end: usize,
    /// CRC-32 of the output; None past the hashing cap.
    pub crc: Option<u32>,
    pub size: u64,
}

/// Walk the raw DEFLATE stream at `data[start]`, hashing (not keeping) its output.
pub(super) fn inflate_check(data: &[u8], start: usize) -> Result<Decoded, Stop> {
    let mut inf = Inflater::new(data, start, true);
    inf.run()?;
    Ok(Decoded {
        end: inf.bits.byte_pos(),
        crc: inf.crc(),
        size: inf.out,
    })
}

/// LSB-first bit reader over a byte slice.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    cnt: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos: pos.min(data.len()),
            buf: 0,
            cnt: 0,
        }
    }

    /// Top the buffer up to at least 56 bits where the input allows.
    #[inline(always)]
    fn refill(&mut self) {
        if let Some(word) = self.data.get(self.pos..self.pos + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            // Bits above `cnt` are either zero or the same input bytes: OR is safe.
            self.buf |= u64::from_le_bytes(w) << self.cnt;
            let added = (63 - self.cnt) / 8;
            self.pos += added as usize;
            self.cnt += added * 8;
        } else {
            while self.cnt <= 56 {
                let Some(&b) = self.data.get(self.pos) else { break };
                self.buf |= (b as u64) << self.cnt;
                self.pos += 1;
                self.cnt += 8;
            }
        }
    }

    #[inline(always)]
    fn bits(&mut self, n: u32) -> Result<u32, Stop> {
        if self.cnt < n {
            self.refill();
            if self.cnt < n {
                return Err(Stop::Eof);
            }
        }
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.buf >>= n;
        self.cnt -= n;
        Ok(v)
    }

    /// Bit offset of the next unread bit.
    fn bit_pos(&self) -> usize {
        self.pos * 8 - self.cnt as usize
    }

    /// Byte offset just after the last bit read (partial bytes count as read).
    fn byte_pos(&self) -> usize {
        self.bit_pos().div_ceil(8)
    }

    /// Drop the rest of the current byte and return the buffer's whole bytes to the input.
    fn align_to_byte(&mut self) {
        let p = self.byte_pos();
        self.pos = p;
        self.buf = 0;
        self.cnt = 0;
    }
}

const FAST_BITS: u32 = 10;
const FAST_SIZE: usize = 1 << FAST_BITS;

/// A canonical Huffman code: a direct table for codes of up to FAST_BITS bits and the
/// count/symbol lists for the rest (decoded bit by bit).
struct Huffman {
    /// (symbol << 4) | length, or 0 where the code is longer (or unused).
    fast: Box<[u16; FAST_SIZE]>,
    count: [u16; 16],
    symbol: [u16; 320],
}

/// Which alphabet a code is for: the code-length code must be complete; the others may
/// be incomplete only as a single one-bit code (what zlib accepts).
#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeKind {
    CodeLengths,
    Other,
}

impl Huffman {
    fn new() -> Self {
        Huffman {
            fast: Box::new([0; FAST_SIZE]),
            count: [0; 16],
            symbol: [0; 320],
        }
    }

    fn build(&mut self, lengths: &[u8], kind: CodeKind) -> Result<(), Stop> {
        self.count = [0; 16];
        for &l in lengths {
            self.count[l as usize] += 1;
        }
        self.count[0] = 0;
        let mut left: i32 = 1;
        let mut max = 0;
        for len in 1..16 {
            left = (left << 1) - self.count[len] as i32;
            if left < 0 {
                return Err(Stop::Bad); // over-subscribed
            }
            if self.count[len] > 0 {
                max = len;
            }
        }
        if left > 0 && (kind == CodeKind::CodeLengths || max != 1) && max != 0 {
            return Err(Stop::Bad); // incomplete
        }
        if max == 0 && kind == CodeKind::CodeLengths {
            return Err(Stop::Bad);
        }
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + self.count[len];
        }
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                self.symbol[offs[l as usize] as usize] = sym as u16;
                offs[l as usize] += 1;
            }
        }
        // Direct table: canonical codes, bit-reversed because DEFLATE sends them MSB first.
        self.fast.fill(0);
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for (len, slot) in next.iter_mut().enumerate().skip(1) {
            code = (code + self.count[len - 1] as u32) << 1;
            *slot = code;
        }
        for (sym, &l) in lengths.iter().enumerate() {
            let l = l as u32;
            if l == 0 {
                continue;
            }
            let c = next[l as usize];
            next[l as usize] += 1;
            if l <= FAST_BITS {
                let rev = (c.reverse_bits() >> (32 - l)) as usize;
                let entry = ((sym as u16) << 4) | l as u16;
                let mut k = rev;
                while k < FAST_SIZE {
                    self.fast[k] = entry;
                    k += 1 << l;
                }
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn decode(&self, bits: &mut Bits) -> Result<u16, Stop> {
        if bits.cnt < 15 {
            bits.refill();
        }
        let e = self.fast[(bits.buf as usize) & (FAST_SIZE - 1)];
        if e != 0 {
            let len = (e & 15) as u32;
            if len > bits.cnt {
                return Err(Stop::Eof);
            }
            bits.buf >>= len;
            bits.cnt -= len;
            return Ok(e >> 4);
        }
        // Longer code (or an unused pattern): canonical decoding one bit at a time.
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16u32 {
            if len > bits.cnt {
                return Err(Stop::Eof);
            }
            code |= ((bits.buf >> (len - 1)) & 1) as i32;
            let count = self.count[len as usize] as i32;
            if code - first < count {
                bits.buf >>= len;
                bits.cnt -= len;
                return Ok(self.symbol[(index + code - first) as usize]);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(Stop::Bad)
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
const CLEN_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

const WINDOW: usize = 1 << 15;
const MASK: usize = WINDOW - 1;
/// Hash the ring's new bytes once this many have accumulated (well under the window, so
/// none is overwritten before it is hashed; one match adds at most 258).
const FLUSH_AT: usize = 1 << 14;

/// Blocks kept in the history for [`broken`].
const HISTORY: usize = 8;

/// The last blocks' starts (bit offsets) and whether they used the fixed codes.
#[derive(Debug, Clone, Copy, Default)]
struct Blocks {
    /// Blocks decoded to their end.
    done: usize,
    recent: [(usize, bool); HISTORY],
}

impl Blocks {
    fn begin(&mut self, start: usize) {
        self.recent[self.done % HISTORY] = (start, false);
    }

    fn mark_fixed(&mut self) {
        self.recent[self.done % HISTORY].1 = true;
    }

    fn start(&self, i: usize) -> usize {
        self.recent[i % HISTORY].0
    }

    fn fixed(&self, i: usize) -> bool {
        self.recent[i % HISTORY].1
    }
}

struct Inflater<'a> {
    bits: Bits<'a>,
    /// Bytes of output so far.
    out: u64,
    /// Last 32 KiB of output and the running CRC of the rest; None when not hashing.
    ring: Option<Box<[u8]>>,
    hasher: crc32fast::Hasher,
    pending: usize,
    hashing: bool,
    blocks: Blocks,
    lit: Huffman,
    dist: Huffman,
}

impl<'a> Inflater<'a> {
    fn new(data: &'a [u8], start: usize, hash: bool) -> Self {
        Inflater {
            bits: Bits::new(data, start),
            out: 0,
            ring: hash.then(|| vec![0u8; WINDOW].into_boxed_slice()),
            hasher: crc32fast::Hasher::new(),
            pending: 0,
            hashing: hash,
            blocks: Blocks::default(),
            lit: Huffman::new(),
            dist: Huffman::new(),
        }
    }

    /// CRC-32 of the whole output, when it was all hashed.
    fn crc(&self) -> Option<u32> {
        self.hashing.then(|| self.hasher.clone().finalize())
    }

    fn run(&mut self) -> Result<(), Stop> {
        loop {
            let start = self.bits.bit_pos();
            self.blocks.begin(start);
            let last = self.bits.bits(1)? == 1;
            match self.bits.bits(2)? {
                0 => self.stored()?,
                1 => {
                    self.blocks.mark_fixed();
                    let mut lengths = [0u8; 320];
                    lengths[..144].fill(8);
                    lengths[144..256].fill(9);
                    lengths[256..280].fill(7);
                    lengths[280..288].fill(8);
                    // All 32 distance codes, so the code is complete; 30 and 31 are
                    // rejected when decoded, as are literal/length codes 286 and 287.
                    lengths[288..320].fill(5);
                    self.lit.build(&lengths[..288], CodeKind::Other)?;
                    self.dist.build(&lengths[288..320], CodeKind::Other)?;
                    self.codes()?;
                }
                2 => {
                    self.dynamic_tables()?;
                    self.codes()?;
                }
                _ => return Err(Stop::Bad),
            }
            self.blocks.done += 1;
            if last {
                self.flush();
                return Ok(());
            }
        }
    }

    fn stored(&mut self) -> Result<(), Stop> {
        self.bits.align_to_byte();
        let len = self.bits.bits(16)?;
        let nlen = self.bits.bits(16)?;
        if len != !nlen & 0xFFFF {
            return Err(Stop::Bad);
        }
        // The reader was byte-aligned and has read whole bytes: hand the rest back.
        self.bits.align_to_byte();
        let from = self.bits.pos;
        let data = self.bits.data;
        let bytes = data.get(from..from + len as usize).ok_or(Stop::Eof)?;
        for chunk in bytes.chunks(FLUSH_AT) {
            for &b in chunk {
                self.put(b);
            }
            self.maybe_flush();
        }
        self.bits.pos = from + len as usize;
        Ok(())
    }

    fn dynamic_tables(&mut self) -> Result<(), Stop> {
        let nlen = self.bits.bits(5)? as usize + 257;
        let ndist = self.bits.bits(5)? as usize + 1;
        let ncode = self.bits.bits(4)? as usize + 4;
        if nlen > 286 || ndist > 30 {
            return Err(Stop::Bad);
        }
        let mut clens = [0u8; 19];
        for &i in CLEN_ORDER.iter().take(ncode) {
            clens[i] = self.bits.bits(3)? as u8;
        }
        let mut code = Huffman::new();
        code.build(&clens, CodeKind::CodeLengths)?;
        let mut lengths = [0u8; 320];
        let mut i = 0;
        while i < nlen + ndist {
            let sym = code.decode(&mut self.bits)?;
            let (value, repeat) = match sym {
                0..=15 => (sym as u8, 1),
                16 => {
                    if i == 0 {
                        return Err(Stop::Bad); // nothing to repeat
                    }
                    (lengths[i - 1], 3 + self.bits.bits(2)? as usize)
                }
                17 => (0, 3 + self.bits.bits(3)? as usize),
                _ => (0, 11 + self.bits.bits(7)? as usize),
            };
            if i + repeat > nlen + ndist {
                return Err(Stop::Bad);
            }
            lengths[i..i + repeat].fill(value);
            i += repeat;
        }
        if lengths[256] == 0 {
            return Err(Stop::Bad); // no end-of-block code
        }
        self.lit.build(&lengths[..nlen], CodeKind::Other)?;
        self.dist.build(&lengths[nlen..nlen + ndist], CodeKind::Other)
    }

    fn codes(&mut self) -> Result<(), Stop> {
        loop {
            let sym = self.lit.decode(&mut self.bits)? as usize;
            if sym < 256 {
                self.put(sym as u8);
            } else if sym == 256 {
                return Ok(());
            } else {
                let s = sym - 257;
                let (Some(&base), Some(&extra)) = (LEN_BASE.get(s), LEN_EXTRA.get(s)) else {
                    return Err(Stop::Bad);
                };
                let len = base as usize + self.bits.bits(extra as u32)? as usize;
                let ds = self.dist.decode(&mut self.bits)? as usize;
                let (Some(&dbase), Some(&dextra)) = (DIST_BASE.get(ds), DIST_EXTRA.get(ds)) else {
                    return Err(Stop::Bad);
                };
                let dist = dbase as usize + self.bits.bits(dextra as u32)? as usize;
                if dist as u64 > self.out {
                    return Err(Stop::Bad); // reaches back before the stream's start
                }
                self.copy(dist, len);
            }
            self.maybe_flush();
        }
    }

    #[inline(always)]
    fn put(&mut self, b: u8) {
        if self.hashing {
            if let Some(ring) = self.ring.as_mut() {
                ring[self.out as usize & MASK] = b;
                self.pending += 1;
            }
        }
        self.out += 1;
    }

    #[inline(always)]
    fn copy(&mut self, dist: usize, len: usize) {
        if self.hashing {
            if let Some(ring) = self.ring.as_mut() {
                let from = self.out as usize;
                for w in from..from + len {
                    ring[w & MASK] = ring[(w - dist) & MASK];
                }
                self.pending += len;
            }
        }
        self.out += len as u64;
    }

    #[inline(always)]
    fn maybe_flush(&mut self) {
        if self.pending >= FLUSH_AT {
            self.flush();
            if self.out >= HASH_CAP {
                self.hashing = false;
                self.ring = None;
            }
        }
    }

    /// Hash the bytes written to the ring since the last flush.
    fn flush(&mut self) {
        let Some(ring) = self.ring.as_ref() else { return };
        if !self.hashing || self.pending == 0 {
            return;
        }
        let end = self.out as usize & MASK;
        let start = (self.out as usize).wrapping_sub(self.pending) & MASK;
        if start < end {
            self.hasher.update(&ring[start..end]);
        } else {
            self.hasher.update(&ring[start..]);
            self.hasher.update(&ring[..end]);
        }
        self.pending = 0;
    }
}
