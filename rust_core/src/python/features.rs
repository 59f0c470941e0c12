//! `FeatureScanner`: e-mail, URL, card, IBAN, wallet and key features in one pass, GIL released.

use super::buffer::Bytes;
use super::errors::bad_argument;
use crate::features::{self, Kind};
use pyo3::prelude::*;

/// One feature: `offset` absolute in the image, `length` in image bytes, `encoding` "ascii"
/// or "utf16le", `context` the 16 bytes either side, escaped as bulk_extractor does.
#[pyclass(module = "rust_core._native", frozen, get_all)]
pub struct Feature {
    pub kind: &'static str,
    pub offset: u64,
    pub length: u64,
    pub value: String,
    pub valid: bool,
    pub encoding: &'static str,
    pub context: String,
}

#[pymethods]
impl Feature {
    fn __repr__(&self) -> String {
        format!(
            "Feature(kind='{}', offset={}, value={:?}, valid={}, encoding='{}')",
            self.kind, self.offset, self.value, self.valid, self.encoding
        )
    }
}

fn parse_kind(name: &str) -> PyResult<Kind> {
    Kind::from_name(name).ok_or_else(|| {
        let known: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
        bad_argument(format!(
            "unknown feature kind {name:?}; known: {}",
            known.join(", ")
        ))
    })
}

/// A scanner built once and reused over many windows of many images.
#[pyclass(module = "rust_core._native", frozen)]
pub struct FeatureScanner {
    inner: features::Scanner,
}

#[pymethods]
impl FeatureScanner {
    /// `kinds` limits the kinds reported (None: all); `invalid` also reports values whose
    /// checksum fails, marked `valid = False`.
    #[new]
    #[pyo3(signature = (kinds=None, invalid=false))]
    fn new(kinds: Option<Vec<String>>, invalid: bool) -> PyResult<Self> {
        let chosen = match kinds {
            None => Kind::ALL.to_vec(),
            Some(names) => names
                .iter()
                .map(|n| parse_kind(n))
                .collect::<PyResult<Vec<_>>>()?,
        };
        if chosen.is_empty() {
            return Err(bad_argument("no feature kinds chosen to scan".to_string()));
        }
        Ok(FeatureScanner {
            inner: features::Scanner::new(&chosen, invalid),
        })
    }

    /// Every kind, in a stable order.
    #[staticmethod]
    fn all_kinds() -> Vec<&'static str> {
        Kind::ALL.iter().map(|k| k.name()).collect()
    }

    /// Kinds stored in full but redacted in views (cards, seed phrases, private keys).
    #[staticmethod]
    fn sensitive_kinds() -> Vec<&'static str> {
        Kind::ALL
            .iter()
            .filter(|k| k.sensitive())
            .map(|k| k.name())
            .collect()
    }

    /// Kinds with a checksum (the only ones `invalid` adds hits of).
    #[staticmethod]
    fn checksummed_kinds() -> Vec<&'static str> {
        Kind::ALL
            .iter()
            .filter(|k| k.checksummed())
            .map(|k| k.name())
            .collect()
    }

    /// Features starting in `data[lead:lead + owned_len]` (None: to the end); `base` is the
    /// image offset of `data[lead]`; `data[:lead]` is context from before the owned part.
    #[pyo3(signature = (data, base=0, owned_len=None, lead=0))]
    fn scan(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        base: u64,
        owned_len: Option<usize>,
        lead: usize,
    ) -> PyResult<Vec<Feature>> {
        let bytes = Bytes::get(data, "FeatureScanner.scan(data)")?;
        if lead as u64 > base {
            return Err(bad_argument(format!(
                "lead {lead} reaches before the image start (base {base})"
            )));
        }
        let owned = owned_len.unwrap_or(usize::MAX);
        let hits = py.detach(|| self.inner.scan(bytes.as_slice(), base - lead as u64, lead, owned));
        Ok(hits
            .into_iter()
            .map(|h| Feature {
                kind: h.kind.name(),
                offset: h.offset,
                length: h.length,
                value: h.value,
                valid: h.valid,
                encoding: if h.utf16 { "utf16le" } else { "ascii" },
                context: h.context,
            })
            .collect())
    }
}
