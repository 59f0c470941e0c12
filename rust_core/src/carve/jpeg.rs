//! JPEG: marker segments from SOI, entropy-coded scans after each SOS, up to EOI.
//!
//! A frame header (SOF) must precede the first scan, and every marker must be one a
//! JPEG may contain at that point; anything else ends the walk.

use super::{be_u16, ran_out, Found, Probe};
use memchr::memchr;

fn is_sof(m: u8) -> bool {
    matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC)
}

/// Markers followed by a two-byte length and a payload.
fn has_length(m: u8) -> bool {
    matches!(m, 0xC0..=0xCF | 0xDA..=0xDF | 0xE0..=0xEF | 0xFE) && m != 0xC8
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let mut pos = 2; // after SOI
    let mut seen_sof = false;
    let mut seen_sos = false;
    loop {
        if pos > max_len {
            return Probe::Invalid;
        }
        let (Some(&ff), Some(&m)) = (data.get(pos), data.get(pos + 1)) else {
            return ran_out(data, at_eof, max_len, usize::from(seen_sos));
        };
        if ff != 0xFF {
            return broken(pos, seen_sos);
        }
        match m {
            0xFF => pos += 1, // fill byte before a marker
            0xD9 if seen_sos => return Probe::Found(Found::complete(pos + 2, 90)),
            0xD0..=0xD7 if seen_sos => pos += 2,
            _ if has_length(m) => {
                let Some(len) = be_u16(data, pos + 2) else {
                    return ran_out(data, at_eof, max_len, usize::from(seen_sos));
                };
                if len < 2 {
                    return broken(pos, seen_sos);
                }
                seen_sof |= is_sof(m);
                pos += 2 + len;
                if m == 0xDA {
                    if !seen_sof {
                        return Probe::Invalid;
                    }
                    seen_sos = true;
                    match next_marker(data, pos) {
                        Some(p) => pos = p,
                        None => return ran_out(data, at_eof, max_len, 1),
                    }
                }
            }
            _ => return broken(pos, seen_sos),
        }
    }
}

/// Position of the next marker after entropy-coded data (skipping stuffed 0xFF00 and RSTn).
fn next_marker(data: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        pos += memchr(0xFF, data.get(pos..)?)?;
        match *data.get(pos + 1)? {
            0x00 | 0xD0..=0xD7 => pos += 2,
            _ => return Some(pos),
        }
    }
}

fn broken(pos: usize, seen_sos: bool) -> Probe {
    if seen_sos {
        Probe::Found(Found::truncated(pos, None, 60))
    } else {
        Probe::Invalid
    }
}
