//! 7z: the 32-byte signature header (signature, version, the start header's CRC-32 over
//! the next 20 bytes), which records where the next header lies and how long it is and
//! its CRC-32. The archive ends with that header: `32 + next_header_offset +
//! next_header_size` bytes.
//!
//! Status: Complete when the next header's CRC matches (both CRCs passed). Damaged when
//! it does not but the bytes there still begin like a 7z header (`kHeader` or
//! `kEncodedHeader` and a property that may follow it). When they look like nothing of
//! the kind, the archive's tail was overwritten: Truncated, keeping only the signature
//! header (packed streams cannot be told from random bytes), with `missing` the rest of
//! the recorded size. An archive running past the end of the image is Truncated with
//! what is there and `missing` the bytes short.

use super::{le_u32, le_u64, Found, Probe};

const HEADER_LEN: usize = 32;
const K_HEADER: u8 = 0x01;
const K_ENCODED_HEADER: u8 = 0x17;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let Some(h) = data.get(..HEADER_LEN) else {
        return if at_eof || data.len() >= max_len {
            Probe::Invalid
        } else {
            Probe::NeedMore
        };
    };
    let (major, minor) = (h[6], h[7]);
    if h[..6] != *b"7z\xBC\xAF\x27\x1C" || major != 0 || minor > 9 {
        return Probe::Invalid;
    }
    if le_u32(h, 8) != Some(crc32fast::hash(&h[12..32]) as usize) {
        return Probe::Invalid;
    }
    let (offset, size) = (
        le_u64(h, 12).unwrap_or(u64::MAX),
        le_u64(h, 20).unwrap_or(u64::MAX),
    );
    let next_crc = le_u32(h, 28).unwrap_or(0) as u32;
    if size == 0 {
        // An empty archive: nothing after the signature header.
        return if offset == 0 && next_crc == 0 {
            Probe::Found(Found::complete(HEADER_LEN, 60))
        } else {
            Probe::Invalid
        };
    }
    let Some(total) = (HEADER_LEN as u64)
        .checked_add(offset)
        .and_then(|t| t.checked_add(size))
    else {
        return Probe::Invalid;
    };
    let have = data.len().min(max_len);
    let total_usize = usize::try_from(total).unwrap_or(usize::MAX);
    if total_usize > have {
        if !at_eof && data.len() < max_len {
            return Probe::NeedMore;
        }
        return Probe::Found(Found::truncated(have, Some(total - have as u64), 40));
    }
    let start = HEADER_LEN + offset as usize;
    let next = &data[start..total_usize];
    if crc32fast::hash(next) == next_crc {
        return Probe::Found(Found::complete(total_usize, 95));
    }
    if looks_like_header(next) {
        Probe::Found(Found::damaged(total_usize, 50))
    } else {
        Probe::Found(Found::truncated(HEADER_LEN, Some(total - HEADER_LEN as u64), 30))
    }
}

/// The first two property ids of a plain or encoded 7z header.
fn looks_like_header(next: &[u8]) -> bool {
    match next {
        // kHeader, then kArchiveProperties, kAdditionalStreamsInfo, kMainStreamsInfo,
        // kFilesInfo or kEnd.
        [K_HEADER, 0x00 | 0x02..=0x05, ..] => true,
        // kEncodedHeader, then the streams info's kPackInfo.
        [K_ENCODED_HEADER, 0x06, ..] => true,
        _ => false,
    }
}
