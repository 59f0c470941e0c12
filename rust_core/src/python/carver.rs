//! `Carver`: structure-validated carving of JPEG, PNG, PDF and ZIP, GIL released.

use super::buffer::Bytes;
use super::errors::bad_argument;
use crate::carve::{self, FileType, Hit, Probe};
use pyo3::prelude::*;
use std::collections::HashMap;

/// One carved file: `offset` absolute in the image; `status` is "complete",
/// "truncated", or "need_more" (re-read from `offset` and call `carve_at`).
#[pyclass(module = "rust_core._native", frozen, get_all)]
#[derive(Clone)]
pub struct Carve {
    pub offset: u64,
    pub length: u64,
    pub kind: &'static str,
    pub status: &'static str,
}

#[pymethods]
impl Carve {
    fn __repr__(&self) -> String {
        format!(
            "Carve(offset={}, length={}, kind='{}', status='{}')",
            self.offset, self.length, self.kind, self.status
        )
    }
}

fn to_carve(offset: u64, kind: FileType, outcome: Probe) -> Option<Carve> {
    let (length, status) = match outcome {
        Probe::Found { len, status } => (len as u64, status.name()),
        Probe::NeedMore => (0, "need_more"),
        Probe::Invalid => return None,
    };
    Some(Carve {
        offset,
        length,
        kind: kind.name(),
        status,
    })
}

fn parse_kind(name: &str) -> PyResult<FileType> {
    FileType::from_name(name).ok_or_else(|| {
        let known: Vec<_> = FileType::ALL.iter().map(|t| t.name()).collect();
        bad_argument(format!("unknown file type {name:?}; known: {}", known.join(", ")))
    })
}

/// A carver built once and reused over many windows of many images.
#[pyclass(module = "rust_core._native", frozen)]
pub struct Carver {
    inner: carve::Carver,
}

#[pymethods]
impl Carver {
    /// `max_sizes` overrides the largest file carved per type, e.g. {"jpeg": 8 << 20}.
    #[new]
    #[pyo3(signature = (max_sizes=None))]
    fn new(max_sizes: Option<HashMap<String, usize>>) -> PyResult<Self> {
        let mut inner = carve::Carver::new();
        for (name, len) in max_sizes.unwrap_or_default() {
            inner.set_max_len(parse_kind(&name)?, len);
        }
        Ok(Carver { inner })
    }

    /// File types this carver knows, in a stable order.
    #[staticmethod]
    fn kinds() -> Vec<&'static str> {
        FileType::ALL.iter().map(|t| t.name()).collect()
    }

    /// Largest file carved of `kind`, in bytes.
    fn max_size(&self, kind: &str) -> PyResult<usize> {
        Ok(self.inner.max_len(parse_kind(kind)?))
    }

    /// Carves whose header starts in `data[:owned_len]`; `base` is data[0]'s image offset.
    #[pyo3(signature = (data, base, owned_len, at_eof))]
    fn scan(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        base: u64,
        owned_len: usize,
        at_eof: bool,
    ) -> PyResult<Vec<Carve>> {
        let bytes = Bytes::get(data, "Carver.scan(data)")?;
        let hits: Vec<Hit> = py.detach(|| self.inner.scan(bytes.as_slice(), base, owned_len, at_eof));
        Ok(hits
            .into_iter()
            .filter_map(|h| to_carve(h.offset, h.kind, h.outcome))
            .collect())
    }

    /// Carve a `kind` file whose header is at `data[0]` (image offset `base`).
    #[pyo3(signature = (data, base, kind, at_eof))]
    fn carve_at(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        base: u64,
        kind: &str,
        at_eof: bool,
    ) -> PyResult<Option<Carve>> {
        let kind = parse_kind(kind)?;
        let bytes = Bytes::get(data, "Carver.carve_at(data)")?;
        let outcome = py.detach(|| self.inner.carve_at(bytes.as_slice(), kind, at_eof));
        Ok(to_carve(base, kind, outcome))
    }
}
