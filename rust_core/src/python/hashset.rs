//! `HashSet` and `HashSetBuilder`: known-file digest sets, memory-mapped, GIL released.

use super::buffer::Bytes;
use super::errors::bad_argument;
use crate::hashset::{self, Algorithm, SetError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use std::path::PathBuf;

fn set_error(e: SetError) -> PyErr {
    bad_argument(e.to_string())
}

fn parse_algorithm(name: &str) -> PyResult<Algorithm> {
    Algorithm::from_name(name).ok_or_else(|| {
        let known: Vec<_> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        bad_argument(format!(
            "unknown digest algorithm {name:?}; known: {}",
            known.join(", ")
        ))
    })
}

/// A set file opened for lookups; the mapping is shared by every process on the node.
#[pyclass(module = "rust_core._native", name = "HashSet", frozen)]
pub struct PyHashSet {
    inner: hashset::HashSet,
}

#[pymethods]
impl PyHashSet {
    /// Open (map) the set file at `path`; a damaged file raises CoreError naming it.
    #[new]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py.detach(|| hashset::HashSet::open(&path)).map_err(set_error)?;
        Ok(PyHashSet { inner })
    }

    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.algorithm().name()
    }

    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    #[getter]
    fn width(&self) -> usize {
        self.inner.algorithm().width()
    }

    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    #[getter]
    fn file_bytes(&self) -> u64 {
        self.inner.file_len()
    }

    /// Whether the set holds `digest`: hex text (either case) or raw bytes.
    fn contains(&self, digest: &Bound<'_, PyAny>) -> PyResult<bool> {
        let found = if let Ok(text) = digest.cast::<PyString>() {
            let algorithm = self.inner.algorithm();
            let raw = algorithm.parse_hex(text.to_str()?).ok_or_else(|| {
                bad_argument(format!(
                    "{:?} is not a {}-digit hex {} digest",
                    text.to_string_lossy(),
                    2 * algorithm.width(),
                    algorithm.name()
                ))
            })?;
            self.inner.contains(&raw)
        } else {
            self.inner
                .contains(Bytes::get(digest, "HashSet.contains(digest)")?.as_slice())
        };
        found.map_err(set_error)
    }

    /// Look up raw digests laid end to end; one byte per digest back, 1 where found.
    fn contains_many<'py>(
        &self,
        py: Python<'py>,
        digests: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = Bytes::get(digests, "HashSet.contains_many(digests)")?;
        let count = bytes.as_slice().len() / self.inner.algorithm().width();
        let mut found = vec![0u8; count];
        py.detach(|| self.inner.contains_many(bytes.as_slice(), &mut found))
            .map_err(set_error)?;
        Ok(PyBytes::new(py, &found))
    }

    /// Check every digest's order and bucket in one pass (after a download, say).
    fn verify(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.verify()).map_err(set_error)
    }

    fn __len__(&self) -> usize {
        self.inner.count() as usize
    }

    fn __repr__(&self) -> String {
        format!(
            "HashSet({:?}, algorithm='{}', count={})",
            self.inner.path().display().to_string(),
            self.inner.algorithm().name(),
            self.inner.count()
        )
    }
}

/// Builds a set file from digests added in batches, in bounded memory.
#[pyclass(module = "rust_core._native", name = "HashSetBuilder")]
pub struct PyHashSetBuilder {
    algorithm: Algorithm,
    inner: Option<hashset::Builder>,
}

impl PyHashSetBuilder {
    fn builder(&mut self) -> PyResult<&mut hashset::Builder> {
        self.inner
            .as_mut()
            .ok_or_else(|| bad_argument("HashSetBuilder already finished".into()))
    }
}

#[pymethods]
impl PyHashSetBuilder {
    /// Sorted runs of up to `run_bytes` go to `run_dir` and are removed at the end.
    #[new]
    #[pyo3(signature = (algorithm, run_dir, run_bytes=256 << 20))]
    fn new(algorithm: &str, run_dir: PathBuf, run_bytes: usize) -> PyResult<Self> {
        let algorithm = parse_algorithm(algorithm)?;
        Ok(PyHashSetBuilder {
            algorithm,
            inner: Some(hashset::Builder::new(algorithm, &run_dir, run_bytes)),
        })
    }

    #[getter]
    fn algorithm(&self) -> &'static str {
        self.algorithm.name()
    }

    #[getter]
    fn added(&mut self) -> PyResult<u64> {
        Ok(self.builder()?.added())
    }

    /// Add raw digests laid end to end (not copied beyond the run buffer; GIL released).
    fn add(&mut self, py: Python<'_>, digests: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = Bytes::get(digests, "HashSetBuilder.add(digests)")?;
        let builder = self.builder()?;
        py.detach(|| builder.add(bytes.as_slice())).map_err(set_error)
    }

    /// Write the set file at `path`: {"added", "count", "runs"}; the builder is spent.
    fn finish<'py>(&mut self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
        let builder = self
            .inner
            .take()
            .ok_or_else(|| bad_argument("HashSetBuilder already finished".into()))?;
        let stats = py.detach(|| builder.finish(&path)).map_err(set_error)?;
        let out = PyDict::new(py);
        out.set_item("added", stats.added)?;
        out.set_item("count", stats.count)?;
        out.set_item("runs", stats.runs)?;
        Ok(out)
    }
}
