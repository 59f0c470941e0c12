//! RIFF: "RIFF", a little-endian size, a form type, then chunks (four printable ASCII
//! bytes of id, a size, the data, a pad byte to an even offset) filling the declared
//! size exactly; LIST chunks are walked inside (to a bounded depth).
//!
//! The form decides what else must hold: WAVE needs a "fmt " chunk, WebP must start
//! with a VP8, VP8L or VP8X chunk whose own header is right, an AVI starts with its
//! "hdrl" list and takes in the "AVIX" RIFFs that extend it past the first one
//! (OpenDML), which are never carved on their own. Other forms are carved when the
//! chunk walk fills the declared size.

use super::{le_u16, le_u32, Found, Probe};

const HEADER: usize = 12;
/// Deepest LIST nesting walked.
const MAX_DEPTH: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Wave,
    Webp,
    Avi,
    /// A known form: its subtype name.
    Known(&'static str),
    Other,
}

fn form(fourcc: &[u8]) -> Option<Form> {
    Some(match fourcc {
        b"WAVE" => Form::Wave,
        b"WEBP" => Form::Webp,
        b"AVI " => Form::Avi,
        b"RMID" => Form::Known("rmid"),
        b"ACON" => Form::Known("acon"),
        b"CDXA" => Form::Known("cdxa"),
        b"PAL " => Form::Known("pal"),
        b"RDIB" => Form::Known("rdib"),
        b"RMMP" => Form::Known("rmmp"),
        b"DLS " => Form::Known("dls"),
        b"sfbk" => Form::Known("sfbk"),
        b"AMV " => Form::Known("amv"),
        b"QLCM" => Form::Known("qlcm"),
        // The continuation of an OpenDML AVI: part of the AVI before it, not a file.
        b"AVIX" => return None,
        _ if fourcc.iter().all(|&b| b.is_ascii_alphanumeric() || b == b' ') => Form::Other,
        _ => return None,
    })
}

/// What the chunk walk saw.
#[derive(Default)]
struct Seen {
    chunks: usize,
    /// Id of the first top-level chunk, and where its data starts.
    first: Option<([u8; 4], usize, usize)>,
    fmt: Option<usize>,
    hdrl_avih: bool,
    /// A chunk overran the list or file holding it, or the sizes did not add up.
    inconsistent: bool,
}

/// How a chunk walk ended.
enum End {
    /// Walked to the declared end.
    Whole,
    /// A chunk header that is not one at this offset: the file was cut or overwritten.
    Broken(usize),
    /// The data in hand ends at this offset, before the declared end.
    OutOfData,
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let (data, at_eof) = if data.len() > max_len {
        (&data[..max_len], false)
    } else {
        (data, at_eof)
    };
    let (Some(size), Some(fourcc)) = (le_u32(data, 4), data.get(8..HEADER)) else {
        return need(data, at_eof, max_len);
    };
    let Some(form) = form(fourcc) else {
        return Probe::Invalid;
    };
    let end = 8 + size;
    if size < 4 || end > max_len {
        return Probe::Invalid;
    }
    let mut seen = Seen::default();
    let walked = walk(data, HEADER, end, &mut seen);
    if seen.chunks == 0 && !matches!(walked, End::OutOfData) {
        return Probe::Invalid;
    }
    // The form's own checks on what was seen.
    let mut confidence = match form {
        Form::Wave | Form::Webp | Form::Avi => 90,
        Form::Known(_) => 75,
        Form::Other => 50,
    };
    let mut damaged = seen.inconsistent;
    match form {
        Form::Webp => match check_webp(data, &seen) {
            Some(true) => {}
            Some(false) => damaged = true,
            None if seen.first.is_some() => return Probe::Invalid,
            None => {}
        },
        Form::Wave => match seen.fmt {
            Some(at) if fmt_consistent(data, at) => {}
            Some(_) => confidence = 70,
            None if matches!(walked, End::Whole) => damaged = true,
            None => {}
        },
        Form::Avi if !seen.hdrl_avih => confidence = 60,
        _ => {}
    }
    let subtype = match form {
        Form::Wave => Some("wav"),
        Form::Webp => Some("webp"),
        Form::Avi => Some("avi"),
        Form::Known(name) => Some(name),
        Form::Other => None,
    };
    let with = |f: Found| Probe::Found(subtype.map_or(f, |s| f.with_subtype(s)));
    match walked {
        End::Whole => {}
        End::Broken(at) => {
            if form == Form::Other && seen.chunks < 2 {
                return Probe::Invalid;
            }
            return with(Found::truncated(at, Some((end - at) as u64), 50));
        }
        End::OutOfData => {
            if !at_eof {
                return need(data, at_eof, max_len);
            }
            if form == Form::Other && seen.chunks < 2 {
                return Probe::Invalid;
            }
            let missing = (end - data.len()) as u64;
            return with(Found::truncated(data.len(), Some(missing), 40));
        }
    }
    if form == Form::Other && seen.chunks < 2 {
        confidence = 30;
    }
    // An AVI over 1 GiB goes on in "AVIX" RIFFs right after the first.
    let mut len = end;
    if form == Form::Avi {
        match avix_tail(data, end, max_len, at_eof) {
            Some(tail) => len = tail,
            None => return Probe::NeedMore,
        }
    }
    if damaged {
        with(Found::damaged(len, 50))
    } else {
        with(Found::complete(len, confidence))
    }
}

fn need(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    if at_eof || data.len() >= max_len {
        Probe::Invalid
    } else {
        Probe::NeedMore
    }
}

/// Walk the chunks in `data[pos..end]`, into LIST chunks.
fn walk(data: &[u8], mut pos: usize, end: usize, seen: &mut Seen) -> End {
    let mut ends = [0usize; MAX_DEPTH];
    ends[0] = end;
    let mut depth = 1;
    while depth > 0 {
        let container = ends[depth - 1];
        if pos >= container {
            depth -= 1;
            // Pad to an even offset after a list, unless the pad is the file's end.
            if pos % 2 == 1 && depth > 0 && pos < ends[depth - 1] {
                pos += 1;
            }
            continue;
        }
        if container - pos < 8 {
            // Bytes left over that cannot hold a chunk header.
            seen.inconsistent = true;
            pos = container;
            continue;
        }
        let (Some(id), Some(size)) = (data.get(pos..pos + 4), le_u32(data, pos + 4)) else {
            return End::OutOfData;
        };
        if !id.iter().all(|&b| (0x20..0x7F).contains(&b)) || id == b"    " {
            return End::Broken(pos);
        }
        let Some(chunk_end) = (pos + 8).checked_add(size) else {
            return End::Broken(pos);
        };
        if seen.chunks == 0 {
            seen.first = Some((id.try_into().unwrap_or([0; 4]), pos + 8, size));
        }
        seen.chunks += 1;
        if chunk_end > container {
            // The chunk says it is longer than what holds it.
            seen.inconsistent = true;
            pos = container;
            continue;
        }
        if id == b"fmt " && depth == 1 && seen.fmt.is_none() {
            seen.fmt = Some(pos + 8);
        }
        if id == b"LIST" && size >= 4 && depth < MAX_DEPTH {
            let Some(list) = data.get(pos + 8..pos + 12) else {
                return End::OutOfData;
            };
            if !list.iter().all(|&b| (0x20..0x7F).contains(&b)) {
                return End::Broken(pos);
            }
            if list == b"hdrl" && data.get(pos + 12..pos + 16) == Some(b"avih") {
                seen.hdrl_avih = true;
            }
            ends[depth] = chunk_end;
            depth += 1;
            pos += 12;
            continue;
        }
        pos = chunk_end;
        if pos % 2 == 1 && pos < container {
            pos += 1;
        }
    }
    if pos > data.len() {
        return End::OutOfData;
    }
    End::Whole
}

/// Whether a WebP's first chunk is an image chunk; whether its header is right.
fn check_webp(data: &[u8], seen: &Seen) -> Option<bool> {
    let (id, at, size) = seen.first?;
    Some(match &id {
        b"VP8L" => data.get(at) == Some(&0x2F) && size >= 5,
        // A key frame's start code after the three-byte frame tag.
        b"VP8 " => data.get(at + 3..at + 6) == Some(b"\x9d\x01\x2a") && size >= 10,
        b"VP8X" => size == 10,
        _ => return None,
    })
}

/// A "fmt " chunk whose rates and block size agree (PCM) or are at least plausible.
fn fmt_consistent(data: &[u8], at: usize) -> bool {
    let (Some(tag), Some(channels), Some(rate), Some(byte_rate), Some(align), Some(bits)) = (
        le_u16(data, at),
        le_u16(data, at + 2),
        le_u32(data, at + 4),
        le_u32(data, at + 8),
        le_u16(data, at + 12),
        le_u16(data, at + 14),
    ) else {
        return false;
    };
    if tag == 0 || channels == 0 || rate == 0 || align == 0 {
        return false;
    }
    match tag {
        // PCM, IEEE float, extensible: the block holds one sample per channel.
        1 | 3 | 0xFFFE => align == channels * bits.div_ceil(8) && byte_rate == rate * align,
        _ => true,
    }
}

/// The end of an AVI with the OpenDML "AVIX" RIFFs that follow it; `None` when the
/// data in hand stops where one might start.
fn avix_tail(data: &[u8], mut end: usize, max_len: usize, at_eof: bool) -> Option<usize> {
    loop {
        if end + HEADER > max_len {
            return Some(end);
        }
        let Some(head) = data.get(end..end + HEADER) else {
            return if at_eof || data.len() >= max_len {
                Some(end)
            } else {
                None
            };
        };
        if &head[..4] != b"RIFF" || &head[8..] != b"AVIX" {
            return Some(end);
        }
        let size = le_u32(head, 4)?;
        let next = end + 8 + size;
        if size < 4 || next > max_len {
            return Some(end);
        }
        let mut seen = Seen::default();
        match walk(data, end + HEADER, next, &mut seen) {
            End::Whole if !seen.inconsistent => end = next,
            End::OutOfData if !at_eof => return None,
            _ => return Some(end),
        }
    }
}
