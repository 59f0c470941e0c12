//! Quarry's hot path over bytes: multi-digest hashing and structure-validated carving.
//!
//! The core modules take `&[u8]` and know nothing of Python; the PyO3 face lives in
//! `python/` and is compiled only with the `python` feature (what maturin builds).

pub mod carve;
pub mod features;
pub mod hashing;
pub mod hashset;
#[doc(hidden)]
pub mod noise;
pub mod pdqindex;
pub mod perceptual;
pub mod similarity;

#[cfg(feature = "python")]
mod python;
