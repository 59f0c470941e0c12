//! The Python face of the core (`rust_core._native`): declares the module, nothing else.

mod buffer;
mod carver;
mod errors;
mod features;
mod hasher;
mod hashset;
mod pdqindex;
mod perceptual;
mod similarity;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("CoreError", m.py().get_type::<errors::CoreError>())?;
    m.add_class::<hasher::Hasher>()?;
    m.add_class::<carver::Carver>()?;
    m.add_class::<carver::Carve>()?;
    m.add_class::<features::FeatureScanner>()?;
    m.add_class::<features::Feature>()?;
    m.add_function(wrap_pyfunction!(hasher::digest, m)?)?;
    m.add_class::<hashset::PyHashSet>()?;
    m.add_class::<hashset::PyHashSetBuilder>()?;
    m.add_class::<pdqindex::PyPdqIndex>()?;
    m.add_class::<pdqindex::PyPdqIndexBuilder>()?;
    m.add_class::<similarity::SsdeepHasher>()?;
    m.add_class::<similarity::TlshHasher>()?;
    m.add_function(wrap_pyfunction!(similarity::ssdeep_digest, m)?)?;
    m.add_function(wrap_pyfunction!(similarity::ssdeep_compare, m)?)?;
    m.add_function(wrap_pyfunction!(similarity::tlsh_digest, m)?)?;
    m.add_function(wrap_pyfunction!(similarity::tlsh_diff, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::pdq_hash, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::pdq_hash_rgb, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::phash, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::phash_rgb, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::image_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::decode_rgb, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::pdq_quality_reliable, m)?)?;
    m.add_function(wrap_pyfunction!(perceptual::hash_distance, m)?)?;
    m.add("PDQ_MIN_QUALITY", crate::perceptual::PDQ_MIN_RELIABLE_QUALITY)?;
    m.add("PDQ_MATCH_DISTANCE", crate::perceptual::PDQ_MATCH_DISTANCE)?;
    Ok(())
}
