//! ZIP: from a local file header to the end-of-central-directory record whose central
//! directory lies where it says, and whose every entry points back at a local header.
//!
//! The archive start is derived from the EOCD (`eocd - cd_size - cd_offset`), so the
//! local headers of a zip's second and later members are never taken for new archives.

use super::{le_u16, le_u32, ran_out, Probe, Status};
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
            Some(Some(end)) if end <= max_len => {
                return Probe::Found {
                    len: end,
                    status: Status::Complete,
                };
            }
            Some(None) => return ran_out(data, at_eof, max_len, 0),
            _ => {}
        }
    }
    ran_out(&data[..limit], at_eof, max_len, 0)
}

/// `Some(Some(end))`: a valid EOCD for an archive starting at 0; `Some(None)`: the record
/// (or its comment) runs past the data; `None`: it belongs to something else.
fn check_eocd(data: &[u8], e: usize) -> Option<Option<usize>> {
    let Some(rec) = data.get(e..e + EOCD_LEN) else {
        return Some(None);
    };
    let disk = le_u16(rec, 4)?;
    let cd_disk = le_u16(rec, 6)?;
    let entries = le_u16(rec, 10)?;
    let cd_size = le_u32(rec, 12)?;
    let cd_off = le_u32(rec, 16)?;
    let comment = le_u16(rec, 20)?;
    if disk != 0 || cd_disk != 0 || entries == 0 || cd_off.checked_add(cd_size)? != e {
        return None;
    }
    // Walk the central directory: exactly `entries` headers filling cd_size bytes.
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
    if pos != e {
        return None;
    }
    let end = e + EOCD_LEN + comment;
    Some((end <= data.len()).then_some(end))
}
