//! Picture bytes to RGB rows: JPEG, PNG, GIF, BMP, WebP and TIFF through the `image` crate,
//! first frame or page only, pixels as stored (no colour management, no EXIF rotation).
//!
//! Bounded and safe on evidence: the dimensions are read from the header and checked against a
//! pixel limit before any pixel buffer is allocated; a JPEG whose data stops before its
//! end-of-image marker, or a WebP shorter than its RIFF header says, is refused as truncated
//! (their decoders would fill in the missing part); every decoder failure, and a decoder panic
//! should one happen, comes back as an error. A PNG or GIF cut after its last pixel data (only
//! the closing IEND chunk or trailer byte missing) is whole as a picture and is hashed.
//!
//! Conversion to RGB8, chosen to equal Pillow's `convert("RGB")` wherever Pillow is sensible:
//! alpha is dropped (not composited), grey is replicated to the three channels, 16-bit samples
//! keep their high byte (as Pillow does for 16-bit colour; for 16-bit grey Pillow clips values
//! over 255 to white instead, which this module does not copy), float samples are clamped to
//! 0..=1 and scaled to 0..=255, rounded.

use super::{PerceptualError, RgbRows};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Pixel limit used when the caller names none: 100 megapixels (300 MB as RGB).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// The most bytes a decoded pixel can take (RGBA, 32-bit float samples).
const MAX_BYTES_PER_PIXEL: u64 = 16;

/// A decoded picture, read as RGB rows.
pub struct DecodedImage {
    img: DynamicImage,
    format: ImageFormat,
}

impl DecodedImage {
    /// The container format the bytes were decoded as.
    pub fn format_name(&self) -> &'static str {
        format_name(self.format)
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Gif => "GIF",
        ImageFormat::Bmp => "BMP",
        ImageFormat::WebP => "WebP",
        ImageFormat::Tiff => "TIFF",
        other => other.extensions_str().first().copied().unwrap_or("unknown"),
    }
}

/// Decodes the first frame of `data`, refusing pictures of more than `max_pixels` pixels.
pub fn decode(data: &[u8], max_pixels: u64) -> Result<DecodedImage, PerceptualError> {
    let format = sniff(data)?;
    match format {
        ImageFormat::Jpeg => jpeg_reaches_end(data)?,
        ImageFormat::WebP => riff_is_whole(data)?,
        _ => {}
    }
    match catch_unwind(AssertUnwindSafe(|| decode_as(data, format, max_pixels))) {
        Ok(result) => result,
        Err(_) => Err(PerceptualError::Corrupt(format!(
            "the {} decoder failed on malformed data",
            format_name(format)
        ))),
    }
}

/// The format named by the file's first bytes, if it is one this module decodes.
fn sniff(data: &[u8]) -> Result<ImageFormat, PerceptualError> {
    match image::guess_format(data) {
        Ok(
            f @ (ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::Gif
            | ImageFormat::Bmp
            | ImageFormat::WebP
            | ImageFormat::Tiff),
        ) => Ok(f),
        Ok(other) => Err(PerceptualError::Unsupported(format!(
            "{} (only JPEG, PNG, GIF, BMP, WebP and TIFF are hashed)",
            format_name(other)
        ))),
        Err(_) if data.is_empty() => Err(PerceptualError::Unsupported("empty input".into())),
        Err(_) => {
            let head: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
            Err(PerceptualError::Unsupported(format!(
                "not a JPEG, PNG, GIF, BMP, WebP or TIFF file (starts with {})",
                head.join(" ")
            )))
        }
    }
}

fn decode_as(data: &[u8], format: ImageFormat, max_pixels: u64) -> Result<DecodedImage, PerceptualError> {
    let name = format_name(format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(MAX_BYTES_PER_PIXEL).max(64 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    reader.limits(limits.clone());
    let decoder = reader.into_decoder().map_err(|e| classify(name, e))?;
    let (w, h) = decoder.dimensions();
    let (w, h) = (u64::from(w), u64::from(h));
    if w * h > max_pixels {
        return Err(PerceptualError::TooLarge {
            width: w,
            height: h,
            max_pixels,
        });
    }
    if w == 0 || h == 0 {
        return Err(PerceptualError::Corrupt(format!(
            "{name} header gives a {w}x{h} picture"
        )));
    }
    if decoder.total_bytes() > limits.max_alloc.unwrap_or(u64::MAX) {
        return Err(PerceptualError::TooLarge {
            width: w,
            height: h,
            max_pixels,
        });
    }
    let img = DynamicImage::from_decoder(decoder).map_err(|e| classify(name, e))?;
    let img = match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_)
        | DynamicImage::ImageRgb32F(_)
        | DynamicImage::ImageRgba32F(_) => img,
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    Ok(DecodedImage { img, format })
}

/// A decoder error as one of ours: running out of data is "truncated", limits are "too large".
fn classify(name: &str, e: ImageError) -> PerceptualError {
    match e {
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PerceptualError::Truncated(format!("{name} data ends early"))
        }
        ImageError::Limits(l) => PerceptualError::TooMuchMemory(format!("{name}: {l}")),
        ImageError::Unsupported(u) => PerceptualError::Unsupported(format!("{name}: {u}")),
        other => {
            let msg = other.to_string();
            let lower = msg.to_ascii_lowercase();
            let ran_out = [
                "eof",
                "end of",
                "unexpected end",
                "truncat",
                "not enough",
                "no more data",
            ]
            .iter()
            .any(|k| lower.contains(k));
            let unsupported = lower.contains("not supported") || lower.contains("unsupported");
            if ran_out {
                PerceptualError::Truncated(format!("{name}: {msg}"))
            } else if unsupported {
                PerceptualError::Unsupported(format!("{name}: {msg}"))
            } else {
                PerceptualError::Corrupt(format!("{name}: {msg}"))
            }
        }
    }
}

/// Walks a JPEG's segments and entropy-coded data to its end-of-image marker. Decoders fill a
/// scan that stops early with grey and report success; a hash of that is a hash of a different
/// picture, so a JPEG that ends early is refused as truncated.
fn jpeg_reaches_end(data: &[u8]) -> Result<(), PerceptualError> {
    let ends = || PerceptualError::Truncated("JPEG data ends before its end-of-image marker".into());
    let mut pos = 2; // after SOI
    loop {
        // Next marker: skip anything up to an 0xFF, then fill bytes.
        let ff = memchr::memchr(0xFF, data.get(pos..).ok_or_else(ends)?).ok_or_else(ends)?;
        pos += ff;
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *data.get(pos).ok_or_else(ends)?;
        pos += 1;
        match marker {
            0xD9 => return Ok(()),
            0x00 | 0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let hi = *data.get(pos).ok_or_else(ends)? as usize;
        let lo = *data.get(pos + 1).ok_or_else(ends)? as usize;
        let len = (hi << 8) | lo;
        if len < 2 {
            return Err(PerceptualError::Corrupt(format!(
                "JPEG segment {marker:02X} at offset {} has length {len}",
                pos - 2
            )));
        }
        pos += len;
        if pos > data.len() {
            return Err(ends());
        }
        if marker == 0xDA {
            // Entropy-coded data runs to the next 0xFF that is not stuffing (FF 00) or a restart.
            loop {
                let ff = memchr::memchr(0xFF, data.get(pos..).ok_or_else(ends)?).ok_or_else(ends)?;
                pos += ff;
                match data.get(pos + 1) {
                    None => return Err(ends()),
                    Some(0x00) | Some(0xD0..=0xD7) => pos += 2,
                    Some(0xFF) => pos += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

/// A WebP's RIFF header gives the file's length; the lossy decoder fills a frame cut short
/// without complaint, so a file shorter than its header says is refused as truncated.
fn riff_is_whole(data: &[u8]) -> Result<(), PerceptualError> {
    let size = data
        .get(4..8)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| PerceptualError::Truncated("WebP data ends inside its header".into()))?;
    if data.len() < size.saturating_add(8) {
        return Err(PerceptualError::Truncated(format!(
            "WebP data is {} bytes, its header says {}",
            data.len(),
            size.saturating_add(8)
        )));
    }
    Ok(())
}

impl RgbRows for DecodedImage {
    fn width(&self) -> usize {
        self.img.width() as usize
    }

    fn height(&self) -> usize {
        self.img.height() as usize
    }

    fn row<'a>(&'a self, y: usize, scratch: &'a mut [u8]) -> &'a [u8] {
        let w = self.width();
        let out = &mut scratch[..w * 3];
        match &self.img {
            DynamicImage::ImageRgb8(b) => return &b.as_raw()[y * w * 3..(y + 1) * w * 3],
            DynamicImage::ImageRgba8(b) => {
                for (o, p) in out
                    .chunks_exact_mut(3)
                    .zip(b.as_raw()[y * w * 4..].chunks_exact(4))
                {
                    o.copy_from_slice(&p[..3]);
                }
            }
            DynamicImage::ImageLuma8(b) => grey(out, b.as_raw()[y * w..].iter().copied(), 1),
            DynamicImage::ImageLumaA8(b) => grey(out, b.as_raw()[y * w * 2..].iter().copied(), 2),
            DynamicImage::ImageLuma16(b) => grey(out, b.as_raw()[y * w..].iter().map(|&v| (v >> 8) as u8), 1),
            DynamicImage::ImageLumaA16(b) => {
                grey(out, b.as_raw()[y * w * 2..].iter().map(|&v| (v >> 8) as u8), 2)
            }
            DynamicImage::ImageRgb16(b) => {
                colour(out, b.as_raw()[y * w * 3..].iter().map(|&v| (v >> 8) as u8), 3)
            }
            DynamicImage::ImageRgba16(b) => {
                colour(out, b.as_raw()[y * w * 4..].iter().map(|&v| (v >> 8) as u8), 4)
            }
            DynamicImage::ImageRgb32F(b) => colour(out, b.as_raw()[y * w * 3..].iter().map(|&v| unit(v)), 3),
            DynamicImage::ImageRgba32F(b) => colour(out, b.as_raw()[y * w * 4..].iter().map(|&v| unit(v)), 4),
            // decode_as converts every other layout to RGB8 up front.
            _ => out.fill(0),
        }
        out
    }
}

/// Grey samples (every `step`-th value, the rest alpha) replicated to RGB.
fn grey(out: &mut [u8], samples: impl Iterator<Item = u8>, step: usize) {
    for (o, v) in out.chunks_exact_mut(3).zip(samples.step_by(step)) {
        o.fill(v);
    }
}

/// The first three of every `channels` samples.
fn colour(out: &mut [u8], mut samples: impl Iterator<Item = u8>, channels: usize) {
    for o in out.chunks_exact_mut(3) {
        for (k, v) in (0..channels).zip(samples.by_ref()) {
            if k < 3 {
                o[k] = v;
            }
        }
    }
}

/// A float sample in 0..=1 to 0..=255.
fn unit(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_rgb(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, (x ^ y) as u8]));
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn png_round_trip_keeps_pixels() {
        let bytes = png_rgb(7, 5);
        let d = decode(&bytes, DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!((d.width(), d.height(), d.format_name()), (7, 5, "PNG"));
        let mut scratch = vec![0u8; 21];
        let row = d.row(3, &mut scratch);
        assert_eq!(&row[..6], &[0, 3, 3, 1, 3, 2]);
    }

    #[test]
    fn pixel_limit_is_checked_before_decoding() {
        let bytes = png_rgb(20, 10);
        let e = decode(&bytes, 199).err().unwrap();
        assert_eq!(
            e.to_string(),
            "image too large: 20x10 pixels, the limit is 199 pixels"
        );
        assert!(decode(&bytes, 200).is_ok());
    }

    #[test]
    fn truncated_and_corrupt_inputs_are_errors() {
        let bytes = png_rgb(40, 40);
        for cut in [8, 20, 33, 60, bytes.len() / 2, bytes.len() - 13] {
            let e = decode(&bytes[..cut], DEFAULT_MAX_PIXELS).err().unwrap();
            assert!(
                matches!(e, PerceptualError::Truncated(_) | PerceptualError::Corrupt(_)),
                "cut {cut}: {e}"
            );
        }
        let mut flipped = bytes.clone();
        let at = flipped.len() / 2;
        flipped[at] ^= 0x55; // inside IDAT: CRC no longer matches
        assert!(decode(&flipped, DEFAULT_MAX_PIXELS).is_err());
        let e = decode(b"hello world", DEFAULT_MAX_PIXELS).err().unwrap();
        assert_eq!(
            e.to_string(),
            "unsupported image format: not a JPEG, PNG, GIF, BMP, WebP or TIFF file (starts with 68 65 6c 6c 6f 20 77 6f)"
        );
        assert!(matches!(decode(b"", 10), Err(PerceptualError::Unsupported(_))));
    }

    #[test]
    fn jpeg_walk_needs_the_end_marker() {
        // SOI, a comment, SOS with a 1-component header, entropy data with stuffing and a
        // restart marker, EOI.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x04, b'h', b'i'];
        j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0]);
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        let body = j.len();
        j.extend_from_slice(&[0xFF, 0xD9]);
        assert!(jpeg_reaches_end(&j).is_ok());
        for cut in 3..j.len() - 1 {
            assert!(
                matches!(jpeg_reaches_end(&j[..cut]), Err(PerceptualError::Truncated(_))),
                "cut {cut}"
            );
        }
        // An EOI-looking pair inside the comment does not end the file.
        let mut k = j.clone();
        k[6] = 0xFF;
        k[7] = 0xD9;
        assert!(matches!(
            jpeg_reaches_end(&k[..body]),
            Err(PerceptualError::Truncated(_))
        ));
    }
}
