//! `PdqIndex` and `PdqIndexBuilder`: known-image lists of PDQ hashes, memory-mapped,
//! searched within a Hamming distance with the GIL released.

use super::buffer::Bytes;
use super::errors::bad_argument;
use crate::pdqindex::{self, IndexBuilder, Method, PdqError, DEFAULT_THRESHOLD};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

fn index_error(e: PdqError) -> PyErr {
    bad_argument(e.to_string())
}

/// An index file opened for searches; the mapping is shared by every process on the node.
#[pyclass(module = "rust_core._native", name = "PdqIndex", frozen)]
pub struct PyPdqIndex {
    inner: pdqindex::PdqIndex,
}

#[pymethods]
impl PyPdqIndex {
    /// Open (map) the index file at `path`; a damaged header raises CoreError naming it.
    #[new]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py
            .detach(|| pdqindex::PdqIndex::open(&path))
            .map_err(index_error)?;
        Ok(PyPdqIndex { inner })
    }

    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    #[getter]
    fn chunks(&self) -> usize {
        self.inner.chunks()
    }

    #[getter]
    fn label_count(&self) -> u64 {
        self.inner.label_count()
    }

    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    #[getter]
    fn file_bytes(&self) -> u64 {
        self.inner.file_len()
    }

    /// Every (query number, entry, distance) within `threshold`, sorted, for raw 32-byte
    /// hashes laid end to end; method "auto", "mih" or "linear" (brute force).
    #[pyo3(signature = (queries, threshold = DEFAULT_THRESHOLD, *, method = "auto", threads = 0))]
    fn search(
        &self,
        py: Python<'_>,
        queries: &Bound<'_, PyAny>,
        threshold: u32,
        method: &str,
        threads: usize,
    ) -> PyResult<Vec<(u32, u32, u32)>> {
        let method = Method::from_name(method).ok_or_else(|| {
            bad_argument(format!(
                "PdqIndex.search: method {method:?}: use auto, mih or linear"
            ))
        })?;
        let bytes = Bytes::get(queries, "PdqIndex.search(queries)")?;
        let found = py
            .detach(|| {
                let queries = pdqindex::hashes_from_bytes(bytes.as_slice(), "PdqIndex.search(queries)")?;
                self.inner.search(&queries, threshold, method, threads)
            })
            .map_err(index_error)?;
        Ok(found
            .into_iter()
            .map(|m| (m.query, m.entry, m.distance))
            .collect())
    }

    /// Entry `entry`'s hash as 64 lowercase hex digits.
    fn hash_hex(&self, entry: u64) -> PyResult<String> {
        self.inner
            .hash(entry)
            .map(|h| pdqindex::to_hex(&h))
            .ok_or_else(|| {
                bad_argument(format!(
                    "entry {entry} is past the index's {} entries",
                    self.inner.count()
                ))
            })
    }

    /// Entry `entry`'s label.
    fn label(&self, entry: u64) -> PyResult<String> {
        self.inner.label(entry).map(str::to_owned).map_err(index_error)
    }

    /// Check the order of every part in one pass (after a download, say).
    fn verify(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.verify()).map_err(index_error)
    }

    fn __len__(&self) -> usize {
        self.inner.count() as usize
    }

    fn __repr__(&self) -> String {
        format!(
            "PdqIndex({:?}, count={}, chunks={})",
            self.inner.path().display().to_string(),
            self.inner.count(),
            self.inner.chunks()
        )
    }
}

/// Builds an index file from (hash, label) entries added in batches.
#[pyclass(module = "rust_core._native", name = "PdqIndexBuilder")]
pub struct PyPdqIndexBuilder {
    inner: Option<IndexBuilder>,
}

impl PyPdqIndexBuilder {
    fn builder(&mut self) -> PyResult<&mut IndexBuilder> {
        self.inner
            .as_mut()
            .ok_or_else(|| bad_argument("PdqIndexBuilder already finished".into()))
    }
}

#[pymethods]
impl PyPdqIndexBuilder {
    #[new]
    fn new() -> Self {
        PyPdqIndexBuilder {
            inner: Some(IndexBuilder::new()),
        }
    }

    #[getter]
    fn added(&mut self) -> PyResult<u64> {
        Ok(self.builder()?.added())
    }

    /// Add raw 32-byte hashes laid end to end, with one label each (GIL released).
    fn add(&mut self, py: Python<'_>, hashes: &Bound<'_, PyAny>, labels: Vec<String>) -> PyResult<()> {
        let bytes = Bytes::get(hashes, "PdqIndexBuilder.add(hashes)")?;
        let builder = self.builder()?;
        py.detach(|| {
            let hashes = pdqindex::hashes_from_bytes(bytes.as_slice(), "PdqIndexBuilder.add(hashes)")?;
            if hashes.len() != labels.len() {
                return Err(PdqError::Argument(format!(
                    "PdqIndexBuilder.add: {} hashes but {} labels",
                    hashes.len(),
                    labels.len()
                )));
            }
            hashes
                .iter()
                .zip(&labels)
                .try_for_each(|(h, label)| builder.add(*h, label))
        })
        .map_err(index_error)
    }

    /// Write the index file at `path` ({"added", "count", "labels", "chunks", "bytes"});
    /// chunks None: what suits the count. The builder is spent.
    #[pyo3(signature = (path, chunks = None))]
    fn finish<'py>(
        &mut self,
        py: Python<'py>,
        path: PathBuf,
        chunks: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let builder = self
            .inner
            .take()
            .ok_or_else(|| bad_argument("PdqIndexBuilder already finished".into()))?;
        let stats = py.detach(|| builder.finish(&path, chunks)).map_err(index_error)?;
        let out = PyDict::new(py);
        out.set_item("added", stats.added)?;
        out.set_item("count", stats.count)?;
        out.set_item("labels", stats.labels)?;
        out.set_item("chunks", stats.chunks)?;
        out.set_item("bytes", stats.bytes)?;
        Ok(out)
    }
}
