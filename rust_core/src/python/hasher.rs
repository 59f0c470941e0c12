//! `Hasher` and `digest()`: any subset of the core's digests in one pass, GIL released.

use super::buffer::Bytes;
use super::errors::bad_argument;
use crate::hashing::{self, Algorithm, Digests, ParallelHasher, Spec, WindowDigest};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

fn algorithms(names: Vec<String>, what: &str) -> PyResult<Vec<Algorithm>> {
    names
        .iter()
        .map(|n| Algorithm::parse(n).map_err(|e| bad_argument(format!("{what}: {e}"))))
        .collect()
}

fn to_dict<'py>(py: Python<'py>, d: &Digests) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (algorithm, hex) in &d.values {
        out.set_item(algorithm.name(), hex)?;
    }
    out.set_item("length", d.length)?;
    Ok(out)
}

type WindowRow = (u64, u64, &'static str, String);

fn rows(windows: Vec<WindowDigest>) -> Vec<WindowRow> {
    windows
        .into_iter()
        .map(|w| (w.index, w.length, w.algorithm.name(), hashing::to_hex(&w.digest)))
        .collect()
}

/// Incremental hasher over one stream: digests spread over threads, optionally also
/// per fixed window; the caller's next read overlaps the hashing of earlier buffers.
#[pyclass(module = "rust_core._native")]
pub struct Hasher {
    inner: ParallelHasher,
    pending: Vec<WindowDigest>,
}

#[pymethods]
impl Hasher {
    #[new]
    #[pyo3(signature = (algorithms=None, window=0, window_algorithms=None, threads=0))]
    fn new(
        algorithms: Option<Vec<String>>,
        window: u64,
        window_algorithms: Option<Vec<String>>,
        threads: usize,
    ) -> PyResult<Self> {
        let spec = Spec {
            algorithms: match algorithms {
                Some(names) => self::algorithms(names, "Hasher(algorithms)")?,
                None => hashing::DEFAULT_ALGORITHMS.to_vec(),
            },
            window_size: window,
            window_algorithms: match window_algorithms {
                Some(names) => self::algorithms(names, "Hasher(window_algorithms)")?,
                None => vec![Algorithm::Blake3],
            },
            threads,
        };
        let inner = ParallelHasher::new(&spec).map_err(|e| bad_argument(format!("Hasher: {e}")))?;
        Ok(Hasher {
            inner,
            pending: Vec::new(),
        })
    }

    /// Feed the next buffer (copied into the hasher's own buffers; GIL released).
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = Bytes::get(data, "Hasher.update(data)")?;
        let inner = &mut self.inner;
        py.detach(|| inner.update(bytes.as_slice()))
            .map_err(|e| bad_argument(format!("Hasher.update: {e}")))
    }

    /// Feed `length` bytes of the open file `fd` from `offset`, read by the core itself;
    /// returns the bytes fed (fewer only at end of file). The descriptor stays open.
    fn update_from_file(&mut self, py: Python<'_>, fd: i32, offset: u64, length: u64) -> PyResult<u64> {
        // SAFETY: the caller keeps `fd` open during the call; ManuallyDrop never closes it.
        let file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
        let inner = &mut self.inner;
        py.detach(|| inner.update_from_file(&file, offset, length))
            .map_err(|e| {
                PyErr::from(std::io::Error::new(
                    e.kind(),
                    format!("reading fd {fd} at {offset}: {e}"),
                ))
            })
    }

    #[getter]
    fn length(&self) -> u64 {
        self.inner.length()
    }

    /// Threads the digests run on.
    #[getter]
    fn threads(&self) -> usize {
        self.inner.threads()
    }

    /// {name: hex, ..., "length": n} of everything fed so far (waits for the threads).
    fn digests<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let inner = &mut self.inner;
        let (d, windows) = py
            .detach(|| inner.snapshot())
            .map_err(|e| bad_argument(format!("Hasher.digests: {e}")))?;
        self.pending.extend(windows);
        to_dict(py, &d)
    }

    /// Final digests; the last partial window is closed. No more data may be fed.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let inner = &mut self.inner;
        let (d, windows) = py
            .detach(|| inner.finish())
            .map_err(|e| bad_argument(format!("Hasher.finish: {e}")))?;
        self.pending.extend(windows);
        to_dict(py, &d)
    }

    /// Windows closed since the last call: [(index, length, algorithm, hex)], by index.
    fn take_windows(&mut self, py: Python<'_>) -> PyResult<Vec<WindowRow>> {
        let inner = &mut self.inner;
        if let Ok((_, windows)) = py.detach(|| inner.snapshot()) {
            self.pending.extend(windows);
        }
        let mut out = std::mem::take(&mut self.pending);
        out.sort_by_key(|w| (w.index, w.algorithm));
        Ok(rows(out))
    }
}

/// Digests of one buffer: {name: hex, ..., "length": n}; MD5, SHA-1 and SHA-256 unless
/// `algorithms` names others.
#[pyfunction]
#[pyo3(signature = (data, algorithms=None))]
pub fn digest<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    algorithms: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let wanted = match algorithms {
        Some(names) => self::algorithms(names, "digest(algorithms)")?,
        None => hashing::DEFAULT_ALGORITHMS.to_vec(),
    };
    let bytes = Bytes::get(data, "digest(data)")?;
    let d = py.detach(|| hashing::digest(bytes.as_slice(), &wanted));
    to_dict(py, &d)
}
