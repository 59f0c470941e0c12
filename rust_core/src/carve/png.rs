//! PNG: signature, then chunks (length, type, data, CRC-32) up to IEND; every CRC checked.

use super::{be_u32, ran_out, Found, Probe};

const SIG_LEN: usize = 8;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let mut pos = SIG_LEN;
    let mut chunks = 0usize;
    loop {
        if pos > max_len {
            return truncated_or_invalid(pos, chunks);
        }
        let Some(len) = be_u32(data, pos) else {
            return ran_out(data, at_eof, max_len, chunks);
        };
        if len > 0x7FFF_FFFF {
            return truncated_or_invalid(pos, chunks);
        }
        let Some(kind) = data.get(pos + 4..pos + 8) else {
            return ran_out(data, at_eof, max_len, chunks);
        };
        if !kind.iter().all(u8::is_ascii_alphabetic) || (chunks == 0 && (kind != b"IHDR" || len != 13)) {
            return truncated_or_invalid(pos, chunks);
        }
        let end = pos + 12 + len;
        let (Some(body), Some(crc)) = (data.get(pos + 4..pos + 8 + len), be_u32(data, pos + 8 + len)) else {
            return ran_out(data, at_eof, max_len, chunks);
        };
        if crc32fast::hash(body) as usize != crc {
            return truncated_or_invalid(pos, chunks);
        }
        chunks += 1;
        if kind == b"IEND" {
            return Probe::Found(Found::complete(end, 90));
        }
        pos = end;
    }
}

/// A broken chunk after a valid IHDR is a truncated (overwritten) PNG; before it, no PNG.
fn truncated_or_invalid(pos: usize, chunks: usize) -> Probe {
    if chunks > 0 {
        Probe::Found(Found::truncated(pos, None, 60))
    } else {
        Probe::Invalid
    }
}
