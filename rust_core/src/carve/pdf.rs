//! PDF: `%PDF-x.y`, then the first `%%EOF` whose preceding `startxref` points at a
//! cross-reference table (`xref`) or stream (`N G obj`) inside the file.
//!
//! The search stops at the next `%PDF-` header: a PDF without a valid end before the
//! next one begins is not carved (it cannot be told apart from what follows it).

use super::{ran_out, Found, Probe};
use memchr::memmem;

const EOF_MARK: &[u8] = b"%%EOF";
/// How far before `%%EOF` the `startxref` keyword may stand.
const TRAILER_WINDOW: usize = 64;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let version_ok = matches!(data.get(5..8), Some([a, b'.', b]) if a.is_ascii_digit() && b.is_ascii_digit());
    if !version_ok {
        return if data.len() < 8 && !at_eof {
            Probe::NeedMore
        } else {
            Probe::Invalid
        };
    }
    let limit = data.len().min(max_len);
    let next_header = memmem::find(&data[5..limit], b"%PDF-").map(|p| p + 5);
    let region = &data[..next_header.unwrap_or(limit)];
    for e in memmem::find_iter(region, EOF_MARK) {
        if trailer_points_inside(data, e) {
            let mut end = e + EOF_MARK.len();
            if data.get(end) == Some(&b'\r') {
                end += 1;
            }
            if data.get(end) == Some(&b'\n') {
                end += 1;
            }
            return Probe::Found(Found::complete(end, 90));
        }
    }
    if next_header.is_some() {
        return Probe::Invalid;
    }
    ran_out(&data[..limit], at_eof, max_len, 0)
}

/// Does the `startxref N` just before `%%EOF` at `eof` point at an xref section?
fn trailer_points_inside(data: &[u8], eof: usize) -> bool {
    let from = eof.saturating_sub(TRAILER_WINDOW);
    let window = &data[from..eof];
    let Some(k) = memmem::rfind(window, b"startxref") else {
        return false;
    };
    let digits: Vec<u8> = window[k + 9..]
        .iter()
        .copied()
        .skip_while(u8::is_ascii_whitespace)
        .take_while(u8::is_ascii_digit)
        .collect();
    let Some(xref) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    else {
        return false;
    };
    if xref == 0 || xref >= from + k {
        return false;
    }
    let at = &data[xref..];
    at.starts_with(b"xref") || looks_like_obj(at)
}

/// `N G obj` at the start of `at` (a cross-reference stream object).
fn looks_like_obj(at: &[u8]) -> bool {
    let head = &at[..at.len().min(32)];
    let mut parts = head.split(|b| b.is_ascii_whitespace()).filter(|p| !p.is_empty());
    let is_num = |p: Option<&[u8]>| p.is_some_and(|p| p.iter().all(u8::is_ascii_digit));
    is_num(parts.next()) && is_num(parts.next()) && parts.next().is_some_and(|p| p.starts_with(b"obj"))
}
