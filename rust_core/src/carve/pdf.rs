//! PDF: `%PDF-x.y`, then the first `%%EOF` whose preceding `startxref` points at a
//! cross-reference table (`xref`) or stream (an `N G obj` of `/Type /XRef`) inside the
//! file, then every incremental update appended after it.
//!
//! An update follows its predecessor's `%%EOF` (after whitespace) with new objects, an
//! `xref` section or a `startxref`; it belongs to the file when its own `%%EOF` closes a
//! `startxref` that points inside the update, after the previous one, at a section whose
//! trailer's `/Prev` is the previous `startxref`. A linearized file (its first object has
//! `/Linearized` and `/L`, the file's length) ends at the `%%EOF` that ends at `/L`, so
//! both of its `%%EOF`s are kept even when the first one's `startxref` is a real offset.
//!
//! The search stops at the next `%PDF-` header. A PDF without a valid end is walked
//! object by object (`N G obj ... endobj`, streams to `endstream`, `xref`, `trailer`
//! and its dictionary, `startxref`): a walk that ends on a trailer naming `/Root` is a PDF without a
//! cross-reference section (Complete, low confidence); one that ends on a `%%EOF` whose
//! `startxref` points nowhere is Damaged; one that ends after whole objects is Truncated
//! after the last whole object.

use super::{Found, Probe};
use memchr::memmem;

const EOF_MARK: &[u8] = b"%%EOF";
/// How far before `%%EOF` the `startxref` keyword may stand.
const TRAILER_WINDOW: usize = 64;
/// Longest trailer dictionary or comment line walked.
const MAX_DICT: usize = 64 << 10;
/// Most whitespace (NUL included) walked over between two sections or objects.
const MAX_GAP: usize = 4096;
/// Keywords that may stand between objects.
const KEYWORDS: [&[u8]; 3] = [b"xref", b"trailer", b"startxref"];
/// Cross-reference entries checked against the objects they point at.
const XREF_CHECKS: usize = 32;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let version_ok = matches!(data.get(5..8), Some([a, b'.', b]) if a.is_ascii_digit() && (b.is_ascii_digit() || b.is_ascii_whitespace()));
    if !version_ok {
        return if data.len() < 8 && !at_eof && data.len() < max_len {
            Probe::NeedMore
        } else {
            Probe::Invalid
        };
    }
    let limit = data.len().min(max_len);
    let next_header = data
        .get(5..limit)
        .and_then(|d| memmem::find(d, b"%PDF-"))
        .map(|p| p + 5);
    let region = &data[..next_header.unwrap_or(limit)];
    // More bytes could change the answer only when the region runs to the data's end.
    let more = !at_eof && data.len() < max_len && next_header.is_none();

    let first = match linearized_end(region) {
        Linearized::End(rev) => Some(rev),
        Linearized::Beyond if more => return Probe::NeedMore,
        _ => first_valid_eof(region),
    };
    let Some(mut rev) = first else {
        return walk(region, more);
    };
    loop {
        match next_update(region, &rev) {
            Update::Yes(next) => rev = next,
            Update::No => break,
            Update::NeedData | Update::Missing if more => return Probe::NeedMore,
            Update::NeedData => break,
            // An update begins but its end is not there: the last revision is cut.
            Update::Missing => return Probe::Found(Found::truncated(rev.end, None, 60)),
        }
    }
    let confidence = match (
        rev.linearized,
        xref_entries_agree(region, rev.startxref, XREF_CHECKS),
    ) {
        (true, Some(false)) | (false, Some(false)) => 70,
        (true, _) | (false, Some(true)) => 95,
        (false, None) => 90,
    };
    Probe::Found(Found::complete(rev.end, confidence))
}

/// One revision of the file: where its `%%EOF` line ends and its `startxref` value.
#[derive(Debug, Clone, Copy)]
struct Revision {
    end: usize,
    startxref: usize,
    linearized: bool,
}

fn first_valid_eof(region: &[u8]) -> Option<Revision> {
    memmem::find_iter(region, EOF_MARK).find_map(|e| {
        let sx = valid_startxref(region, e)?;
        Some(Revision {
            end: after_eol(region, e + EOF_MARK.len()),
            startxref: sx,
            linearized: false,
        })
    })
}

enum Linearized {
    /// Not linearized (or its `/L` does not end on a valid `%%EOF`).
    No,
    /// `/L` lies past the data.
    Beyond,
    End(Revision),
}

/// The end of a linearized file: its first object's `/L`, where a valid `%%EOF` must end.
fn linearized_end(region: &[u8]) -> Linearized {
    let head = &region[..region.len().min(1024)];
    let Some(k) = memmem::find(head, b"/Linearized") else {
        return Linearized::No;
    };
    let dict_end = memmem::find(&head[k..], b">>").map_or(head.len(), |p| k + p);
    let Some(l) = memmem::find_iter(&head[..dict_end], b"/L").find_map(|p| {
        let after = head.get(p + 2)?;
        after
            .is_ascii_whitespace()
            .then(|| number_at(head, p + 2))
            .flatten()
    }) else {
        return Linearized::No;
    };
    if l > region.len() {
        return Linearized::Beyond;
    }
    // The last line of the first revision: "%%EOF" and its end of line, ending at /L.
    let from = l.saturating_sub(EOF_MARK.len() + 2);
    let Some(e) = memmem::rfind(&region[from..l], EOF_MARK).map(|p| from + p) else {
        return Linearized::No;
    };
    let Some(sx) = valid_startxref(region, e) else {
        return Linearized::No;
    };
    if after_eol(region, e + EOF_MARK.len()) != l {
        return Linearized::No;
    }
    Linearized::End(Revision {
        end: l,
        startxref: sx,
        linearized: true,
    })
}

/// The `startxref N` just before the `%%EOF` at `eof`, when N is a cross-reference
/// section before it.
fn valid_startxref(data: &[u8], eof: usize) -> Option<usize> {
    let from = eof.saturating_sub(TRAILER_WINDOW);
    let window = &data[from..eof];
    let k = memmem::rfind(window, b"startxref")?;
    let xref = number_at(window, k + 9)?;
    if xref == 0 || xref >= from + k {
        return None;
    }
    is_xref_section(&data[xref..from + k]).then_some(xref)
}

/// A cross-reference table, or an object whose dictionary says `/Type /XRef`.
fn is_xref_section(at: &[u8]) -> bool {
    if at.starts_with(b"xref") {
        return true;
    }
    let Some(h) = obj_header(at) else { return false };
    let head = &at[h..at.len().min(h + 1024)];
    let dict = &head[..memmem::find(head, b"stream").unwrap_or(head.len())];
    memmem::find_iter(dict, b"/Type").any(|p| {
        let rest = &dict[p + 5..];
        let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        rest[skip..].starts_with(b"/XRef")
    })
}

/// A decimal number after optional whitespace at `data[at]`.
pub(super) fn number_at(data: &[u8], at: usize) -> Option<usize> {
    let rest = data.get(at..)?;
    let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let digits = rest[skip..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 15 {
        return None;
    }
    std::str::from_utf8(&rest[skip..skip + digits]).ok()?.parse().ok()
}

/// Past one end of line (CR, LF or CRLF) at `at`, if there is one.
fn after_eol(data: &[u8], mut at: usize) -> usize {
    if data.get(at) == Some(&b'\r') {
        at += 1;
    }
    if data.get(at) == Some(&b'\n') {
        at += 1;
    }
    at
}

fn skip_ws(data: &[u8], at: usize) -> usize {
    at + data
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b.is_ascii_whitespace() || b == 0)
        .count()
}

/// `N G obj` at the start of `at`: the header's length.
fn obj_header(at: &[u8]) -> Option<usize> {
    let digits = |from: usize, max: usize| {
        let n = at
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        (1..=max).contains(&n).then_some(from + n)
    };
    let spaces = |from: usize| {
        let n = at
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        (n > 0).then_some(from + n)
    };
    let p = spaces(digits(0, 10)?)?;
    let p = spaces(digits(p, 5)?)?;
    if !at.get(p..)?.starts_with(b"obj") {
        return None;
    }
    // "obj" is a whole keyword: a delimiter (or the end) follows.
    match at.get(p + 3) {
        Some(b) if b.is_ascii_alphanumeric() => None,
        _ => Some(p + 3),
    }
}

enum Update {
    /// An update of this file, ending at the revision given.
    Yes(Revision),
    /// What follows is not an update of this file.
    No,
    /// The data ends before what follows can be told.
    NeedData,
    /// An update begins but no valid `%%EOF` closes it within the data.
    Missing,
}

fn next_update(region: &[u8], rev: &Revision) -> Update {
    let q = skip_ws(region, rev.end);
    if q - rev.end > MAX_GAP {
        return Update::No; // blank (zeroed) space, not the next section
    }
    let rest = &region[q.min(region.len())..];
    if rest.len() < 24 {
        // Too little to tell an object header, xref or startxref from other bytes.
        let could_be = rest
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b.is_ascii_whitespace());
        if could_be {
            return Update::NeedData;
        }
    }
    if !(rest.starts_with(b"xref") || rest.starts_with(b"startxref") || obj_header(rest).is_some()) {
        return Update::No;
    }
    for e in memmem::find_iter(rest, EOF_MARK).map(|p| q + p) {
        let Some(sx) = valid_startxref(region, e) else {
            continue;
        };
        let linked = sx > rev.startxref && sx >= q && prev_of(region, sx, e) == Some(rev.startxref);
        return if linked {
            Update::Yes(Revision {
                end: after_eol(region, e + EOF_MARK.len()),
                startxref: sx,
                linearized: rev.linearized,
            })
        } else {
            Update::No
        };
    }
    Update::Missing
}

/// The `/Prev` of the trailer (or cross-reference stream) of the section at `sx`.
fn prev_of(data: &[u8], sx: usize, eof: usize) -> Option<usize> {
    let section = data.get(sx..eof)?;
    let p = memmem::find(section, b"/Prev")?;
    number_at(section, p + 5)
}

/// The recorded offset of the section before the cross-reference table at `sx` (its
/// trailer's `/Prev`, looked for up to the trailer's `startxref`).
pub(super) fn previous_section(data: &[u8], sx: usize) -> Option<usize> {
    let end = sx + memmem::find(data.get(sx..)?, b"startxref")?;
    prev_of(data, sx, end)
}

/// The in-use entries (object number, recorded offset) among the first `limit` entries of
/// the cross-reference table at `sx`. None when the section is a stream or not laid out in
/// 20-byte entries.
pub(super) fn xref_in_use(data: &[u8], sx: usize, limit: usize) -> Option<Vec<(usize, usize)>> {
    let at = data.get(sx..)?;
    if !at.starts_with(b"xref") {
        return None;
    }
    let mut pos = skip_ws(at, 4);
    let first = number_at(at, pos)?;
    pos += at[pos..].iter().take_while(|b| b.is_ascii_digit()).count();
    let count = number_at(at, pos)?;
    pos = skip_ws(at, pos);
    pos += at[pos..].iter().take_while(|b| b.is_ascii_digit()).count();
    pos = skip_ws(at, pos);
    let mut out = Vec::new();
    for i in 0..count.min(limit) {
        let entry = at.get(pos + 20 * i..pos + 20 * i + 20)?;
        if entry[10] != b' ' || entry[16] != b' ' {
            return None;
        }
        if entry[17] == b'n' {
            let offset: usize = std::str::from_utf8(&entry[..10]).ok()?.parse().ok()?;
            out.push((first + i, offset));
        }
    }
    Some(out)
}

/// Does object `number`'s header ("N G obj") stand at `offset`?
pub(super) fn object_at(data: &[u8], offset: usize, number: usize) -> bool {
    data.get(offset..)
        .and_then(|o| obj_header(o).map(|_| number_at(o, 0)))
        == Some(Some(number))
}

/// Do the first `limit` entries of the cross-reference table at `sx` point at their
/// objects? None when the section is a stream or not laid out in 20-byte entries.
pub(super) fn xref_entries_agree(data: &[u8], sx: usize, limit: usize) -> Option<bool> {
    let entries = xref_in_use(data, sx, limit)?;
    if entries.is_empty() {
        return None;
    }
    Some(entries.iter().all(|&(n, offset)| object_at(data, offset, n)))
}

/// What a walk of the file's objects ended on last.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Nothing,
    Object,
    Trailer {
        root: bool,
    },
    /// A `startxref`/`%%EOF` whose offset points at no cross-reference section.
    BadEof,
}

/// Why the walk stopped.
enum Stop {
    /// The data ended inside a structure.
    RanOut,
    /// Bytes that begin no PDF structure; `maybe` when they could begin one that the
    /// walk did not recognise (so more data might still reveal a valid end).
    NotPdf { maybe: bool },
}

fn walk(d: &[u8], more: bool) -> Probe {
    let mut pos = 0;
    let mut objects = 0usize;
    let mut last = Last::Nothing;
    let mut last_end = 0;
    let stop = loop {
        let next = skip_ws(d, pos);
        if next - pos > MAX_GAP {
            break Stop::NotPdf { maybe: false }; // a run of blank bytes (zeroed space)
        }
        pos = next;
        let rest = &d[pos..];
        if rest.is_empty() {
            break Stop::RanOut;
        }
        if rest.starts_with(EOF_MARK) {
            last = Last::BadEof;
            last_end = after_eol(d, pos + EOF_MARK.len());
            pos = last_end;
            continue;
        }
        if rest[0] == b'%' {
            match memchr::memchr2(b'\r', b'\n', &rest[..rest.len().min(MAX_DICT)]) {
                Some(n) => pos += n,
                None if rest.len() < MAX_DICT => break Stop::RanOut,
                None => break Stop::NotPdf { maybe: false },
            }
            continue;
        }
        if let Some(h) = obj_header(rest) {
            let end = match object_end(rest, h) {
                Ok(end) => end,
                Err(s) => break s,
            };
            objects += 1;
            last = Last::Object;
            pos = after_eol(d, pos + end);
            last_end = pos;
            continue;
        }
        if rest.starts_with(b"xref") {
            match memmem::find(rest, b"trailer") {
                Some(t) => pos += t,
                None => break Stop::RanOut,
            }
            continue;
        }
        if rest.starts_with(b"trailer") {
            match dict_end(rest, 7) {
                Ok(end) => {
                    last = Last::Trailer {
                        root: memmem::find(&rest[..end], b"/Root").is_some(),
                    };
                    pos += end;
                    last_end = pos;
                    continue;
                }
                Err(s) => break s,
            }
        }
        if rest.starts_with(b"startxref") {
            let digits_at = skip_ws(rest, 9);
            let digits = rest[digits_at..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let eof_at = skip_ws(rest, digits_at + digits);
            if digits > 0 && rest[eof_at..].starts_with(EOF_MARK) {
                pos += eof_at; // the %%EOF is taken on the next turn
                continue;
            }
            break if eof_at + EOF_MARK.len() > rest.len() {
                Stop::RanOut
            } else {
                Stop::NotPdf { maybe: false }
            };
        }
        // Only an object number, or the start of a keyword, could be PDF the walk missed.
        let maybe = rest[0].is_ascii_digit()
            || KEYWORDS.iter().any(|k| {
                let n = rest.len().min(k.len());
                k[..n] == rest[..n]
            });
        break Stop::NotPdf { maybe };
    };
    let undecided = matches!(stop, Stop::RanOut | Stop::NotPdf { maybe: true });
    if undecided && more {
        return Probe::NeedMore;
    }
    match last {
        Last::BadEof => Probe::Found(Found::damaged(last_end, 40)),
        Last::Trailer { root: true } if objects > 0 => Probe::Found(Found::complete(last_end, 40)),
        _ if objects > 0 => Probe::Found(Found::truncated(last_end, None, 30)),
        _ => Probe::Invalid,
    }
}

/// End of the object whose header is `h` bytes long at `rest[0]`: after its `endobj`
/// (after `endstream` first when the object is a stream).
fn object_end(rest: &[u8], h: usize) -> Result<usize, Stop> {
    let e = memmem::find(&rest[h..], b"endobj").map(|p| h + p);
    let from = match memmem::find(&rest[h..e.unwrap_or(rest.len())], b"stream").map(|p| h + p) {
        Some(s) => stream_end(rest, h, s)?,
        None if e.is_some() => h,
        None => return Err(Stop::RanOut),
    };
    memmem::find(&rest[from..], b"endobj")
        .map(|p| from + p + 6)
        .ok_or(Stop::RanOut)
}

/// After the `endstream` of a stream whose `stream` keyword is at `s` (its dictionary
/// from `h`): where a direct `/Length` puts it (give or take an end of line or a few
/// miscounted bytes), else the first `endstream`. A direct length that leads elsewhere
/// means the stream's bytes are not what was written (or were cut).
fn stream_end(rest: &[u8], h: usize, s: usize) -> Result<usize, Stop> {
    let data_at = after_eol(rest, s + 6);
    let Some(len) = direct_length(&rest[h..s]) else {
        return memmem::find(&rest[data_at..], b"endstream")
            .map(|p| data_at + p + 9)
            .ok_or(Stop::RanOut);
    };
    let at = data_at.checked_add(len).ok_or(Stop::NotPdf { maybe: false })?;
    let (lo, hi) = (at.saturating_sub(16).max(data_at), at.saturating_add(48));
    if let Some(p) = rest
        .get(lo..hi.min(rest.len()))
        .and_then(|w| memmem::find(w, b"endstream"))
    {
        return Ok(lo + p + 9);
    }
    if rest.len() < hi {
        Err(Stop::RanOut)
    } else {
        Err(Stop::NotPdf { maybe: false })
    }
}

/// `/Length N` in a stream dictionary, unless it is a reference (`N G R`).
fn direct_length(dict: &[u8]) -> Option<usize> {
    let p = memmem::find_iter(dict, b"/Length")
        .find(|&p| !dict.get(p + 7).is_some_and(u8::is_ascii_alphanumeric))?;
    let n = number_at(dict, p + 7)?;
    let after = skip_ws(dict, p + 7);
    let after = skip_ws(
        dict,
        after + dict[after..].iter().take_while(|b| b.is_ascii_digit()).count(),
    );
    let gen = dict[after..].iter().take_while(|b| b.is_ascii_digit()).count();
    let r = skip_ws(dict, after + gen);
    let reference = gen > 0 && r > after + gen && dict.get(r) == Some(&b'R');
    (!reference).then_some(n)
}

/// End of the dictionary `<< ... >>` that starts after whitespace at `rest[at]`.
fn dict_end(rest: &[u8], at: usize) -> Result<usize, Stop> {
    let start = skip_ws(rest, at);
    if rest.len() < start + 2 {
        return Err(Stop::RanOut);
    }
    if &rest[start..start + 2] != b"<<" {
        return Err(Stop::NotPdf { maybe: false });
    }
    let (mut depth, mut paren, mut i) = (0usize, 0usize, start);
    while i < rest.len().min(start + MAX_DICT) {
        match (rest[i], rest.get(i + 1)) {
            (b'\\', _) if paren > 0 => i += 1,
            (b'(', _) => paren += 1,
            (b')', _) if paren > 0 => paren -= 1,
            (b'<', Some(b'<')) if paren == 0 => {
                depth += 1;
                i += 1;
            }
            (b'>', Some(b'>')) if paren == 0 => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    if i >= rest.len() {
        Err(Stop::RanOut)
    } else {
        Err(Stop::NotPdf { maybe: false })
    }
}
