//! The one place core errors become Python exceptions.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::PyErr;

create_exception!(
    _native,
    CoreError,
    PyException,
    "An error raised by Quarry's Rust core."
);

/// A buffer argument that cannot be read as contiguous bytes.
pub fn bad_buffer(what: &str) -> PyErr {
    CoreError::new_err(format!(
        "{what}: expected a contiguous byte buffer (bytes, bytearray, memoryview, mmap)"
    ))
}

/// An argument outside what the core accepts.
pub fn bad_argument(msg: String) -> PyErr {
    CoreError::new_err(msg)
}
