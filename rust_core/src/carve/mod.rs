//! Structure-validated carving of files from raw bytes.
//!
//! Each format module walks the file's own structure from its header (JPEG markers, PNG
//! chunk CRCs, PDF startxref/%%EOF, ZIP central directory) instead of pairing a header
//! with the next footer, so a truncated file does not swallow the ones after it and a
//! header that appears by chance in random data is rejected.
//!
//! A scan works on one window of an image. Headers are looked for only in the window's
//! owned prefix; a file that runs past the window's end is reported as `NeedMore`, and
//! the caller re-reads from the header (up to the type's maximum size) and calls
//! [`carve_at`]. This keeps memory bounded and reports each file exactly once.

mod jpeg;
mod pdf;
mod png;
mod zip;

use memchr::memmem;

/// File types the carver recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    Jpeg,
    Png,
    Pdf,
    Zip,
}

impl FileType {
    pub const ALL: [FileType; 4] = [FileType::Jpeg, FileType::Png, FileType::Pdf, FileType::Zip];

    pub fn name(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpeg",
            FileType::Png => "png",
            FileType::Pdf => "pdf",
            FileType::Zip => "zip",
        }
    }

    pub fn from_name(name: &str) -> Option<FileType> {
        FileType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The bytes every file of this type starts with.
    pub fn signature(self) -> &'static [u8] {
        match self {
            FileType::Jpeg => b"\xFF\xD8\xFF",
            FileType::Png => b"\x89PNG\r\n\x1a\n",
            FileType::Pdf => b"%PDF-",
            FileType::Zip => b"PK\x03\x04",
        }
    }

    /// Default largest file carved of this type: bounds memory per carve.
    pub fn default_max_len(self) -> usize {
        match self {
            FileType::Jpeg => 32 << 20,
            FileType::Png => 32 << 20,
            FileType::Pdf => 64 << 20,
            FileType::Zip => 64 << 20,
        }
    }

    fn probe(self, data: &[u8], at_eof: bool, max_len: usize) -> Probe {
        match self {
            FileType::Jpeg => jpeg::probe(data, at_eof, max_len),
            FileType::Png => png::probe(data, at_eof, max_len),
            FileType::Pdf => pdf::probe(data, at_eof, max_len),
            FileType::Zip => zip::probe(data, at_eof, max_len),
        }
    }
}

/// How a carved file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The structure was walked from header to its end and every check passed.
    Complete,
    /// A valid beginning whose structure breaks off (or the image ends) before the end.
    Truncated,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Truncated => "truncated",
        }
    }
}

/// What a format walker concluded about the bytes after a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A file of `len` bytes starting at the header.
    Found { len: usize, status: Status },
    /// The walk reached the end of the data before the file's end; more bytes are needed.
    NeedMore,
    /// Not a file of this type (a chance header, or damaged from the start).
    Invalid,
}

/// Shared ending of a walk that ran out of bytes: at the image's end the file is
/// truncated; otherwise the caller must supply more data (unless the cap is reached).
pub(crate) fn ran_out(data: &[u8], at_eof: bool, max_len: usize, valid_prefix: usize) -> Probe {
    if at_eof && valid_prefix > 0 {
        Probe::Found {
            len: data.len(),
            status: Status::Truncated,
        }
    } else if data.len() >= max_len || at_eof {
        Probe::Invalid
    } else {
        Probe::NeedMore
    }
}

/// One file found by a scan; `offset` is absolute in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub offset: u64,
    pub kind: FileType,
    pub outcome: Probe,
}

/// A carver built once (signature searchers, size caps) and used on many windows.
pub struct Carver {
    finders: Vec<(FileType, memmem::Finder<'static>)>,
    max_len: [usize; 4],
}

impl Default for Carver {
    fn default() -> Self {
        Self::new()
    }
}

impl Carver {
    pub fn new() -> Self {
        let finders = FileType::ALL
            .into_iter()
            .map(|t| (t, memmem::Finder::new(t.signature())))
            .collect();
        let max_len = FileType::ALL.map(FileType::default_max_len);
        Carver { finders, max_len }
    }

    /// Largest file carved of `kind`.
    pub fn max_len(&self, kind: FileType) -> usize {
        self.max_len[kind as usize]
    }

    pub fn set_max_len(&mut self, kind: FileType, len: usize) {
        self.max_len[kind as usize] = len.max(kind.signature().len());
    }

    /// Every file whose header starts in `data[..owned_len]`, sorted by offset.
    ///
    /// `base` is the absolute offset of `data[0]`; `at_eof` says `data` ends where the
    /// image ends. Invalid candidates are dropped; `NeedMore` hits are returned for the
    /// caller to re-read.
    pub fn scan(&self, data: &[u8], base: u64, owned_len: usize, at_eof: bool) -> Vec<Hit> {
        let owned_len = owned_len.min(data.len());
        let mut hits = Vec::new();
        for (kind, finder) in &self.finders {
            // A header must start inside the owned part but may end past it.
            let search_end = (owned_len + kind.signature().len() - 1).min(data.len());
            for pos in finder.find_iter(&data[..search_end]) {
                let outcome = kind.probe(&data[pos..], at_eof, self.max_len(*kind));
                if outcome != Probe::Invalid {
                    hits.push(Hit {
                        offset: base + pos as u64,
                        kind: *kind,
                        outcome,
                    });
                }
            }
        }
        hits.sort_by_key(|h| h.offset);
        hits
    }

    /// Carve a file of `kind` whose header is at `data[0]` (after a `NeedMore`).
    pub fn carve_at(&self, data: &[u8], kind: FileType, at_eof: bool) -> Probe {
        if !data.starts_with(kind.signature()) {
            return Probe::Invalid;
        }
        match kind.probe(data, at_eof, self.max_len(kind)) {
            // With the whole cap in hand, a walk that still wants more is not a file.
            Probe::NeedMore if data.len() >= self.max_len(kind) => Probe::Invalid,
            other => other,
        }
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
