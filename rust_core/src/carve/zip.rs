//! ZIP: from a local file header to the end-of-central-directory record whose central
//! directory lies where it says, and whose every entry points back at a local header.
//!
//! The archive start is derived from the EOCD (`eocd - cd_size - cd_offset`), so the
//! local headers of a zip's second and later members are never taken for new archives.
//! The search ends at the first well-formed EOCD: if it belongs to an archive starting
//! elsewhere, this header is an inner member (or a truncated archive) and is not carved.

use super::{le_u16, le_u32, ran_out, Found, Probe};
use memchr::memmem;

const EOCD: &[u8] = b"PK\x05\x06";
const CDH: &[u8] = b"PK\x01\x02";
const LFH: &[u8] = b"PK\x03\x04";
const EOCD_LEN: usize = 22;
const CDH_LEN: usize = 46;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let limit = data.len().min(max_len);
    for e in memmem::find_iter(&data[..limit], EOCD) {
        match check_eocd(data, e) {
            Eocd::Ours(end) if end <= max_len => return Probe::Found(Found::complete(end, 90)),
            Eocd::Ours(_) | Eocd::Other => return Probe::Invalid,
            Eocd::Cut => return ran_out(data, at_eof, max_len, 0),
            Eocd::NotOne => {}
        }
    }
    ran_out(&data[..limit], at_eof, max_len, 0)
}

/// What an end-of-central-directory signature at some position turned out to be.
enum Eocd {
    /// The end of the archive that starts at 0; the archive's length.
    Ours(usize),
    /// The record (or its comment) runs past the data.
    Cut,
    /// A well-formed EOCD of an archive that starts elsewhere.
    Other,
    /// Not an EOCD record (the signature occurs by chance).
    NotOne,
}

fn check_eocd(data: &[u8], e: usize) -> Eocd {
    let Some(rec) = data.get(e..e + EOCD_LEN) else {
        return Eocd::Cut;
    };
    let field16 = |at| le_u16(rec, at).unwrap_or(0);
    let field32 = |at| le_u32(rec, at).unwrap_or(0);
    let (entries, cd_size, cd_off, comment) = (field16(10), field32(12), field32(16), field16(20));
    if field16(4) != 0 || field16(6) != 0 || entries == 0 || cd_size > e {
        return Eocd::NotOne;
    }
    if data.get(e - cd_size..e - cd_size + 4) != Some(CDH) {
        return Eocd::NotOne;
    }
    if cd_off != e - cd_size {
        return Eocd::Other;
    }
    match walk_central_directory(data, cd_off, entries, e) {
        Some(()) => {
            let end = e + EOCD_LEN + comment;
            if end <= data.len() {
                Eocd::Ours(end)
            } else {
                Eocd::Cut
            }
        }
        None => Eocd::Other,
    }
}

/// Exactly `entries` central headers filling `cd_off..e`, each pointing at a local header.
fn walk_central_directory(data: &[u8], cd_off: usize, entries: usize, e: usize) -> Option<()> {
    let mut pos = cd_off;
    for _ in 0..entries {
        if data.get(pos..pos + 4)? != CDH {
            return None;
        }
        let name = le_u16(data, pos + 28)?;
        let extra = le_u16(data, pos + 30)?;
        let note = le_u16(data, pos + 32)?;
        let local = le_u32(data, pos + 42)?;
        if local >= cd_off || data.get(local..local + 4)? != LFH {
            return None;
        }
        pos += CDH_LEN + name + extra + note;
    }
    (pos == e).then_some(())
}
