//! BMP: the 14-byte file header ("BM", file size, two reserved words that are zero, the
//! offset of the pixels) and a DIB header of a known size (12, 40, 52, 56, 64, 108 or
//! 124 bytes) whose fields must agree with each other and with the file size.
//!
//! "BM" turns up every 64 KiB of random data, so every field is checked: one plane, a
//! known depth and compression that suit each other, pixels after the headers and
//! inside the file, and for uncompressed bitmaps the rows (padded to four bytes) times
//! the height must fit between the pixel offset and the declared end. Run-length
//! bitmaps are walked to their end-of-bitmap code (damaged when the codes reach the
//! declared end without one). The file is as long as it says.

use super::{le_u16, le_u32, ran_out, Found, Probe};

const FILE_HEADER: usize = 14;

/// Largest width or height believed (far beyond any real bitmap within the size cap).
const MAX_DIM: u64 = 1 << 20;

const BI_RGB: usize = 0;
const BI_RLE8: usize = 1;
const BI_RLE4: usize = 2;
const BI_BITFIELDS: usize = 3;
const BI_JPEG: usize = 4;
const BI_PNG: usize = 5;
const BI_ALPHABITFIELDS: usize = 6;

/// The DIB header fields that matter here, whatever the header's version.
struct Dib {
    size: usize,
    width: u64,
    height: u64,
    top_down: bool,
    planes: usize,
    bpp: usize,
    compression: usize,
    image_size: usize,
    colours: usize,
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let (data, at_eof) = if data.len() > max_len {
        (&data[..max_len], false)
    } else {
        (data, at_eof)
    };
    let (Some(file_size), Some(reserved), Some(offset), Some(dib_size)) = (
        le_u32(data, 2),
        le_u32(data, 6),
        le_u32(data, 10),
        le_u32(data, FILE_HEADER),
    ) else {
        return ran_out(data, at_eof, max_len, 0);
    };
    if reserved != 0 || !matches!(dib_size, 12 | 40 | 52 | 56 | 64 | 108 | 124) || file_size > max_len {
        return Probe::Invalid;
    }
    let Some(dib) = read_dib(data, dib_size) else {
        return ran_out(data, at_eof, max_len, 0);
    };
    let Some(pixels) = check(&dib, file_size, offset) else {
        return Probe::Invalid;
    };
    let mut confidence = 70;
    let mut damaged = false;
    match pixels {
        Pixels::Raw(bytes) => {
            // Uncompressed: the pixels end where the file does (give or take the few
            // bytes of padding some writers add, or a V5 colour profile after them).
            let end = offset + bytes;
            if file_size - end <= 4 || profile_end(data, &dib) == Some(file_size) {
                confidence = 90;
            }
            if dib.image_size != 0 && dib.image_size != bytes {
                confidence -= 20;
            }
        }
        Pixels::Rle { bytes_per_pixel_pair } => {
            // Walk the run-length codes to the end-of-bitmap code inside the file.
            match rle_end(data, offset, file_size, bytes_per_pixel_pair) {
                Rle::End => confidence = 90,
                Rle::NeedMore if data.len() < file_size => {
                    return needs_rest(data, at_eof, max_len, file_size, offset);
                }
                // The codes run to the declared end without ending the bitmap.
                Rle::NeedMore | Rle::Bad => damaged = true,
            }
        }
        Pixels::Embedded => {}
    }
    if data.len() < file_size {
        return needs_rest(data, at_eof, max_len, file_size, offset);
    }
    Probe::Found(if damaged {
        Found::damaged(file_size, 50)
    } else {
        Found::complete(file_size, confidence)
    })
}

/// The headers are valid but the data ends before the declared size.
fn needs_rest(data: &[u8], at_eof: bool, max_len: usize, file_size: usize, offset: usize) -> Probe {
    if at_eof && data.len() >= offset {
        let missing = (file_size - data.len()) as u64;
        Probe::Found(Found::truncated(data.len(), Some(missing), 50))
    } else {
        ran_out(data, at_eof, max_len, 0)
    }
}

fn read_dib(data: &[u8], size: usize) -> Option<Dib> {
    let d = data.get(FILE_HEADER..FILE_HEADER + size)?;
    if size == 12 {
        // BITMAPCOREHEADER: 16-bit unsigned dimensions, 3-byte palette entries.
        return Some(Dib {
            size,
            width: le_u16(d, 4)? as u64,
            height: le_u16(d, 6)? as u64,
            top_down: false,
            planes: le_u16(d, 8)?,
            bpp: le_u16(d, 10)?,
            compression: BI_RGB,
            image_size: 0,
            colours: 0,
        });
    }
    let width = le_u32(d, 4)? as u32 as i32;
    let height = le_u32(d, 8)? as u32 as i32;
    if width <= 0 || height == 0 || height == i32::MIN {
        return None;
    }
    Some(Dib {
        size,
        width: width as u64,
        height: u64::from(height.unsigned_abs()),
        top_down: height < 0,
        planes: le_u16(d, 12)?,
        bpp: le_u16(d, 14)?,
        compression: le_u32(d, 16)?,
        image_size: le_u32(d, 20)?,
        colours: le_u32(d, 32)?,
    })
}

enum Pixels {
    /// Uncompressed rows of this many bytes in all.
    Raw(usize),
    /// Run-length codes; absolute runs hold this many bytes per two pixels.
    Rle { bytes_per_pixel_pair: usize },
    /// A JPEG or PNG stream.
    Embedded,
}

/// Whether the headers agree with each other and the file size; what the pixels are.
fn check(dib: &Dib, file_size: usize, offset: usize) -> Option<Pixels> {
    let os2 = dib.size == 64;
    let width = dib.width;
    let height = dib.height;
    if dib.planes != 1 || width == 0 || height == 0 || width > MAX_DIM || height > MAX_DIM {
        return None;
    }
    let bpp = dib.bpp;
    if dib.size == 12 && !matches!(bpp, 1 | 4 | 8 | 24) {
        return None;
    }
    let pixels = match (dib.compression, bpp) {
        (BI_RGB, 1 | 4 | 8 | 16 | 24 | 32) => raw(width, height, bpp)?,
        (BI_BITFIELDS | BI_ALPHABITFIELDS, 16 | 32) if dib.size > 12 && !os2 => raw(width, height, bpp)?,
        (BI_RLE8, 8) => Pixels::Rle {
            bytes_per_pixel_pair: 2,
        },
        (BI_RLE4, 4) => Pixels::Rle {
            bytes_per_pixel_pair: 1,
        },
        // OS/2 2.x: RLE24.
        (BI_JPEG, 24) if os2 => Pixels::Rle {
            bytes_per_pixel_pair: 6,
        },
        (BI_JPEG | BI_PNG, 0) if !os2 => Pixels::Embedded,
        _ => return None,
    };
    // Only uncompressed bitmaps may be stored top-down.
    if dib.top_down && !matches!(pixels, Pixels::Raw(_)) {
        return None;
    }
    // Bit masks follow a 40-byte header; a palette follows the header and masks.
    let masks = match (dib.size, dib.compression) {
        (40, BI_BITFIELDS) => 12,
        (40, BI_ALPHABITFIELDS) => 16,
        _ => 0,
    };
    // The palette (for depths up to 8 bits) lies between the headers and the pixels.
    let entry = if dib.size == 12 { 3 } else { 4 };
    let palette = if (1..=8).contains(&bpp) {
        if dib.colours > 1 << bpp {
            return None;
        }
        if dib.colours == 0 {
            1 << bpp
        } else {
            dib.colours
        }
    } else {
        0
    };
    let headers = FILE_HEADER + dib.size + masks + palette * entry;
    if offset < headers || offset >= file_size {
        return None;
    }
    match pixels {
        Pixels::Raw(bytes) if offset.checked_add(bytes)? > file_size => None,
        Pixels::Embedded if dib.image_size == 0 || offset + dib.image_size > file_size => None,
        _ => Some(pixels),
    }
}

/// Uncompressed pixel bytes: rows padded to four bytes.
fn raw(width: u64, height: u64, bpp: usize) -> Option<Pixels> {
    let row = (width * bpp as u64).div_ceil(32) * 4;
    usize::try_from(row * height).ok().map(Pixels::Raw)
}

/// Where a V5 header's colour profile ends, when it has one.
fn profile_end(data: &[u8], dib: &Dib) -> Option<usize> {
    if dib.size != 124 {
        return None;
    }
    let at = le_u32(data, FILE_HEADER + 112)?;
    let size = le_u32(data, FILE_HEADER + 116)?;
    if size == 0 {
        return None;
    }
    (FILE_HEADER + at).checked_add(size)
}

enum Rle {
    /// An end-of-bitmap code inside the file.
    End,
    /// The codes run past the data in hand.
    NeedMore,
    /// The codes run past the file's end without an end-of-bitmap code.
    Bad,
}

fn rle_end(data: &[u8], mut pos: usize, file_size: usize, bytes_per_pixel_pair: usize) -> Rle {
    loop {
        if pos + 2 > file_size {
            return Rle::Bad;
        }
        let (Some(&count), Some(&value)) = (data.get(pos), data.get(pos + 1)) else {
            return Rle::NeedMore;
        };
        pos += 2;
        match (count, value) {
            (0, 0) => {}               // end of line
            (0, 1) => return Rle::End, // end of bitmap
            (0, 2) => pos += 2,        // delta
            (0, n) => {
                // Absolute run of n pixels, padded to a 16-bit boundary.
                let bytes = (n as usize * bytes_per_pixel_pair).div_ceil(2);
                pos += bytes + (bytes & 1);
            }
            _ => {
                // Encoded run: RLE24 stores one three-byte pixel, others one byte.
                if bytes_per_pixel_pair == 6 {
                    pos += 2;
                }
            }
        }
    }
}
