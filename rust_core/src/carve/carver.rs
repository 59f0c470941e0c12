//! `Carver`: candidates from the scanner, validated by each type's walker.

use super::context::continues_earlier;
use super::kinds::FileType;
use super::scanner::Scanner;
use super::{Probe, Status};

/// One file found by a scan; `offset` is absolute in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub offset: u64,
    pub kind: FileType,
    pub outcome: Probe,
}

/// A carver built once (pair table, size caps, chosen types) and used on many windows.
pub struct Carver {
    scanner: Scanner,
    max_len: [usize; FileType::COUNT],
    enabled: [bool; FileType::COUNT],
    align: u64,
}

impl Default for Carver {
    fn default() -> Self {
        Self::new()
    }
}

impl Carver {
    pub fn new() -> Self {
        Carver {
            scanner: Scanner::new(),
            max_len: FileType::ALL.map(FileType::default_max_len),
            enabled: [true; FileType::COUNT],
            align: 1,
        }
    }

    /// Largest file carved of `kind`.
    pub fn max_len(&self, kind: FileType) -> usize {
        self.max_len[kind as usize]
    }

    pub fn set_max_len(&mut self, kind: FileType, len: usize) {
        let shortest = kind.signatures().map(|s| s.at + s.bytes.len()).max().unwrap_or(1);
        self.max_len[kind as usize] = len.max(shortest);
    }

    /// Carve only these types.
    pub fn only(&mut self, kinds: &[FileType]) {
        self.enabled = FileType::ALL.map(|t| kinds.contains(&t));
    }

    pub fn kinds(&self) -> impl Iterator<Item = FileType> + '_ {
        FileType::ALL.into_iter().filter(|t| self.enabled[*t as usize])
    }

    /// Look for files only at image offsets that are multiples of `align` (1 = every
    /// byte; 512 = sector starts, as PhotoRec does, which is faster and misses embedded
    /// and packed files).
    pub fn set_align(&mut self, align: u64) {
        self.align = align.max(1);
    }

    pub fn align(&self) -> u64 {
        self.align
    }

    /// Every file whose header starts in `data[..owned_len]`, sorted by offset.
    ///
    /// `base` is the absolute offset of `data[0]`; `at_eof` says `data` ends where the
    /// image ends. Invalid candidates are dropped; `NeedMore` hits are returned for the
    /// caller to re-read.
    pub fn scan(&self, data: &[u8], base: u64, owned_len: usize, at_eof: bool) -> Vec<Hit> {
        self.scan_after(data, base, 0, owned_len, at_eof)
    }

    /// As [`Carver::scan`], where `data[..lead]` is context before the owned part (the
    /// end of the previous segment): headers there are not reported, but walkers may look
    /// back into it to tell a file's start from a point inside a file (an MP3 frame that
    /// continues the previous one, the second header line of one e-mail).
    pub fn scan_after(
        &self,
        data: &[u8],
        base: u64,
        lead: usize,
        owned_len: usize,
        at_eof: bool,
    ) -> Vec<Hit> {
        let lead = lead.min(data.len());
        let body = &data[lead..];
        let mut hits: Vec<Hit> = Vec::new();
        for c in self.scanner.candidates(body, base, owned_len, self.align) {
            let kind = c.signature().kind;
            if !self.enabled[kind as usize] {
                continue;
            }
            let offset = base + c.start as u64;
            // Two signatures of one type at one start are one candidate.
            if hits.last().is_some_and(|h| h.offset == offset && h.kind == kind) {
                continue;
            }
            // The look-back is cheap for most types and spares their walk; a ZIP's looks
            // megabytes back, and matters only for a run of members without an end record
            // of their own (one with it starts where that record says), so it comes last.
            let look_back_first = kind != FileType::Zip;
            if look_back_first && continues_earlier(kind, data, lead + c.start) {
                continue;
            }
            let outcome = kind.probe(&body[c.start..], at_eof, self.max_len(kind));
            if outcome == Probe::Invalid {
                continue;
            }
            let whole = matches!(&outcome, Probe::Found(f) if f.status != Status::Truncated);
            if !look_back_first && !whole && continues_earlier(kind, data, lead + c.start) {
                continue;
            }
            hits.push(Hit {
                offset,
                kind,
                outcome,
            });
        }
        hits
    }

    /// Carve a file of `kind` whose first byte is `data[0]` (after a `NeedMore`).
    pub fn carve_at(&self, data: &[u8], kind: FileType, at_eof: bool) -> Probe {
        let announced = kind
            .signatures()
            .any(|s| data.get(s.at..).is_some_and(|rest| rest.starts_with(s.bytes)));
        if !announced {
            return Probe::Invalid;
        }
        match kind.probe(data, at_eof, self.max_len(kind)) {
            // With the whole cap in hand, a walk that still wants more is not a file.
            Probe::NeedMore if data.len() >= self.max_len(kind) => Probe::Invalid,
            other => other,
        }
    }
}
