//! PNG: signature, then chunks (length, type, data, CRC-32) up to IEND; every CRC checked.
//!
//! A chunk whose CRC does not match, but whose type is a known one and after which the
//! chunk chain goes on, is damaged data inside a whole file: the walk continues to IEND
//! and reports the file damaged at its full length. A chunk header that is not one (a
//! length over 2^31, a type that is not four letters, an unknown type with a bad CRC)
//! is where the file was cut or overwritten: truncated there. The file must also make
//! sense as a PNG (a valid IHDR, a palette for indexed colour, one run of IDAT chunks
//! starting with a zlib header); a file that is whole but fails these is damaged too.

use super::{be_u32, ran_out, Found, Probe};

const SIG_LEN: usize = 8;

/// Chunk types of the PNG specification and its registered extensions.
const KNOWN: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP",
    b"mDCV", b"cLLI", b"tEXt", b"zTXt", b"iTXt", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"eXIf", b"tIME",
    b"acTL", b"fcTL", b"fdAT", b"oFFs", b"pCAL", b"sCAL", b"sTER", b"dSIG", b"gIFg", b"gIFx", b"gIFt",
    b"fRAc",
];

#[derive(Default)]
struct Walk {
    chunks: usize,
    /// Chunks whose CRC did not match.
    bad_crc: usize,
    /// Where the last chunk starts, if its CRC did not match.
    last_bad: Option<usize>,
    header_ok: bool,
    indexed: bool,
    plte: bool,
    /// IDAT runs seen (more than one means IDAT chunks were split by others).
    idat_runs: usize,
    in_idat: bool,
    /// The first two bytes of the zlib stream, as they arrive.
    zlib: Vec<u8>,
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let (data, at_eof) = if data.len() > max_len {
        (&data[..max_len], false)
    } else {
        (data, at_eof)
    };
    let mut w = Walk::default();
    let mut pos = SIG_LEN;
    loop {
        let Some(len) = be_u32(data, pos) else {
            return w.ran_out(data, at_eof, max_len);
        };
        let Some(kind) = data.get(pos + 4..pos + 8) else {
            return w.ran_out(data, at_eof, max_len);
        };
        // A chunk that cannot end within the cap is not one this file can hold.
        if len > 0x7FFF_FFFF || pos + 12 + len > max_len || !kind.iter().all(u8::is_ascii_alphabetic) {
            return w.broken(pos);
        }
        if w.chunks == 0 && (kind != b"IHDR" || len != 13) {
            return Probe::Invalid;
        }
        let end = pos + 12 + len;
        let (Some(body), Some(crc)) = (data.get(pos + 4..pos + 8 + len), be_u32(data, pos + 8 + len)) else {
            return w.ran_out(data, at_eof, max_len);
        };
        if crc32fast::hash(body) as usize != crc {
            // Damage inside a chunk of a known type: go on if the chain does. An unknown
            // type with a bad CRC is more likely not a chunk at all.
            // IEND's CRC never varies: a bad one means the file ends before it.
            if kind == b"IEND" || !KNOWN.iter().any(|k| k[..] == *kind) {
                return w.broken(pos);
            }
            w.bad_crc += 1;
            w.last_bad = Some(pos);
        } else {
            w.last_bad = None;
        }
        w.chunks += 1;
        w.chunk(kind, &body[4..]);
        if kind == b"IEND" {
            return Probe::Found(w.finish(end));
        }
        pos = end;
    }
}

impl Walk {
    fn chunk(&mut self, kind: &[u8], body: &[u8]) {
        match kind {
            b"IHDR" if self.chunks == 1 => self.header(body),
            b"PLTE" => self.plte = true,
            b"IDAT" => {
                if !self.in_idat {
                    self.idat_runs += 1;
                }
                if self.zlib.len() < 2 {
                    self.zlib.extend(body.iter().take(2 - self.zlib.len()));
                }
            }
            _ => {}
        }
        self.in_idat = kind == b"IDAT";
    }

    fn header(&mut self, h: &[u8]) {
        let (Some(width), Some(height)) = (be_u32(h, 0), be_u32(h, 4)) else {
            return;
        };
        let (depth, colour, compression, filter, interlace) = (h[8], h[9], h[10], h[11], h[12]);
        let depth_ok = match colour {
            0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
            3 => matches!(depth, 1 | 2 | 4 | 8),
            2 | 4 | 6 => matches!(depth, 8 | 16),
            _ => false,
        };
        self.indexed = colour == 3;
        self.header_ok = width > 0
            && height > 0
            && width <= 0x7FFF_FFFF
            && height <= 0x7FFF_FFFF
            && depth_ok
            && compression == 0
            && filter == 0
            && interlace <= 1;
    }

    /// Whether the image data starts as a zlib stream (deflate, a valid check value, no
    /// preset dictionary).
    fn zlib_ok(&self) -> bool {
        match self.zlib[..] {
            [cmf, flg] => {
                cmf & 0x0F == 8
                    && cmf >> 4 <= 7
                    && flg & 0x20 == 0
                    && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
            }
            _ => false,
        }
    }

    /// At IEND: whole when every CRC matched and the parts a PNG needs are there.
    fn finish(&self, len: usize) -> Found {
        let sound = self.header_ok && self.idat_runs == 1 && self.zlib_ok() && (self.plte || !self.indexed);
        if self.bad_crc > 0 || !sound {
            Found::damaged(len, 60)
        } else {
            Found::complete(len, 95)
        }
    }

    /// A chunk header that is not one: after a valid IHDR, the PNG was cut there, or
    /// inside the chunk before if its CRC failed (a cut chunk runs on into whatever
    /// follows it and fails its CRC): only what comes before that chunk is sound.
    fn broken(&self, pos: usize) -> Probe {
        if self.chunks > 0 {
            Probe::Found(Found::truncated(self.last_bad.unwrap_or(pos), None, 60))
        } else {
            Probe::Invalid
        }
    }

    fn ran_out(&self, data: &[u8], at_eof: bool, max_len: usize) -> Probe {
        match (ran_out(data, at_eof, max_len, self.chunks), self.last_bad) {
            (Probe::Found(_), Some(bad)) => Probe::Found(Found::truncated(bad, None, 50)),
            (outcome, _) => outcome,
        }
    }
}
