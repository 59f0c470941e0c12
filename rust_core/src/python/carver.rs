//! `Carver`: structure-validated carving of many file types, GIL released.

use super::buffer::Bytes;
use super::errors::bad_argument;
use crate::carve::{self, FileType, Probe};
use pyo3::prelude::*;
use std::collections::HashMap;

/// One carved file: `offset` absolute in the image; `status` is "complete", "truncated",
/// "damaged", or "need_more" (re-read from `offset` and call `carve_at`).
#[pyclass(module = "rust_core._native", frozen, get_all)]
#[derive(Clone)]
pub struct Carve {
    pub offset: u64,
    pub length: u64,
    pub kind: &'static str,
    pub status: &'static str,
    /// 0..=100: how much of the file's own structure confirmed it.
    pub confidence: u8,
    /// Bytes missing from a truncated file, when its structure records its full size.
    pub missing: Option<u64>,
    /// Finer type when the structure tells it ("docx", "wav", "msi", ...).
    pub subtype: Option<&'static str>,
    /// (offset, length) byte runs in the image: one, or two for a reassembled file.
    pub runs: Vec<(u64, u64)>,
}

#[pymethods]
impl Carve {
    fn __repr__(&self) -> String {
        format!(
            "Carve(offset={}, length={}, kind='{}', subtype={:?}, status='{}', confidence={})",
            self.offset, self.length, self.kind, self.subtype, self.status, self.confidence
        )
    }
}

fn to_carve(offset: u64, kind: FileType, outcome: Probe) -> Option<Carve> {
    let found = match outcome {
        Probe::Found(f) => f,
        Probe::NeedMore => {
            return Some(Carve {
                offset,
                length: 0,
                kind: kind.name(),
                status: "need_more",
                confidence: 0,
                missing: None,
                subtype: None,
                runs: Vec::new(),
            })
        }
        Probe::Invalid => return None,
    };
    Some(Carve {
        offset,
        length: found.len as u64,
        kind: kind.name(),
        status: found.status.name(),
        confidence: found.confidence,
        missing: found.missing,
        subtype: found.subtype,
        runs: vec![(offset, found.len as u64)],
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
    /// `max_sizes` overrides the largest file carved per type, e.g. {"jpeg": 8 << 20};
    /// `kinds` limits the types carved; `align` looks only at offsets that are multiples
    /// of it (1 = every byte).
    #[new]
    #[pyo3(signature = (max_sizes=None, kinds=None, align=1))]
    fn new(
        max_sizes: Option<HashMap<String, usize>>,
        kinds: Option<Vec<String>>,
        align: u64,
    ) -> PyResult<Self> {
        let mut inner = carve::Carver::new();
        for (name, len) in max_sizes.unwrap_or_default() {
            inner.set_max_len(parse_kind(&name)?, len);
        }
        if let Some(kinds) = kinds {
            let chosen = kinds
                .iter()
                .map(|k| parse_kind(k))
                .collect::<PyResult<Vec<_>>>()?;
            if chosen.is_empty() {
                return Err(bad_argument("no file types chosen to carve".to_string()));
            }
            inner.only(&chosen);
        }
        if align == 0 {
            return Err(bad_argument("align must be at least 1".to_string()));
        }
        inner.set_align(align);
        Ok(Carver { inner })
    }

    /// Every file type Quarry can carve, in a stable order.
    #[staticmethod]
    fn all_kinds() -> Vec<&'static str> {
        FileType::ALL.iter().map(|t| t.name()).collect()
    }

    /// File types this carver carves.
    fn kinds(&self) -> Vec<&'static str> {
        self.inner.kinds().map(|t| t.name()).collect()
    }

    /// The alignment this carver looks for headers at.
    #[getter]
    fn align(&self) -> u64 {
        self.inner.align()
    }

    /// Largest file carved of `kind`, in bytes.
    fn max_size(&self, kind: &str) -> PyResult<usize> {
        Ok(self.inner.max_len(parse_kind(kind)?))
    }

    /// Carves whose header starts in `data[lead:lead + owned_len]`; `base` is the image
    /// offset of `data[lead]`; `data[:lead]` is context from before the owned part.
    #[pyo3(signature = (data, base, owned_len, at_eof, lead=0))]
    fn scan(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        base: u64,
        owned_len: usize,
        at_eof: bool,
        lead: usize,
    ) -> PyResult<Vec<Carve>> {
        let bytes = Bytes::get(data, "Carver.scan(data)")?;
        let hits = py.detach(|| {
            self.inner
                .scan_after(bytes.as_slice(), base, lead, owned_len, at_eof)
        });
        Ok(hits
            .into_iter()
            .filter_map(|h| to_carve(h.offset, h.kind, h.outcome))
            .collect())
    }

    /// Carve a `kind` file whose first byte is `data[0]` (image offset `base`).
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

    /// Whether `reassemble` is tried for `kind` (JPEG, ZIP, PDF).
    #[staticmethod]
    fn reassembles(kind: &str) -> PyResult<bool> {
        Ok(carve::reassembles(parse_kind(kind)?))
    }

    /// A `kind` file at `data[0]` (image offset `base`) whose walk broke after `valid`
    /// bytes, put back together from two fragments on `block` boundaries at most
    /// `max_gap` apart; None when no continuation completes it.
    #[pyo3(signature = (data, base, kind, valid, block=4096, max_gap=256 << 10))]
    #[allow(clippy::too_many_arguments)]
    fn reassemble(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        base: u64,
        kind: &str,
        valid: usize,
        block: usize,
        max_gap: usize,
    ) -> PyResult<Option<Carve>> {
        let kind = parse_kind(kind)?;
        let bytes = Bytes::get(data, "Carver.reassemble(data)")?;
        let search = carve::GapSearch {
            block,
            max_gap,
            ..Default::default()
        };
        let max_len = self.inner.max_len(kind);
        let found = py.detach(|| carve::reassemble(kind, bytes.as_slice(), base, valid, max_len, search));
        Ok(found.map(|r| {
            let mut carve = to_carve(base, kind, Probe::Found(r.found)).expect("a found carve");
            carve.runs = r
                .runs
                .iter()
                .map(|&(at, len)| (base + at as u64, len as u64))
                .collect();
            carve
        }))
    }
}
