//! The feature scanner: text runs of a window handed to the extractors, hits kept when they
//! start in the window's owned range, offsets made absolute, context attached.

use super::extract::extract;
use super::kind::{Kind, Kinds};
use super::text::{decode_utf16, runs};

/// Bytes of context on each side of a hit, as bulk_extractor writes.
pub const CONTEXT: usize = 16;

/// One feature in an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: Kind,
    /// Absolute offset in the image of the value's first byte.
    pub offset: u64,
    /// Bytes the value spans in the image (twice its characters for UTF-16LE).
    pub length: u64,
    pub value: String,
    pub valid: bool,
    pub utf16: bool,
    /// The bytes around the value, escaped (see `escape`).
    pub context: String,
}

/// What to report: which kinds, and whether checksum failures are reported (marked invalid).
#[derive(Clone, Copy, Debug)]
pub struct Scanner {
    kinds: Kinds,
    invalid: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            kinds: Kinds::all(),
            invalid: false,
        }
    }
}

impl Scanner {
    pub fn new(kinds: &[Kind], invalid: bool) -> Scanner {
        Scanner {
            kinds: Kinds::of(kinds),
            invalid,
        }
    }

    /// The features of `data`, whose first byte is at `base` in the image, that start in
    /// `data[lead..lead + owned]`: bytes before `lead` are only context (a token that begins
    /// there is not cut in two), bytes after the owned range let a hit near its end finish.
    pub fn scan(&self, data: &[u8], base: u64, lead: usize, owned: usize) -> Vec<Hit> {
        let from = lead.min(data.len());
        let to = lead.saturating_add(owned).min(data.len());
        let mut hits = Vec::new();
        let mut found = Vec::new();
        let mut decoded = Vec::new();
        let (mut ascii, mut utf16) = (Vec::new(), Vec::new());
        runs(data, |s, e| ascii.push((s, e, 1)), |s, e| utf16.push((s, e, 2)));
        for (s, e, step) in ascii.into_iter().chain(utf16) {
            if e <= from || s >= to {
                continue;
            }
            let text = if step == 1 {
                &data[s..e]
            } else {
                decode_utf16(&data[s..e], &mut decoded);
                &decoded[..]
            };
            extract(text, self.kinds, &mut found);
            for f in found.drain(..) {
                let start = s + f.start * step;
                let end = s + f.end * step;
                if start < from || start >= to || !(f.valid || self.invalid) {
                    continue;
                }
                hits.push(Hit {
                    kind: f.kind,
                    offset: base + start as u64,
                    length: (end - start) as u64,
                    value: f.value,
                    valid: f.valid,
                    utf16: step == 2,
                    context: escape(&data[start.saturating_sub(CONTEXT)..(end + CONTEXT).min(data.len())]),
                });
            }
        }
        hits.sort_by_key(|h| (h.offset, h.kind));
        hits
    }
}

/// Bytes as bulk_extractor writes context: printable ASCII as is, anything else and `\` as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02X}"));
        }
    }
    s
}
