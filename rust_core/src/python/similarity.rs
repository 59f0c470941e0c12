//! Similarity digests for Python: `SsdeepHasher`, `TlshHasher` and one-shot functions,
//! GIL released over the bytes.

use super::buffer::Bytes;
use super::errors::CoreError;
use crate::similarity::{self, DigestError};
use pyo3::prelude::*;

/// A digest string that cannot be read, e.g. "ssdeep_compare(a, b): first digest: no ':' ...".
fn malformed(func: &str, e: DigestError) -> PyErr {
    CoreError::new_err(format!("{func}(a, b): {e}"))
}

/// Streaming ssdeep (CTPH) digest, identical to what the `ssdeep` tool prints.
#[pyclass(module = "rust_core._native")]
#[derive(Default)]
pub struct SsdeepHasher {
    inner: similarity::SsdeepHasher,
}

#[pymethods]
impl SsdeepHasher {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Feed the next buffer (any contiguous buffer; not copied; GIL released).
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = Bytes::get(data, "SsdeepHasher.update(data)")?;
        let inner = &mut self.inner;
        py.detach(|| inner.update(bytes.as_slice()));
        Ok(())
    }

    #[getter]
    fn length(&self) -> u64 {
        self.inner.length()
    }

    /// "blocksize:part1:part2" of everything fed so far; more may follow.
    fn digest(&self) -> String {
        self.inner.digest()
    }
}

/// Streaming TLSH digest ("T1" + 70 hex digits), identical to py-tlsh's `tlsh.hash`.
#[pyclass(module = "rust_core._native")]
#[derive(Default)]
pub struct TlshHasher {
    inner: similarity::TlshHasher,
}

#[pymethods]
impl TlshHasher {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Feed the next buffer (any contiguous buffer; not copied; GIL released).
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = Bytes::get(data, "TlshHasher.update(data)")?;
        let inner = &mut self.inner;
        py.detach(|| inner.update(bytes.as_slice()));
        Ok(())
    }

    #[getter]
    fn length(&self) -> u64 {
        self.inner.length()
    }

    /// The digest of everything fed so far, or None where the reference says "TNULL"
    /// (under 50 bytes, or too little variety); more may follow.
    fn digest(&self) -> Option<String> {
        self.inner.digest()
    }
}

/// ssdeep digest of one buffer.
#[pyfunction]
pub fn ssdeep_digest(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<String> {
    let bytes = Bytes::get(data, "ssdeep_digest(data)")?;
    Ok(py.detach(|| similarity::ssdeep_digest(bytes.as_slice())))
}

/// Match score 0..=100 of two ssdeep digests (libfuzzy's fuzzy_compare).
#[pyfunction]
pub fn ssdeep_compare(a: &str, b: &str) -> PyResult<u32> {
    similarity::ssdeep_compare(a, b).map_err(|e| malformed("ssdeep_compare", e))
}

/// TLSH digest of one buffer, or None (under 50 bytes, or too little variety).
#[pyfunction]
pub fn tlsh_digest(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let bytes = Bytes::get(data, "tlsh_digest(data)")?;
    Ok(py.detach(|| similarity::tlsh_digest(bytes.as_slice())))
}

/// TLSH distance of two digests, length difference included (py-tlsh's `tlsh.diff`).
#[pyfunction]
pub fn tlsh_diff(a: &str, b: &str) -> PyResult<u32> {
    similarity::tlsh_diff(a, b).map_err(|e| malformed("tlsh_diff", e))
}
