//! `Hasher` and `digest()`: MD5 + SHA-1 + SHA-256 in one pass, GIL released.

use super::buffer::Bytes;
use crate::hashing::{self, Digests, MultiHasher};
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn to_dict<'py>(py: Python<'py>, d: &Digests) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("md5", &d.md5)?;
    out.set_item("sha1", &d.sha1)?;
    out.set_item("sha256", &d.sha256)?;
    out.set_item("length", d.length)?;
    Ok(out)
}

/// Incremental hasher over a stream of buffers.
#[pyclass(module = "rust_core._native")]
#[derive(Default)]
pub struct Hasher {
    inner: MultiHasher,
}

#[pymethods]
impl Hasher {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Feed the next buffer (any contiguous buffer; not copied; GIL released).
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = Bytes::get(data, "Hasher.update(data)")?;
        let inner = &mut self.inner;
        py.detach(|| inner.update(bytes.as_slice()));
        Ok(())
    }

    #[getter]
    fn length(&self) -> u64 {
        self.inner.length()
    }

    /// {"md5", "sha1", "sha256", "length"} of everything fed so far.
    fn digests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        to_dict(py, &self.inner.digests())
    }
}

/// Digests of one buffer: {"md5", "sha1", "sha256", "length"}.
#[pyfunction]
pub fn digest<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let bytes = Bytes::get(data, "digest(data)")?;
    let d = py.detach(|| hashing::digest(bytes.as_slice()));
    to_dict(py, &d)
}
