//! Borrow any Python buffer as `&[u8]` without copying, for use with the GIL released.

use super::errors::bad_buffer;
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;

/// A held Python buffer (kept alive, so its memory stays valid) viewed as bytes.
pub struct Bytes {
    buf: PyBuffer<u8>,
}

// SAFETY: the exporter keeps the memory alive and unmoved while `buf` holds its view;
// the core only reads it. Callers that mutate a buffer while a call runs get the same
// guarantees as with any C extension reading a buffer without the GIL.
unsafe impl Send for Bytes {}
unsafe impl Sync for Bytes {}

impl Bytes {
    pub fn get(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        let buf = PyBuffer::<u8>::get(obj).map_err(|_| bad_buffer(what))?;
        if !buf.is_c_contiguous() {
            return Err(bad_buffer(what));
        }
        Ok(Bytes { buf })
    }

    pub fn as_slice(&self) -> &[u8] {
        let len = self.buf.len_bytes();
        if len == 0 {
            return &[];
        }
        // SAFETY: contiguous buffer of `len` bytes, alive as long as `self.buf`.
        unsafe { std::slice::from_raw_parts(self.buf.buf_ptr() as *const u8, len) }
    }
}
