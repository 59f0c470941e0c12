//! Structure-validated carving of files from raw bytes.
//!
//! Each format module walks the file's own structure from its header (JPEG markers, PNG
//! chunk CRCs, PDF startxref/%%EOF, ZIP central directory, MP4 boxes...) instead of
//! pairing a header with the next footer, so a truncated file does not swallow the ones
//! after it and a header that appears by chance in random data is rejected.
//!
//! A scan works on one window of an image. Headers are looked for only in the window's
//! owned prefix; a file that runs past the window's end is reported as `NeedMore`, and
//! the caller re-reads from the header (up to the type's maximum size) and calls
//! [`Carver::carve_at`]. This keeps memory bounded and reports each file exactly once.
//!
//! Layout: `kinds` names the types and their signatures, `scanner` finds signature
//! candidates in one pass, `carver` ties candidates to the format walkers, and each
//! format has its own module.

mod carver;
mod context;
mod fragments;
mod kinds;
mod scanner;

mod bmp;
mod elf;
mod evtx;
mod gif;
mod gzip;
mod html;
mod jpeg;
mod lnk;
mod mail;
mod mp3;
mod mp4;
mod ole;
mod pdf;
mod pe;
mod png;
mod rar;
mod regf;
mod riff;
mod sevenzip;
mod sqlite;
mod tiff;
mod zip;

pub use carver::{Carver, Hit};
pub use fragments::{reassemble, reassembles, GapSearch, Reassembly};
pub use kinds::{FileType, Signature, SIGNATURES};
pub use scanner::{naive_candidates, Candidate, Scanner};

/// How a carved file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The structure was walked from header to its end and every check passed.
    Complete,
    /// A valid beginning whose structure breaks off (or the image ends) before the end.
    Truncated,
    /// The structure reaches its end but a check inside failed (a CRC, a checksum, a
    /// length that disagrees): the bytes are there but not as written.
    Damaged,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Truncated => "truncated",
            Status::Damaged => "damaged",
        }
    }
}

/// A file found after a header: its extent, how it ended, and how sure the walker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Bytes from the header to the end of the file (or of what survives of it).
    pub len: usize,
    pub status: Status,
    /// 0..=100: how much independent structure confirmed the file (checksums that
    /// match, lengths that agree, a footer where the header says it is).
    pub confidence: u8,
    /// For a truncated file whose full size is recorded in its own structure, how many
    /// bytes are missing.
    pub missing: Option<u64>,
    /// A finer classification inside the type ("docx" for a zip, "wav" for RIFF, "msi"
    /// for OLE2, ...), when the structure tells it.
    pub subtype: Option<&'static str>,
}

impl Found {
    pub fn complete(len: usize, confidence: u8) -> Found {
        Found {
            len,
            status: Status::Complete,
            confidence,
            missing: None,
            subtype: None,
        }
    }

    pub fn truncated(len: usize, missing: Option<u64>, confidence: u8) -> Found {
        Found {
            status: Status::Truncated,
            missing,
            ..Found::complete(len, confidence)
        }
    }

    pub fn damaged(len: usize, confidence: u8) -> Found {
        Found {
            status: Status::Damaged,
            ..Found::complete(len, confidence)
        }
    }

    /// The same finding with a finer classification.
    pub fn with_subtype(self, subtype: &'static str) -> Found {
        Found {
            subtype: Some(subtype),
            ..self
        }
    }
}

/// What a format walker concluded about the bytes after a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A file starting at the header.
    Found(Found),
    /// The walk reached the end of the data before the file's end; more bytes are needed.
    NeedMore,
    /// Not a file of this type (a chance header, or damaged from the start).
    Invalid,
}

impl Probe {
    pub fn found(&self) -> Option<&Found> {
        match self {
            Probe::Found(f) => Some(f),
            _ => None,
        }
    }
}

/// Shared ending of a walk that ran out of bytes: at the image's end a file with a valid
/// beginning is truncated; otherwise the caller must supply more data (unless the cap is
/// reached, where the candidate is given up).
pub(crate) fn ran_out(data: &[u8], at_eof: bool, max_len: usize, valid_prefix: usize) -> Probe {
    if at_eof && valid_prefix > 0 {
        Probe::Found(Found::truncated(data.len(), None, 50))
    } else if data.len() >= max_len || at_eof {
        Probe::Invalid
    } else {
        Probe::NeedMore
    }
}

pub(crate) fn be_u16(d: &[u8], at: usize) -> Option<usize> {
    d.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
}

pub(crate) fn be_u32(d: &[u8], at: usize) -> Option<usize> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

pub(crate) fn le_u16(d: &[u8], at: usize) -> Option<usize> {
    d.get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
}

pub(crate) fn le_u32(d: &[u8], at: usize) -> Option<usize> {
    d.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

#[allow(dead_code)] // for the format walkers that read 64-bit fields
pub(crate) fn le_u64(d: &[u8], at: usize) -> Option<u64> {
    d.get(at..at + 8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

#[allow(dead_code)] // for the format walkers that read 64-bit fields
pub(crate) fn be_u64(d: &[u8], at: usize) -> Option<u64> {
    d.get(at..at + 8)
        .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
}
