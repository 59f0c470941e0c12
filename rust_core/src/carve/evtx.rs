//! EVTX (Windows XML event log): a 4096-byte file header, then the number of 64 KiB
//! chunks the header records.
//!
//! Header: `ElfFile\0`, header size 128, version 3.1 or 3.2, header block size 4096, the
//! chunk count (offset 42) and a CRC-32 of its first 120 bytes at offset 124. Each
//! chunk: `ElfChnk\0`, header size 128, a free-space offset in 512..=65536, a CRC-32 of
//! bytes 0..120 and 128..512 at offset 124, and a CRC-32 of the event records area
//! (512 up to the free-space offset) at offset 52. The records themselves must tile that
//! area: each starts with `**\0\0` and its size, and repeats the size in its last four
//! bytes.
//!
//! The length is 4096 + 65536 x the header's chunk count. Chunks past that count (a
//! header not yet updated when the log was captured dirty) are not followed: the header
//! is the only record of the file's size. A chunk count of 0 gives the header block
//! alone.
//!
//! Status: a chunk that does not start with `ElfChnk\0` ends the file there (Truncated,
//! with the missing bytes). A CRC mismatch where the framing holds is Damaged. Records
//! whose framing breaks inside the last chunk mean the end of the file was overwritten
//! (Truncated); inside an earlier chunk, Damaged. A truncated length never goes past the
//! first place a check failed (a chunk whose header CRC fails counts from its start),
//! nor past 128 when the header block's padding is not zero.

use super::{le_u16, le_u32, Found, Probe};

const SIGNATURE: &[u8; 8] = b"ElfFile\0";
const CHUNK_SIGNATURE: &[u8; 8] = b"ElfChnk\0";
const HEADER_BLOCK: usize = 4096;
const CHUNK: usize = 65536;
const CHUNK_HEADER: usize = 512;
const RECORD_SIGNATURE: usize = 0x0000_2A2A;
/// Signature, size, record identifier, time written, the size copy.
const MIN_RECORD: usize = 28;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let more = !at_eof && data.len() < max_len;
    let data = &data[..data.len().min(max_len)];
    let Some(head) = data.get(..128) else {
        return if more { Probe::NeedMore } else { Probe::Invalid };
    };
    if !head.starts_with(SIGNATURE)
        || le_u32(head, 32) != Some(128)
        || !matches!(le_u16(head, 36), Some(1 | 2))
        || le_u16(head, 38) != Some(3)
        || le_u16(head, 40) != Some(HEADER_BLOCK)
    {
        return Probe::Invalid;
    }
    let header_ok = le_u32(head, 124) == Some(crc32fast::hash(&head[..120]) as usize);
    let chunks = le_u16(head, 42).unwrap_or(0);
    let full = (HEADER_BLOCK + CHUNK * chunks) as u64;
    let mut walk = Walk {
        header_ok,
        full,
        doubt: None,
        limit: None,
        chunks_ok: 0,
    };

    if data.len() < HEADER_BLOCK {
        return if more {
            Probe::NeedMore
        } else {
            walk.cut(data.len())
        };
    }
    // The header block after the 128-byte header is zero padding: other bytes there
    // mean the file may already be overwritten from that point.
    if data[128..HEADER_BLOCK].iter().any(|&b| b != 0) {
        walk.limit = Some(128);
    }
    let mut last_broken = false;
    for i in 0..chunks {
        let start = HEADER_BLOCK + i * CHUNK;
        match data.get(start..start + 8) {
            Some(sig) if sig != CHUNK_SIGNATURE => return walk.cut(start),
            None if more => return Probe::NeedMore,
            None => return walk.cut(data.len().min(start)),
            Some(_) => {}
        }
        let Some(chunk) = data.get(start..start + CHUNK) else {
            if more {
                return Probe::NeedMore;
            }
            // The image (or the size cap) ends inside this chunk: keep its whole records.
            let valid = start + partial_chunk(&data[start..]);
            return walk.cut(valid);
        };
        match check_chunk(chunk) {
            Chunk::Ok => walk.chunks_ok += 1,
            Chunk::BadCrc(at) => walk.doubt_at(start + at),
            Chunk::Broken(at) => {
                walk.doubt_at(start + at);
                last_broken = i + 1 == chunks;
            }
        }
    }
    walk.finish(last_broken)
}

/// What the walk has learnt so far.
struct Walk {
    header_ok: bool,
    full: u64,
    /// The first position where a check failed.
    doubt: Option<usize>,
    /// A position a truncated length may not pass (bytes after it look overwritten, but
    /// nothing checksummed says so).
    limit: Option<usize>,
    chunks_ok: usize,
}

impl Walk {
    fn doubt_at(&mut self, at: usize) {
        self.doubt.get_or_insert(at);
    }

    /// The file breaks off at `at`.
    fn cut(&self, at: usize) -> Probe {
        if !self.header_ok && self.chunks_ok == 0 {
            // Neither the header's CRC nor any chunk vouches for these bytes.
            return Probe::Invalid;
        }
        let len = [self.doubt, self.limit]
            .into_iter()
            .flatten()
            .fold(at, usize::min);
        let missing = self.full.saturating_sub(len as u64);
        Probe::Found(Found::truncated(len, Some(missing), 60))
    }

    /// Every chunk the header counts is there.
    fn finish(&self, last_broken: bool) -> Probe {
        let len = self.full as usize;
        match self.doubt {
            Some(d) if last_broken => self.cut(d),
            _ if !self.header_ok && self.chunks_ok == 0 => Probe::Invalid,
            Some(_) => Probe::Found(Found::damaged(len, if self.header_ok { 70 } else { 50 })),
            None if !self.header_ok => Probe::Found(Found::damaged(len, 60)),
            None if self.chunks_ok == 0 => Probe::Found(Found::complete(len, 60)),
            None => Probe::Found(Found::complete(len, 95)),
        }
    }
}

enum Chunk {
    Ok,
    /// Framing holds but a CRC does not match; the first byte it puts in doubt.
    BadCrc(usize),
    /// The header's fields or the records' framing break at this offset in the chunk.
    Broken(usize),
}

/// The chunk header's CRC: bytes 0..120 and 128..512.
fn header_crc(chunk: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk[..120]);
    h.update(&chunk[128..CHUNK_HEADER]);
    h.finalize()
}

/// The chunk's free-space offset, if its header fields are sane.
fn free_offset(chunk: &[u8]) -> Option<usize> {
    let free = le_u32(chunk, 48)?;
    (le_u32(chunk, 40) == Some(128) && (CHUNK_HEADER..=CHUNK).contains(&free)).then_some(free)
}

/// Walk the event records from 512 to `free` in `chunk`: the offset where the framing
/// ends (`free` when every record is whole and they tile the area exactly).
fn records_end(chunk: &[u8], free: usize) -> usize {
    let mut at = CHUNK_HEADER;
    while at < free {
        let (Some(sig), Some(size)) = (le_u32(chunk, at), le_u32(chunk, at + 4)) else {
            return at;
        };
        if sig != RECORD_SIGNATURE || size < MIN_RECORD || at + size > free {
            return at;
        }
        if le_u32(chunk, at + size - 4) != Some(size) {
            return at;
        }
        at += size;
    }
    at
}

fn check_chunk(chunk: &[u8]) -> Chunk {
    let header_ok = le_u32(chunk, 124) == Some(header_crc(chunk) as usize);
    let Some(free) = free_offset(chunk) else {
        return Chunk::Broken(0);
    };
    let end = records_end(chunk, free);
    if end != free {
        return Chunk::Broken(if header_ok { end } else { 0 });
    }
    let records_ok = le_u32(chunk, 52) == Some(crc32fast::hash(&chunk[CHUNK_HEADER..free]) as usize);
    match (header_ok, records_ok) {
        (true, true) => Chunk::Ok,
        (false, _) => Chunk::BadCrc(0),
        (true, false) => Chunk::BadCrc(CHUNK_HEADER),
    }
}

/// How much of a chunk cut short (`part` is shorter than a chunk) is sound: its whole
/// records when its header is there and its CRC matches, else nothing.
fn partial_chunk(part: &[u8]) -> usize {
    if part.len() < CHUNK_HEADER || le_u32(part, 124) != Some(header_crc(part) as usize) {
        return 0;
    }
    match free_offset(part) {
        Some(free) => records_end(part, free.min(part.len())),
        None => 0,
    }
}
