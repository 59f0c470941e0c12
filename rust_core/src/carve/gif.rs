//! GIF (87a/89a): header and logical screen descriptor, the global colour table, then
//! blocks up to the trailer (0x3B): image descriptors (local colour table, LZW minimum
//! code size, data sub-blocks) and extensions (0x21, a label, sub-blocks).
//!
//! Each image's LZW code stream is decoded as it is walked, keeping only the length of
//! every dictionary entry (never the pixels): a code that names no entry, or a stream
//! that does not yield exactly width x height pixels, is a damaged image. This is also
//! what keeps a truncated GIF followed by unrelated bytes from passing as whole when
//! those bytes happen to look like sub-blocks and a trailer.

use super::{le_u16, ran_out, Found, Probe};

/// Signature and logical screen descriptor.
const HEADER: usize = 13;

/// Largest LZW code (12-bit codes).
const TABLE: usize = 4096;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    // Nothing past the cap belongs to this file.
    let (data, at_eof) = if data.len() > max_len {
        (&data[..max_len], false)
    } else {
        (data, at_eof)
    };
    let Some(&packed) = data.get(10) else {
        return ran_out(data, at_eof, max_len, 0);
    };
    let mut w = Walk::default();
    let mut pos = HEADER + colour_table(packed);
    loop {
        let Some(&intro) = data.get(pos) else {
            return w.ran_out(data, at_eof, max_len);
        };
        let block_start = pos;
        match intro {
            0x3B => {
                let len = pos + 1;
                return Probe::Found(if w.bad_images > 0 {
                    Found::damaged(len, 60)
                } else if w.images > 0 {
                    Found::complete(len, 95)
                } else if plain_screen(data) {
                    // A screen and a trailer, no image: little to confirm it.
                    Found::complete(len, 50)
                } else {
                    return Probe::Invalid;
                });
            }
            0x2C => {
                let (Some(width), Some(height), Some(&local)) =
                    (le_u16(data, pos + 5), le_u16(data, pos + 7), data.get(pos + 9))
                else {
                    return w.ran_out(data, at_eof, max_len);
                };
                let code_at = pos + 10 + colour_table(local);
                let Some(&min_code) = data.get(code_at) else {
                    return w.ran_out(data, at_eof, max_len);
                };
                if !(2..=12).contains(&min_code) {
                    return w.broken(pos);
                }
                let mut lzw = Lzw::new(min_code, width as u64 * height as u64);
                let Some(end) = sub_blocks(data, code_at + 1, Some(&mut lzw)) else {
                    // Cut inside this image: what came before it is what is sound, unless
                    // the codes so far are sound too.
                    if lzw.failed() {
                        w.suspect.get_or_insert(pos);
                    }
                    return w.ran_out(data, at_eof, max_len);
                };
                w.images += 1;
                if lzw.finished() {
                    w.good += 1;
                    w.suspect = None;
                    w.last_unsure = None;
                } else {
                    w.bad_images += 1;
                    w.suspect.get_or_insert(pos);
                }
                pos = end;
            }
            0x21 => {
                let Some(&label) = data.get(pos + 1) else {
                    return w.ran_out(data, at_eof, max_len);
                };
                let Some(first) = data.get(pos + 2).map(|&b| b as usize) else {
                    return w.ran_out(data, at_eof, max_len);
                };
                let Some(fixed) = data.get(pos + 3..pos + 3 + first) else {
                    return w.ran_out(data, at_eof, max_len);
                };
                // The defined extensions' first sub-block: graphic control is exactly
                // one block of 4 bytes; an application names itself in 11 printable
                // bytes; plain text starts with a 12-byte grid; a comment is free.
                let sound = match label {
                    0xF9 => first == 4 && data.get(pos + 7) == Some(&0),
                    0xFF => first == 11 && fixed.iter().all(|b| (0x20..0x7F).contains(b)),
                    0x01 => first == 12,
                    0xFE => true,
                    _ => false,
                };
                if !sound {
                    return w.broken(pos);
                }
                // A comment's or plain text's bytes are anything: they confirm nothing.
                let checked = matches!(label, 0xF9 | 0xFF);
                if !checked {
                    w.suspect.get_or_insert(pos);
                }
                let Some(end) = sub_blocks(data, pos + 2, None) else {
                    return w.ran_out(data, at_eof, max_len);
                };
                if checked {
                    w.good += 1;
                    w.suspect = None;
                }
                w.last_unsure = Some(block_start);
                pos = end;
            }
            _ => return w.broken(pos),
        }
    }
}

/// What the walk has seen.
#[derive(Default)]
struct Walk {
    images: usize,
    bad_images: usize,
    /// Blocks whose content was checked: images that decode, fixed-form extensions.
    good: usize,
    /// Where the first block since the last checked one starts that was not checked (a
    /// comment) or failed its check (an image that does not decode).
    suspect: Option<usize>,
    /// Where the last block starts if it was an extension: a cut inside one can pass
    /// its few checks by chance.
    last_unsure: Option<usize>,
}

impl Walk {
    /// Where what follows the last good block stops being a GIF: a file cut inside a
    /// block runs on into bytes that do not decode (or, in a comment, cannot be told
    /// apart), so the sound part ends before the first block since that was not
    /// confirmed. With nothing checked, no GIF.
    fn broken(&self, pos: usize) -> Probe {
        if self.good > 0 {
            let len = self.suspect.unwrap_or(pos).min(self.last_unsure.unwrap_or(pos));
            Probe::Found(Found::truncated(len, None, 50))
        } else {
            Probe::Invalid
        }
    }

    fn ran_out(&self, data: &[u8], at_eof: bool, max_len: usize) -> Probe {
        match (ran_out(data, at_eof, max_len, self.good), self.suspect) {
            (Probe::Found(_), Some(bad)) => Probe::Found(Found::truncated(bad, None, 40)),
            (outcome, _) => outcome,
        }
    }
}

/// A logical screen descriptor as writers leave it when there is no image to show:
/// a size, background colour 0, no aspect ratio. Chance bytes after a signature that
/// reach a trailer without an image rarely look like this.
fn plain_screen(data: &[u8]) -> bool {
    matches!(
        (le_u16(data, 6), le_u16(data, 8), data.get(11), data.get(12)),
        (Some(w), Some(h), Some(0), Some(0)) if w > 0 && h > 0
    )
}

/// Bytes of the colour table announced by a packed field (global or local).
fn colour_table(packed: u8) -> usize {
    if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    }
}

/// Walk data sub-blocks from `pos` to the terminator; the position after it, or `None`
/// when the data ends first. Image data is fed to `lzw`.
fn sub_blocks(data: &[u8], mut pos: usize, mut lzw: Option<&mut Lzw>) -> Option<usize> {
    loop {
        let size = *data.get(pos)? as usize;
        if size == 0 {
            return Some(pos + 1);
        }
        let block = data.get(pos + 1..pos + 1 + size)?;
        if let Some(lzw) = lzw.as_deref_mut() {
            lzw.feed(block);
        }
        pos += 1 + size;
    }
}

/// A GIF LZW decoder that counts pixels instead of producing them.
struct Lzw {
    min_code: u8,
    width: u8,
    next: usize,
    prev: Option<usize>,
    /// Length in pixels of each dictionary entry.
    lens: [u32; TABLE],
    acc: u32,
    bits: u8,
    pixels: u64,
    /// Width x height of the image.
    expected: u64,
    ended: bool,
    /// Bytes after the one holding the end code.
    trailing: usize,
    bad: bool,
}

impl Lzw {
    fn new(min_code: u8, expected: u64) -> Lzw {
        // Codes are at most 12 bits: a minimum code size of 12 cannot be decoded.
        let bad = min_code > 11;
        let mut lzw = Lzw {
            min_code,
            width: min_code + 1,
            next: 0,
            prev: None,
            lens: [1; TABLE],
            acc: 0,
            bits: 0,
            pixels: 0,
            expected,
            ended: false,
            trailing: 0,
            bad,
        };
        lzw.clear();
        lzw
    }

    fn clear_code(&self) -> usize {
        1 << self.min_code
    }

    fn clear(&mut self) {
        self.width = self.min_code + 1;
        self.next = self.clear_code() + 2;
        self.prev = None;
    }

    fn feed(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            if self.ended {
                self.trailing += bytes.len() - i;
                return;
            }
            if self.bad {
                return;
            }
            self.acc |= u32::from(b) << self.bits;
            self.bits += 8;
            while self.bits >= self.width && !self.ended && !self.bad {
                let code = (self.acc & ((1 << self.width) - 1)) as usize;
                self.acc >>= self.width;
                self.bits -= self.width;
                self.code(code);
            }
        }
    }

    fn code(&mut self, code: usize) {
        let clear = self.clear_code();
        if code == clear {
            self.clear();
            return;
        }
        if code == clear + 1 {
            self.ended = true;
            return;
        }
        let len = match self.prev {
            None if code < clear => 1,
            None => {
                self.bad = true;
                return;
            }
            Some(prev) => {
                let grown = self.lens[prev] + 1;
                let len = if code < self.next {
                    self.lens[code]
                } else if code == self.next && self.next < TABLE {
                    grown
                } else {
                    self.bad = true;
                    return;
                };
                if self.next < TABLE {
                    self.lens[self.next] = grown;
                    self.next += 1;
                    if self.next == 1 << self.width && self.width < 12 {
                        self.width += 1;
                    }
                }
                len
            }
        };
        self.pixels += u64::from(len);
        // More pixels than the image has: not this image's codes.
        self.bad |= self.pixels > self.expected;
        self.prev = Some(code);
    }

    /// Whether the stream decoded cleanly to exactly the image's pixels, and ended there
    /// (encoders stop the data at the end code, or with one spare byte).
    fn finished(&self) -> bool {
        !self.failed() && self.pixels == self.expected
    }

    /// Whether the codes so far already show this is not the image's data.
    fn failed(&self) -> bool {
        self.bad || self.trailing > 1
    }
}
