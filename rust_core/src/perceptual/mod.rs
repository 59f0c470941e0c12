//! Perceptual hashes of pictures: Meta's PDQ (256 bits and a quality score) and a 64-bit pHash.
//!
//! Cryptographic digests recognise a picture only byte for byte; a resized, re-encoded or
//! slightly cropped copy gets a new digest. Perceptual hashes stay within a few bits of the
//! original's, so pictures can be matched against lists of known images by Hamming distance.
//!
//! * [`pdq`]: PDQ, bit for bit equal to the reference `pdqhash` on the same RGB pixels.
//! * [`phash`]: DCT pHash, the definition of the `imagehash` Python package's `phash`.
//! * [`decode`]: JPEG, PNG, GIF, BMP, WebP and TIFF bytes to RGB rows, with a pixel limit and
//!   errors (never panics) for damaged input.
//!
//! Everything here works on pixel rows and knows nothing of Python.

pub mod decode;
pub mod pdq;
pub mod phash;

pub use decode::{decode, DecodedImage, DEFAULT_MAX_PIXELS};
pub use pdq::{pdq_hash, PdqHash};
pub use phash::{phash, PHash};

/// PDQ quality below which a hash is unreliable. The PDQ authors: images of quality under 50
/// (flat, tiny, mostly one colour) give hashes that match unrelated images; do not match on them.
pub const PDQ_MIN_RELIABLE_QUALITY: u32 = 50;

/// PDQ distance at or under which two hashes are taken as the same picture (the PDQ authors'
/// recommendation for 256-bit hashes).
pub const PDQ_MATCH_DISTANCE: u32 = 31;

/// Whether a PDQ hash with this quality is worth matching (quality >= 50).
pub fn pdq_quality_is_reliable(quality: u32) -> bool {
    quality >= PDQ_MIN_RELIABLE_QUALITY
}

/// Why a picture could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerceptualError {
    /// Not one of the supported formats (JPEG, PNG, GIF, BMP, WebP, TIFF); names what was seen.
    Unsupported(String),
    /// More pixels than the limit allows.
    TooLarge {
        width: u64,
        height: u64,
        max_pixels: u64,
    },
    /// Decoding would need more memory than the limit allows.
    TooMuchMemory(String),
    /// The file ends before the picture does.
    Truncated(String),
    /// The file is damaged or malformed.
    Corrupt(String),
    /// A raw pixel buffer whose length does not match its dimensions.
    BadBuffer(String),
}

impl std::fmt::Display for PerceptualError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PerceptualError::Unsupported(what) => write!(f, "unsupported image format: {what}"),
            PerceptualError::TooLarge {
                width,
                height,
                max_pixels,
            } => write!(
                f,
                "image too large: {width}x{height} pixels, the limit is {max_pixels} pixels"
            ),
            PerceptualError::TooMuchMemory(what) => {
                write!(
                    f,
                    "image too large: decoding needs more memory than allowed: {what}"
                )
            }
            PerceptualError::Truncated(what) => write!(f, "truncated image: {what}"),
            PerceptualError::Corrupt(what) => write!(f, "corrupt image: {what}"),
            PerceptualError::BadBuffer(what) => write!(f, "bad pixel buffer: {what}"),
        }
    }
}

impl std::error::Error for PerceptualError {}

/// Rows of 8-bit RGB pixels, top to bottom: what both hashes read.
pub trait RgbRows {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    /// Row `y` (`y < height`) as packed RGB, `3 * width` bytes; `scratch` (that long) may
    /// hold it when the source has to convert.
    fn row<'a>(&'a self, y: usize, scratch: &'a mut [u8]) -> &'a [u8];
}

/// A packed RGB8 buffer, row-major, no padding.
pub struct RgbBuffer<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
}

impl<'a> RgbBuffer<'a> {
    /// Checks that `data` holds exactly `width * height` RGB pixels.
    pub fn new(data: &'a [u8], width: usize, height: usize) -> Result<Self, PerceptualError> {
        let want = width
            .checked_mul(height)
            .and_then(|p| p.checked_mul(3))
            .ok_or_else(|| PerceptualError::BadBuffer(format!("{width}x{height} is too many pixels")))?;
        if data.len() != want {
            return Err(PerceptualError::BadBuffer(format!(
                "{} bytes for {width}x{height} RGB pixels, expected {want}",
                data.len()
            )));
        }
        Ok(RgbBuffer { data, width, height })
    }
}

impl RgbRows for RgbBuffer<'_> {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn row<'b>(&'b self, y: usize, _scratch: &'b mut [u8]) -> &'b [u8] {
        let n = self.width * 3;
        &self.data[y * n..(y + 1) * n]
    }
}

/// PDQ hash of an image file's bytes (first frame or page), at most `max_pixels` pixels.
pub fn pdq_hash_bytes(data: &[u8], max_pixels: u64) -> Result<PdqHash, PerceptualError> {
    let img = decode(data, max_pixels)?;
    Ok(pdq_hash(&img))
}

/// pHash of an image file's bytes (first frame or page), at most `max_pixels` pixels.
pub fn phash_bytes(data: &[u8], max_pixels: u64) -> Result<PHash, PerceptualError> {
    let img = decode(data, max_pixels)?;
    Ok(phash(&img))
}

/// PDQ and pHash of an image file's bytes from one decode (what the hashing step wants).
pub fn hashes_bytes(data: &[u8], max_pixels: u64) -> Result<(PdqHash, PHash), PerceptualError> {
    let img = decode(data, max_pixels)?;
    Ok((pdq_hash(&img), phash(&img)))
}

/// An image file's first frame as packed RGB8 (the pixels both hashes see), with its width and
/// height; at most `max_pixels` pixels.
pub fn decode_rgb(data: &[u8], max_pixels: u64) -> Result<(Vec<u8>, usize, usize), PerceptualError> {
    let img = decode(data, max_pixels)?;
    let (w, h) = (img.width(), img.height());
    let mut out = Vec::with_capacity(w * h * 3);
    let mut scratch = vec![0u8; w * 3];
    for y in 0..h {
        out.extend_from_slice(img.row(y, &mut scratch));
    }
    Ok((out, w, h))
}

/// Number of differing bits between two hex hashes of the same length (PDQ or pHash), or None
/// when either is not hex or the lengths differ.
pub fn hex_distance(a: &str, b: &str) -> Option<u32> {
    if a.len() != b.len() {
        return None;
    }
    let mut d = 0;
    for (x, y) in a.chars().zip(b.chars()) {
        d += (x.to_digit(16)? ^ y.to_digit(16)?).count_ones();
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_threshold() {
        assert!(!pdq_quality_is_reliable(0));
        assert!(!pdq_quality_is_reliable(49));
        assert!(pdq_quality_is_reliable(50));
        assert!(pdq_quality_is_reliable(100));
    }

    #[test]
    fn buffer_length_is_checked() {
        assert!(RgbBuffer::new(&[0; 12], 2, 2).is_ok());
        let e = RgbBuffer::new(&[0; 11], 2, 2).err().unwrap();
        assert_eq!(
            e.to_string(),
            "bad pixel buffer: 11 bytes for 2x2 RGB pixels, expected 12"
        );
        assert!(RgbBuffer::new(&[], usize::MAX, 3).is_err());
    }

    #[test]
    fn distance() {
        assert_eq!(hex_distance("00ff", "00fe"), Some(1));
        assert_eq!(hex_distance("ffff", "0000"), Some(16));
        assert_eq!(hex_distance("ff", "fff"), None);
        assert_eq!(hex_distance("zz", "00"), None);
    }
}
