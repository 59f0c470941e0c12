//! Mail: mbox files (messages each opened by a `From sender date` line) and single
//! RFC 5322 messages (EML), plus the text rule the HTML walker shares.
//!
//! Text is printable ASCII, tab, CR, LF and well-formed UTF-8 multibyte sequences; a
//! text file ends at the first byte that breaks this. At a NUL (the zeroed slack after a
//! file) everything before it is kept; at other bytes (the next file, old data) the
//! trailing partial line is trimmed to the last newline.
//!
//! mbox: `From ` must open a separator line (`From sender weekday month day hh:mm:ss
//! year`: a sender token, a month name, a time and a four-digit year) followed by a valid
//! header block; the file then runs over every later message to the end of the text.
//!
//! EML: the candidate must open a header block (`Name: value` lines with RFC 5322 field
//! names and folded continuations, at least two fields of which one is From, Date or
//! Subject, closed by an empty line); the body runs to the end of the text or to the
//! next mbox separator line (a message inside an mbox ends where the next one begins).
//!
//! Text cannot tell a cut file from a whole one, so a plausible end gives Complete with a
//! modest confidence; a multipart message (of an mbox, its last one) whose closing
//! boundary is missing is Truncated, as is text that runs to the size cap.
//!
//! Duplicates: the scanner also offers the second and later header lines of one message
//! ("Received:" 2..n, a "Message-ID:" in the middle) and every later message of an mbox.
//! From the candidate's own first byte these look the same as a real start, so they are
//! carved too, as suffixes nested inside the real file of the same type. Looking back
//! tells them apart: [`eml_continues_earlier`] and [`mbox_continues_earlier`] answer
//! that for the scanner's look-back hook.

use super::{Found, Probe};
use memchr::{memchr, memmem, memrchr};

/// Longest physical line of a header block (RFC 5322 allows 998; some mailers exceed it).
const MAX_LINE: usize = 8 * 1024;
/// Longest header block before the walk gives up.
const MAX_HEADER_BLOCK: usize = 256 * 1024;
/// Longest field name (RFC 5322 sets none; real ones are far shorter).
const MAX_FIELD_NAME: usize = 76;
/// Longest mbox separator line.
const MAX_FROM_LINE: usize = 1024;
/// RFC 2046: a boundary is 1 to 70 characters.
const MAX_BOUNDARY: usize = 70;

/// The bytes a walker may read, and what happens at their end.
pub(super) struct Src<'a> {
    pub(super) d: &'a [u8],
    /// The caller can give more bytes (NeedMore is an answer).
    pub(super) more: bool,
    /// `d` stops at the size cap, not at the image's end.
    pub(super) capped: bool,
}

impl<'a> Src<'a> {
    pub(super) fn new(data: &'a [u8], at_eof: bool, max_len: usize) -> Src<'a> {
        let capped = data.len() > max_len || (data.len() == max_len && !at_eof);
        Src {
            d: &data[..data.len().min(max_len)],
            more: !at_eof && data.len() < max_len,
            capped,
        }
    }

    /// The answer when a walk needs bytes past `d`: more, or (none to come) not a file.
    fn short(&self) -> Stop {
        if self.more {
            Stop::More
        } else {
            Stop::Invalid
        }
    }
}

/// Why a walk could not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    More,
    Invalid,
}

impl Stop {
    fn probe(self) -> Probe {
        match self {
            Stop::More => Probe::NeedMore,
            Stop::Invalid => Probe::Invalid,
        }
    }
}

const fn text_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7F {
        t[b] = true;
        b += 1;
    }
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
}

/// Single-byte text: printable ASCII, tab, LF, CR.
static ASCII_TEXT: [bool; 256] = text_table();

/// How many leading bytes of `b` are text, and whether the bytes after them are an
/// incomplete (but so far well-formed) UTF-8 sequence cut by the end of `b`.
pub(super) fn text_prefix(b: &[u8]) -> (usize, bool) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i < b.len() {
        // Eight plain printable ASCII bytes at a time (no high bit, none below 0x20,
        // no DEL); anything else goes byte by byte.
        if let Some(w) = b.get(i..i + 8) {
            let x = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
            let del = x ^ (LO * 0x7F);
            let has_del = del.wrapping_sub(LO) & !del & HI;
            if x & HI == 0 && below_space == 0 && has_del == 0 {
                i += 8;
                continue;
            }
        }
        let c = b[i];
        if ASCII_TEXT[c as usize] {
            i += 1;
            continue;
        }
        let (n, lo, hi) = match c {
            0xC2..=0xDF => (2, 0x80, 0xBF),
            0xE0 => (3, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE | 0xEF => (3, 0x80, 0xBF),
            0xED => (3, 0x80, 0x9F),
            0xF0 => (4, 0x90, 0xBF),
            0xF1..=0xF3 => (4, 0x80, 0xBF),
            0xF4 => (4, 0x80, 0x8F),
            _ => return (i, false),
        };
        for k in 1..n {
            let Some(&x) = b.get(i + k) else {
                return (i, true);
            };
            let (l, h) = if k == 1 { (lo, hi) } else { (0x80, 0xBF) };
            if !(l..=h).contains(&x) {
                return (i, false);
            }
        }
        i += n;
    }
    (i, false)
}

/// Is all of `b` text?
fn all_text(b: &[u8]) -> bool {
    text_prefix(b).0 == b.len()
}

/// Where a text run that began before `from` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextEnd {
    /// At the non-text byte at this position.
    At(usize),
    /// At the end of the data (more may follow).
    Out,
}

/// The end of the text run through `d[from..]`.
pub(super) fn text_end(d: &[u8], from: usize) -> TextEnd {
    let rest = d.get(from..).unwrap_or_default();
    match text_prefix(rest) {
        (n, false) if n < rest.len() => TextEnd::At(from + n),
        _ => TextEnd::Out,
    }
}

/// The end of a text file whose text stops at the non-text byte `at`: a NUL keeps all
/// before it (zeroed slack after the file), anything else trims to the last newline.
pub(super) fn end_at_junk(d: &[u8], at: usize) -> usize {
    if d.get(at) == Some(&0) {
        at
    } else {
        memrchr(b'\n', &d[..at]).map_or(0, |p| p + 1)
    }
}

/// The line starting at `pos`: the index of its `\n`, looked for within `max` bytes.
fn line_end(src: &Src, pos: usize, max: usize) -> Result<usize, Stop> {
    let stop = pos.saturating_add(max).min(src.d.len());
    match memchr(b'\n', src.d.get(pos..stop).unwrap_or_default()) {
        Some(k) => Ok(pos + k),
        None if stop == src.d.len() && src.d.len() - pos < max => Err(src.short()),
        None => Err(Stop::Invalid),
    }
}

/// What a header block said.
#[derive(Debug, Default, Clone, Copy)]
struct Headers {
    /// Just after the empty line that closes the block.
    end: usize,
    fields: usize,
    from: bool,
    date: bool,
    subject: bool,
    to: bool,
    message_id: bool,
    /// The value of the Content-Type field (its continuation lines included).
    content_type: Option<(usize, usize)>,
}

impl Headers {
    /// How many of the fields every real message carries are present.
    fn key_fields(&self) -> u8 {
        u8::from(self.from)
            + u8::from(self.date)
            + u8::from(self.subject)
            + u8::from(self.to || self.message_id)
    }
}

/// RFC 5322 `ftext`: printable ASCII except the colon.
fn is_field_name(name: &[u8]) -> bool {
    (1..=MAX_FIELD_NAME).contains(&name.len()) && name.iter().all(|&c| (33..=126).contains(&c) && c != b':')
}

/// A header block starting at `start`.
fn headers(src: &Src, start: usize) -> Result<Headers, Stop> {
    let d = src.d;
    let mut h = Headers::default();
    let mut pos = start;
    let mut in_content_type = false;
    loop {
        if pos - start > MAX_HEADER_BLOCK {
            return Err(Stop::Invalid);
        }
        let le = line_end(src, pos, MAX_LINE)?;
        let raw = &d[pos..le];
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !all_text(line) {
            return Err(Stop::Invalid);
        }
        match line.first() {
            None => {
                if h.fields >= 2 && (h.from || h.date || h.subject) {
                    h.end = le + 1;
                    return Ok(h);
                }
                return Err(Stop::Invalid);
            }
            Some(b' ' | b'\t') => {
                if h.fields == 0 {
                    return Err(Stop::Invalid);
                }
                if in_content_type {
                    if let Some((_, end)) = h.content_type.as_mut() {
                        *end = pos + line.len();
                    }
                }
            }
            Some(_) => {
                let Some(colon) = memchr(b':', line) else {
                    return Err(Stop::Invalid);
                };
                let name = &line[..colon];
                if !is_field_name(name) {
                    return Err(Stop::Invalid);
                }
                h.fields += 1;
                let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
                h.from |= is(b"from");
                h.date |= is(b"date");
                h.subject |= is(b"subject");
                h.to |= is(b"to");
                h.message_id |= is(b"message-id");
                in_content_type = is(b"content-type");
                if in_content_type {
                    h.content_type = Some((pos + colon + 1, pos + line.len()));
                }
            }
        }
        pos = le + 1;
    }
}

/// The boundary of a `multipart/*` Content-Type value, if it is one.
fn multipart_boundary(value: &[u8]) -> Option<&[u8]> {
    let v = value.trim_ascii_start();
    if !v.get(..10)?.eq_ignore_ascii_case(b"multipart/") {
        return None;
    }
    let key = b"boundary=";
    let at = v.windows(key.len()).position(|w| w.eq_ignore_ascii_case(key))? + key.len();
    let rest = &v[at..];
    let b = if let Some(q) = rest.strip_prefix(b"\"") {
        &q[..memchr(b'"', q)?]
    } else {
        let n = rest
            .iter()
            .position(|&c| c == b';' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        &rest[..n]
    };
    (1..=MAX_BOUNDARY).contains(&b.len()).then_some(b)
}

/// For a multipart message whose body is `d[body..end]`: is its closing delimiter
/// (`--boundary--` at the start of a line) there? `None` for a message that is not
/// multipart.
fn multipart_closed(d: &[u8], h: &Headers, end: usize) -> Option<bool> {
    let (vs, ve) = h.content_type?;
    let boundary = multipart_boundary(d.get(vs..ve)?)?;
    let mut closing = Vec::with_capacity(boundary.len() + 4);
    closing.extend_from_slice(b"--");
    closing.extend_from_slice(boundary);
    closing.extend_from_slice(b"--");
    let body = d.get(h.end..end)?;
    Some(memmem::find_iter(body, &closing).any(|p| p == 0 || body[p - 1] == b'\n'))
}

/// Is `tok` a month name (three letters or the whole name)?
fn is_month(tok: &[u8]) -> bool {
    const MONTHS: [&[u8]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
    ];
    (3..=9).contains(&tok.len())
        && tok.iter().all(u8::is_ascii_alphabetic)
        && MONTHS.iter().any(|m| tok[..3].eq_ignore_ascii_case(m))
}

/// `h:mm`, `hh:mm` or `hh:mm:ss`.
fn is_time(tok: &[u8]) -> bool {
    let mut parts = tok.split(|&c| c == b':');
    let ok = |p: Option<&[u8]>, lens: std::ops::RangeInclusive<usize>| {
        p.is_some_and(|p| lens.contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
    };
    let (h, m, s) = (parts.next(), parts.next(), parts.next());
    ok(h, 1..=2) && ok(m, 2..=2) && (s.is_none() || ok(s, 2..=2)) && parts.next().is_none()
}

/// A four-digit year a mailbox could carry.
fn is_year(tok: &[u8]) -> bool {
    tok.len() == 4
        && tok.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(tok)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .is_some_and(|y| (1970..=2199).contains(&y))
}

/// An mbox separator line `From sender date` at `pos` (which holds `From `): the
/// position after its newline.
fn from_line(src: &Src, pos: usize) -> Result<usize, Stop> {
    let le = line_end(src, pos, MAX_FROM_LINE)?;
    let raw = &src.d[pos..le];
    let line = raw.strip_suffix(b"\r").unwrap_or(raw);
    let Some(rest) = line.strip_prefix(b"From ") else {
        return Err(Stop::Invalid);
    };
    if !rest.iter().all(|&c| (0x20..0x7F).contains(&c) || c == b'\t') {
        return Err(Stop::Invalid);
    }
    let sender_len = rest
        .iter()
        .position(|&c| c == b' ' || c == b'\t')
        .unwrap_or(rest.len());
    if sender_len == 0 {
        return Err(Stop::Invalid);
    }
    let date = &rest[sender_len..];
    let tokens = || {
        date.split(|&c| c == b' ' || c == b'\t' || c == b',')
            .filter(|t| !t.is_empty())
    };
    let (month, time, year) = (
        tokens().any(is_month),
        tokens().any(is_time),
        tokens().any(is_year),
    );
    if month && time && year {
        Ok(le + 1)
    } else {
        Err(Stop::Invalid)
    }
}

/// A message separator at `pos`: a `From ` line and the header block after it.
fn separator(src: &Src, pos: usize) -> Result<Headers, Stop> {
    let after = from_line(src, pos)?;
    headers(src, after)
}

/// How the walk over a message body ended.
enum BodyEnd {
    /// The text ends at this position.
    Text(usize),
    /// The next mbox message begins at this position.
    Message(usize),
    /// The size cap was reached; the text was trimmed to its last line here.
    Cap(usize),
}

/// What a line break and an mbox separator line's start look like.
const SEPARATOR: &[u8] = b"\nFrom ";
/// Bytes searched for the next separator at a time.
const SEPARATOR_STEP: usize = 64 << 10;

/// Walk the text from `pos` (the start of a line, after a header block). With
/// `messages`, each mbox separator found is passed to it (with its position) and the walk
/// goes on; without, the walk ends at the first one.
fn walk_body(
    src: &Src,
    pos: usize,
    mut messages: Option<&mut dyn FnMut(usize, Headers)>,
) -> Result<BodyEnd, Stop> {
    let d = src.d;
    let finder = memmem::Finder::new(SEPARATOR);
    // `d[pos..checked]` is known to be text; separators are looked for from `search`.
    let mut checked = pos;
    let mut search = pos.saturating_sub(1);
    loop {
        // Separators are looked for a step at a time, the text checked on the way: a body
        // that stops being text ends there however far the data runs on (a search to the
        // data's end per candidate made every chance header cost the whole window).
        let limit = search.saturating_add(SEPARATOR_STEP).min(d.len());
        let Some(k) = finder.find(&d[search..limit]) else {
            if limit == d.len() {
                break;
            }
            // A separator starting from `to` on is found by the next step.
            let to = limit - (SEPARATOR.len() - 1);
            if to > checked {
                match text_prefix(&d[checked..to]) {
                    (n, false) if checked + n < to => return Ok(BodyEnd::Text(end_at_junk(d, checked + n))),
                    (n, _) => checked += n, // all text, or up to a character cut at `to`
                }
            }
            search = to;
            continue;
        };
        let p = search + k + 1;
        if p > checked {
            if let Some(q) = non_text(d, checked, p) {
                return Ok(BodyEnd::Text(end_at_junk(d, q)));
            }
            checked = p;
        }
        search = p;
        match separator(src, p) {
            Ok(h) => match messages.as_mut() {
                Some(f) => {
                    f(p, h);
                    checked = h.end;
                    search = h.end - 1;
                }
                None => return Ok(BodyEnd::Message(p)),
            },
            Err(Stop::More) => return Err(Stop::More),
            Err(Stop::Invalid) => {}
        }
    }
    match text_end(d, checked) {
        TextEnd::At(q) => Ok(BodyEnd::Text(end_at_junk(d, q))),
        TextEnd::Out if src.more => Err(Stop::More),
        TextEnd::Out if src.capped => Ok(BodyEnd::Cap(end_at_junk(d, d.len()))),
        TextEnd::Out => Ok(BodyEnd::Text(d.len())),
    }
}

/// The first byte of `d[from..to]` that is not text (`to` is followed by an ASCII byte,
/// so no UTF-8 sequence is cut there).
fn non_text(d: &[u8], from: usize, to: usize) -> Option<usize> {
    let (n, _) = text_prefix(&d[from..to]);
    (from + n < to).then_some(from + n)
}

pub(super) fn probe_mbox(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let src = Src::new(data, at_eof, max_len);
    let first = match separator(&src, 0) {
        Ok(h) => h,
        Err(s) => return s.probe(),
    };
    let mut count = 1usize;
    let mut last = first;
    let mut note = |_pos: usize, h: Headers| {
        count += 1;
        last = h;
    };
    let end = match walk_body(&src, first.end, Some(&mut note)) {
        Ok(e) => e,
        Err(s) => return s.probe(),
    };
    let confidence = 55 + 5 * count.saturating_sub(1).min(3) as u8;
    match end {
        BodyEnd::Cap(e) => Probe::Found(Found::truncated(e, None, 40)),
        BodyEnd::Text(e) | BodyEnd::Message(e) => {
            if multipart_closed(src.d, &last, e) == Some(false) {
                Probe::Found(Found::truncated(e, None, 40))
            } else {
                Probe::Found(Found::complete(e, confidence))
            }
        }
    }
}

pub(super) fn probe_eml(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let src = Src::new(data, at_eof, max_len);
    let h = match headers(&src, 0) {
        Ok(h) => h,
        Err(s) => return s.probe(),
    };
    let end = match walk_body(&src, h.end, None) {
        Ok(e) => e,
        Err(s) => return s.probe(),
    };
    match end {
        BodyEnd::Cap(e) => Probe::Found(Found::truncated(e, None, 35)),
        BodyEnd::Text(e) | BodyEnd::Message(e) => match multipart_closed(src.d, &h, e) {
            Some(false) => Probe::Found(Found::truncated(e, None, 35)),
            closed => {
                let confidence = 45 + 5 * h.key_fields() + if closed.is_some() { 5 } else { 0 };
                Probe::Found(Found::complete(e, confidence))
            }
        },
    }
}

/// The line before `pos` (a line start), without its line ending; `None` at the start of
/// `data` or when `pos` does not start a line.
fn previous_line(data: &[u8], pos: usize) -> Option<&[u8]> {
    let before = data.get(..pos)?;
    let body = before.strip_suffix(b"\n")?;
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let start = memrchr(b'\n', body).map_or(0, |p| p + 1);
    // A line that begins after junk (slack, random bytes) begins where the junk ends.
    let junk = body[start..]
        .iter()
        .rposition(|&c| !((0x20..0x7F).contains(&c) || c == b'\t'))
        .map(|p| start + p + 1);
    let start = junk.unwrap_or(start);
    // Only a line seen whole counts (the window may begin inside it).
    (start > 0 || before.len() == pos).then(|| &body[start..])
}

/// Does the candidate sit inside a line of text: is everything from the line's start
/// (the previous newline, or as far back as [`MAX_LINE`]) up to `pos` text? A NUL,
/// another control byte or any junk on the way means whatever came before (slack,
/// another file, random bytes) ended there and a file may start at `pos`.
fn inside_a_line(data: &[u8], pos: usize) -> bool {
    let from = pos.saturating_sub(MAX_LINE);
    let Some(before) = data.get(from..pos) else {
        return false;
    };
    if before.is_empty() {
        return false;
    }
    for &c in before.iter().rev() {
        match c {
            b'\n' => return true,
            0x20..=0x7E | b'\t' | b'\r' | 0x80..=0xFF => {}
            _ => return false,
        }
    }
    true
}

/// Look-back for an EML candidate at `data[pos]`: true when it is not the first line of
/// a header block but a later header line of one (the line before it is a header field
/// or a folded continuation) or sits inside a line of text.
pub(super) fn eml_continues_earlier(data: &[u8], pos: usize) -> bool {
    if pos == 0 {
        return false;
    }
    if data.get(pos - 1) != Some(&b'\n') {
        return inside_a_line(data, pos);
    }
    let Some(prev) = previous_line(data, pos) else {
        return false;
    };
    match prev.first() {
        None => false,
        Some(b' ' | b'\t') => all_text(prev),
        Some(_) => memchr(b':', prev).is_some_and(|c| is_field_name(&prev[..c])) && all_text(prev),
    }
}

/// How far back [`mbox_continues_earlier`] looks for the mbox's first separator.
const MBOX_LOOK_BACK: usize = 4 << 20;
/// The look-back goes in steps of this many bytes, so that it stops soon after the text
/// run before the candidate ends.
const LOOK_BACK_STEP: usize = 16 * 1024;

/// Look-back for an mbox candidate at `data[pos]`: true when `From ` sits inside a line
/// of text, or when an earlier separator line opens a text run that reaches it unbroken
/// (so that it is a later message of an mbox that began there).
pub(super) fn mbox_continues_earlier(data: &[u8], pos: usize) -> bool {
    if pos == 0 {
        return false;
    }
    if data.get(pos - 1) != Some(&b'\n') {
        return inside_a_line(data, pos);
    }
    let from = pos.saturating_sub(MBOX_LOOK_BACK);
    let Some(before) = data.get(from..pos - 1) else {
        return false;
    };
    // `before[checked..]` is known to be text; look for separators below it.
    let mut checked = before.len();
    while checked > 0 {
        let mut lo = checked.saturating_sub(LOOK_BACK_STEP);
        // Start the step on a character, not inside a UTF-8 sequence.
        while lo > 0 && lo < checked && (0x80..0xC0).contains(&before[lo]) {
            lo += 1;
        }
        let stop = (checked + 4).min(before.len());
        let step_end = checked;
        let hits = memmem::rfind_iter(&before[lo..stop], b"From ")
            .map(|p| lo + p)
            .filter(|&p| p < step_end);
        for p in hits {
            if !all_text(&before[p..checked]) {
                return false;
            }
            checked = p;
            let line_start = from + p == 0 || data[from + p - 1] == b'\n';
            if line_start && separator(&Src::new(&data[from + p..], true, usize::MAX), 0).is_ok() {
                return true;
            }
        }
        if !all_text(&before[lo..checked]) {
            return false;
        }
        checked = lo;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious byte-by-byte text rule, through the standard UTF-8 decoder.
    fn oracle(b: &[u8]) -> (usize, bool) {
        let valid = match std::str::from_utf8(b) {
            Ok(_) => b.len(),
            Err(e) => e.valid_up_to(),
        };
        let incomplete_tail = matches!(std::str::from_utf8(b), Err(e) if e.error_len().is_none());
        let s = std::str::from_utf8(&b[..valid]).expect("valid prefix");
        for (i, ch) in s.char_indices() {
            let ok = ch.len_utf8() > 1 || matches!(ch, ' '..='~' | '\t' | '\n' | '\r');
            if !ok {
                return (i, false);
            }
        }
        (valid, incomplete_tail)
    }

    #[test]
    fn text_prefix_matches_the_decoder_oracle() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: Vec<u8> = b"abc XYZ\t\r\n~"
            .iter()
            .copied()
            .chain([
                0x00, 0x7F, 0x1F, 0x80, 0xBF, 0xC2, 0xC0, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0,
                0x9F,
            ])
            .collect();
        for len in 0..64 {
            for _ in 0..400 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        let r = next();
                        if r % 4 == 0 {
                            alphabet[(r >> 8) as usize % alphabet.len()]
                        } else {
                            b'a' + (r >> 8) as u8 % 26
                        }
                    })
                    .collect();
                assert_eq!(text_prefix(&b), oracle(&b), "{b:?}");
            }
        }
        let s = "héllo wörld ✓ 𝄞\n".repeat(5);
        assert_eq!(text_prefix(s.as_bytes()), (s.len(), false));
    }

    #[test]
    fn look_back_tells_later_header_lines_and_messages() {
        let msg =
            b"Return-Path: <a@b>\r\nReceived: from x\r\n\tby y\r\nReceived: z\r\nFrom: a@b\r\n\r\nbody\n";
        let second = memmem::find(msg, b"Received: from").expect("line 2");
        let third = memmem::find(msg, b"Received: z").expect("line 4");
        assert!(!eml_continues_earlier(msg, 0));
        assert!(eml_continues_earlier(msg, second));
        assert!(eml_continues_earlier(msg, third));
        let mut after_blank = b"some text\n\n".to_vec();
        let at = after_blank.len();
        after_blank.extend_from_slice(b"Received: x\n");
        assert!(!eml_continues_earlier(&after_blank, at));
        assert!(eml_continues_earlier(b"Subject: Received: x", 9));
        // After slack or another file's bytes: a start.
        assert!(!eml_continues_earlier(b"\0\0Received: x", 2));
        assert!(!eml_continues_earlier(b"\xFF\x01Received: x", 2));
        assert!(!mbox_continues_earlier(
            b"\0From a@b Thu Jan  1 00:00:00 2004\n",
            1
        ));
        assert!(mbox_continues_earlier(
            b"see From a@b Thu Jan  1 00:00:00 2004\n",
            4
        ));

        let mbox = b"From a@b Thu Jan  1 00:00:00 2004\nSubject: x\nFrom: a@b\n\nhi\n\nFrom c@d Thu Jan  1 00:00:01 2004\n";
        let later = memmem::rfind(mbox, b"From c@d").expect("second message");
        assert!(!mbox_continues_earlier(mbox, 0));
        assert!(mbox_continues_earlier(mbox, later));
        let mut zeros = vec![0u8; 10];
        zeros.push(b'\n');
        let at = zeros.len();
        zeros.extend_from_slice(b"From a@b Thu Jan  1 00:00:00 2004\n");
        assert!(!mbox_continues_earlier(&zeros, at));
    }
}
