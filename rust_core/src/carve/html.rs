//! HTML: from `<!DOCTYPE html` or `<html` through the text (the rule in `mail`) to the
//! first `</html>` (any case), plus the rest of its line when that is only whitespace.
//!
//! The candidate must be a real declaration or tag: `<!DOCTYPE html` followed by
//! whitespace or `>`, `<html` by whitespace, `>` or `/`. An XHTML root written as an empty
//! element (`<html .../>`) ends the document there. Without a closing tag before the text
//! ends (a NUL, another non-text byte, the image's end or the size cap) the carve is
//! Truncated at the end of the text if it looked like HTML (a `<head`, `<body`, `<title`,
//! `<meta` or `<frameset` tag) and Invalid otherwise: HTML may legally omit `</html>`,
//! but without it the end cannot be told. Text that ends at a NUL (zeroed slack) or the
//! data's end is kept whole; before other bytes it is trimmed to its last `>` or newline.
//!
//! Duplicates: the `<html` tag of a document that starts with a DOCTYPE is a candidate
//! too and is carved as a suffix nested in the DOCTYPE's carve;
//! [`continues_earlier`] tells it apart by looking back, for the scanner's hook.

use super::mail::{text_end, text_prefix, Src, TextEnd};
use super::{Found, Probe};
use memchr::{memchr, memmem};

/// Longest start tag or DOCTYPE declaration looked at.
const MAX_TAG: usize = 4096;
/// Longest whitespace run after `</html>` taken into the file with its newline.
const MAX_TRAILING_SPACE: usize = 64;
/// Tags whose presence makes an unclosed text an HTML document.
const BODY_TAGS: [&[u8]; 5] = [b"head", b"body", b"title", b"meta", b"frameset"];

/// Does `d[at..]` start with `lower` (ASCII, any case)?
fn starts_ci(d: &[u8], at: usize, lower: &[u8]) -> Option<bool> {
    let got = d.get(at..at.checked_add(lower.len())?)?;
    Some(got.eq_ignore_ascii_case(lower))
}

/// Outcome of looking at a construct that may run past the data.
enum Look<T> {
    Yes(T),
    No,
    /// The data ends before it can be told.
    Short,
}

/// The end of a tag or declaration opened at `at` (just after its `>`, quotes skipped),
/// and whether it closes with `/>`.
fn tag_end(d: &[u8], at: usize) -> Look<(usize, bool)> {
    let mut quote: Option<u8> = None;
    let stop = at.saturating_add(MAX_TAG).min(d.len());
    for i in at + 1..stop {
        let c = d[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return Look::Yes((i + 1, d[i - 1] == b'/')),
            None if c == b'<' => return Look::No,
            None => {}
        }
    }
    if stop == d.len() && d.len() - at < MAX_TAG {
        Look::Short
    } else {
        Look::No
    }
}

/// `</html` at `at` followed by optional whitespace and `>`: the end of the document,
/// its line ending included when only blanks stand between.
fn closing_tag(d: &[u8], at: usize) -> Look<usize> {
    match starts_ci(d, at, b"</html") {
        None => return Look::Short,
        Some(false) => return Look::No,
        Some(true) => {}
    }
    let mut i = at + 6;
    loop {
        match d.get(i) {
            None => return Look::Short,
            Some(b'>') => break,
            Some(c) if c.is_ascii_whitespace() && i - at < 16 => i += 1,
            Some(_) => return Look::No,
        }
    }
    trailing_line(d, i + 1)
}

/// Did the text `d[..end]` show an HTML body tag?
fn has_body_tag(d: &[u8], end: usize) -> bool {
    let d = &d[..end.min(d.len())];
    memchr::memchr_iter(b'<', d).any(|p| {
        BODY_TAGS.iter().any(|t| {
            starts_ci(d, p + 1, t) == Some(true)
                && d.get(p + 1 + t.len())
                    .is_none_or(|&c| c == b'>' || c == b'/' || c.is_ascii_whitespace())
        })
    })
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let src = Src::new(data, at_eof, max_len);
    let d = src.d;
    let short = || if src.more { Probe::NeedMore } else { Probe::Invalid };

    // The declaration or root tag itself.
    let doctype = starts_ci(d, 0, b"<!doctype html") == Some(true);
    let name_end = if doctype { 14 } else { 5 };
    let Some(&after) = d.get(name_end) else {
        return short();
    };
    let fits = after.is_ascii_whitespace() || after == b'>' || (!doctype && after == b'/');
    if !fits {
        return Probe::Invalid;
    }
    let (first_end, self_closed) = match tag_end(d, 0) {
        Look::Yes(t) => t,
        Look::No => return Probe::Invalid,
        Look::Short => return short(),
    };
    if non_text(d, 0, first_end).is_some() {
        return Probe::Invalid;
    }

    // The root written as an empty element: `<html .../>` (after the DOCTYPE if any).
    let root = if doctype {
        let ws = d[first_end..]
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        let at = first_end + ws;
        match starts_ci(d, at, b"<html") {
            Some(true) => Some(at),
            Some(false) => None,
            None if src.more => return Probe::NeedMore,
            None => None,
        }
    } else {
        Some(0)
    };
    if let Some(at) = root {
        let closed = if at == 0 {
            Look::Yes((first_end, self_closed))
        } else {
            tag_end(d, at)
        };
        match closed {
            Look::Yes((end, true)) if non_text(d, 0, end).is_none() => {
                return match trailing_line(d, end) {
                    Look::Yes(e) => Probe::Found(Found::complete(e, 50)),
                    _ if src.more => Probe::NeedMore,
                    _ => Probe::Found(Found::complete(end, 50)),
                };
            }
            Look::Short if src.more => return Probe::NeedMore,
            _ => {}
        }
    }

    // The first `</html>`, over text only.
    let mut checked = first_end;
    for p in memmem::find_iter(&d[first_end..], b"</").map(|p| p + first_end) {
        if let Some(q) = non_text(d, checked, p) {
            return unclosed(d, q);
        }
        checked = p;
        match closing_tag(d, p) {
            Look::Yes(end) => {
                let confidence = if has_body_tag(d, p) { 70 } else { 60 };
                return Probe::Found(Found::complete(end, confidence));
            }
            Look::Short if src.more => return Probe::NeedMore,
            Look::Short | Look::No => {}
        }
    }
    match text_end(d, checked) {
        TextEnd::At(q) => unclosed(d, q),
        TextEnd::Out if src.more => Probe::NeedMore,
        TextEnd::Out => unclosed(d, d.len()),
    }
}

/// The first byte of `d[from..to]` that is not text (a UTF-8 sequence cut at `to` is
/// not: `to` is always followed by an ASCII byte here).
fn non_text(d: &[u8], from: usize, to: usize) -> Option<usize> {
    let (n, _) = text_prefix(&d[from..to]);
    (from + n < to).then_some(from + n)
}

/// Whitespace and one newline after a document's last `>`.
fn trailing_line(d: &[u8], end: usize) -> Look<usize> {
    for j in end..end + MAX_TRAILING_SPACE {
        match d.get(j) {
            None => return Look::Short,
            Some(b'\n') => return Look::Yes(j + 1),
            Some(b' ' | b'\t' | b'\r') => {}
            Some(_) => return Look::Yes(end),
        }
    }
    Look::Yes(end)
}

/// A document whose text ends at `end` without `</html>`: all of it before a NUL or
/// the end of the data, else (other bytes follow) up to its last tag or line end.
fn unclosed(d: &[u8], end: usize) -> Probe {
    if !has_body_tag(d, end) {
        return Probe::Invalid;
    }
    let end = match d.get(end) {
        None | Some(0) => end,
        Some(_) => memchr::memrchr2(b'>', b'\n', &d[..end]).map_or(end, |p| p + 1),
    };
    Probe::Found(Found::truncated(end, None, 30))
}

/// How far back [`continues_earlier`] looks for the DOCTYPE of an `<html` candidate.
const LOOK_BACK: usize = 4096;

/// Look-back for an HTML candidate at `data[pos]`: true for an `<html` tag that follows
/// a `<!DOCTYPE html ...>` declaration with only whitespace and comments between (the
/// document began at the declaration).
pub(super) fn continues_earlier(data: &[u8], pos: usize) -> bool {
    if starts_ci(data, pos, b"<html") != Some(true) {
        return false;
    }
    let from = pos.saturating_sub(LOOK_BACK);
    let before = &data[from..pos];
    let Some(dt) = before
        .windows(9)
        .rposition(|w| w.eq_ignore_ascii_case(b"<!doctype"))
    else {
        return false;
    };
    let Some(gt) = memchr(b'>', &before[dt..]).map(|g| dt + g + 1) else {
        return false;
    };
    if starts_ci(before, dt + 9, b" html") != Some(true) && starts_ci(before, dt + 9, b"\thtml") != Some(true)
    {
        return false;
    }
    // Only whitespace and comments between the declaration and the tag.
    let mut i = gt;
    while i < before.len() {
        if before[i].is_ascii_whitespace() {
            i += 1;
        } else if before[i..].starts_with(b"<!--") {
            match memmem::find(&before[i + 4..], b"-->") {
                Some(e) => i += 4 + e + 3,
                None => return false,
            }
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_after_its_doctype_continues_it() {
        let doc = b"<!DOCTYPE html>\n<!-- x -->\n<html lang=en><body></body></html>\n";
        let at = memmem::find(doc, b"<html").expect("root");
        assert!(continues_earlier(doc, at));
        assert!(!continues_earlier(doc, 0));
        let alone = b"<p>text</p>\n<html><body></body></html>";
        let at = memmem::find(alone, b"<html").expect("root");
        assert!(!continues_earlier(alone, at));
    }
}
