//! Perceptual hashes for Python: PDQ and pHash of image file bytes or raw RGB pixels, GIL released.

use super::buffer::Bytes;
use super::errors::CoreError;
use crate::perceptual::{self, PerceptualError, RgbBuffer, DEFAULT_MAX_PIXELS};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// "pdq_hash(data): truncated image: PNG data ends early".
fn failed(func: &str, e: PerceptualError) -> PyErr {
    CoreError::new_err(format!("{func}: {e}"))
}

/// PDQ of an image file's bytes (JPEG, PNG, GIF, BMP, WebP, TIFF; first frame):
/// (64 hex digits, quality 0..100). Pictures over `max_pixels` pixels are refused.
#[pyfunction]
#[pyo3(signature = (data, *, max_pixels = DEFAULT_MAX_PIXELS))]
pub fn pdq_hash(py: Python<'_>, data: &Bound<'_, PyAny>, max_pixels: u64) -> PyResult<(String, u32)> {
    let bytes = Bytes::get(data, "pdq_hash(data)")?;
    let h = py
        .detach(|| perceptual::pdq_hash_bytes(bytes.as_slice(), max_pixels))
        .map_err(|e| failed("pdq_hash(data)", e))?;
    Ok((h.to_hex(), h.quality))
}

/// PDQ of raw RGB8 pixels (row-major, `3 * width * height` bytes), equal bit for bit to
/// `pdqhash.compute` on the same pixels.
#[pyfunction]
pub fn pdq_hash_rgb(
    py: Python<'_>,
    rgb: &Bound<'_, PyAny>,
    width: usize,
    height: usize,
) -> PyResult<(String, u32)> {
    let bytes = Bytes::get(rgb, "pdq_hash_rgb(rgb)")?;
    let h = py
        .detach(|| RgbBuffer::new(bytes.as_slice(), width, height).map(|b| perceptual::pdq_hash(&b)))
        .map_err(|e| failed("pdq_hash_rgb(rgb, width, height)", e))?;
    Ok((h.to_hex(), h.quality))
}

/// Both hashes of an image file's bytes from a single decode: (PDQ hex, PDQ quality, pHash hex).
#[pyfunction]
#[pyo3(signature = (data, *, max_pixels = DEFAULT_MAX_PIXELS))]
pub fn image_hashes(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    max_pixels: u64,
) -> PyResult<(String, u32, String)> {
    let bytes = Bytes::get(data, "image_hashes(data)")?;
    let (pdq, ph) = py
        .detach(|| perceptual::hashes_bytes(bytes.as_slice(), max_pixels))
        .map_err(|e| failed("image_hashes(data)", e))?;
    Ok((pdq.to_hex(), pdq.quality, ph.to_hex()))
}

/// 64-bit pHash of an image file's bytes as 16 hex digits (imagehash's `phash` definition).
#[pyfunction]
#[pyo3(signature = (data, *, max_pixels = DEFAULT_MAX_PIXELS))]
pub fn phash(py: Python<'_>, data: &Bound<'_, PyAny>, max_pixels: u64) -> PyResult<String> {
    let bytes = Bytes::get(data, "phash(data)")?;
    let h = py
        .detach(|| perceptual::phash_bytes(bytes.as_slice(), max_pixels))
        .map_err(|e| failed("phash(data)", e))?;
    Ok(h.to_hex())
}

/// pHash of raw RGB8 pixels (row-major, `3 * width * height` bytes).
#[pyfunction]
pub fn phash_rgb(py: Python<'_>, rgb: &Bound<'_, PyAny>, width: usize, height: usize) -> PyResult<String> {
    let bytes = Bytes::get(rgb, "phash_rgb(rgb)")?;
    let h = py
        .detach(|| RgbBuffer::new(bytes.as_slice(), width, height).map(|b| perceptual::phash(&b)))
        .map_err(|e| failed("phash_rgb(rgb, width, height)", e))?;
    Ok(h.to_hex())
}

/// An image file's first frame as (RGB8 bytes, width, height): the pixels `pdq_hash` and
/// `phash` hash, for checks and for hashing elsewhere (a GPU batch).
#[pyfunction]
#[pyo3(signature = (data, *, max_pixels = DEFAULT_MAX_PIXELS))]
pub fn decode_rgb(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    max_pixels: u64,
) -> PyResult<(Py<PyBytes>, usize, usize)> {
    let bytes = Bytes::get(data, "decode_rgb(data)")?;
    let (rgb, w, h) = py
        .detach(|| perceptual::decode_rgb(bytes.as_slice(), max_pixels))
        .map_err(|e| failed("decode_rgb(data)", e))?;
    Ok((PyBytes::new(py, &rgb).unbind(), w, h))
}

/// Whether a PDQ quality is high enough to match on: the PDQ authors find hashes of quality
/// under 50 (flat, tiny or one-colour pictures) unreliable.
#[pyfunction]
pub fn pdq_quality_reliable(quality: u32) -> bool {
    perceptual::pdq_quality_is_reliable(quality)
}

/// Hamming distance of two hex hashes of one length (two PDQs, or two pHashes).
#[pyfunction]
pub fn hash_distance(a: &str, b: &str) -> PyResult<u32> {
    perceptual::hex_distance(a, b).ok_or_else(|| {
        CoreError::new_err(format!(
            "hash_distance(a, b): expected two hex strings of one length, got {} and {} characters",
            a.len(),
            b.len()
        ))
    })
}
