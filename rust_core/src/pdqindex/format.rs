//! The on-disk layout of a PDQ index file, encoded and decoded in this one place.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "QRYPDQI\0"
//!      8     4  format version, u32 LE (1)
//!     12     1  chunk count m (11..=64); chunk widths follow from it (`Chunks::new`)
//!     13     3  zero
//!     16     8  entry count N, u64 LE (below 2^32)
//!     24     8  label count L, u64 LE (at most N, below 2^32)
//!     32     8  label text bytes, u64 LE
//!     40     8  offset of the chunk tables, u64 LE (64 + 36 N)
//!     48     8  offset of the label offsets, u64 LE
//!     56     8  file length, u64 LE
//!     64        hashes: N x 32 bytes, each as four u64 LE words (word 0 = hex digits 0..16),
//!               sorted ascending by (hash, label), each (hash, label) once
//!             label ids: N x u32 LE, entry i's label
//!             chunk tables, chunk 0 first: 2^w + 1 bucket offsets, u32 LE (bucket v of the
//!               chunk holds positions [offset v, offset v+1) of the chunk's id list); then,
//!               except for chunk 0, the id list: N x u32 LE entry numbers, grouped by the
//!               chunk's value, ascending within a group. Chunk 0 is the hashes' top bits,
//!               so its groups are runs of the sorted hashes and need no id list.
//!             (zero padding to a multiple of 8)
//!             label offsets: L + 1 x u64 LE from the start of the label text, ascending
//!             label text: UTF-8, labels sorted, each once (label 0 may be "")
//! ```
//!
//! Memory: 36 bytes per entry, plus 4 bytes per entry per chunk after the first, plus
//! 4 x 2^w per chunk, plus the labels: about 93 bytes per hash for 10 M hashes (12 chunks,
//! 930 MB), all of it mapped and shared by the processes of a node.

use super::{Chunks, WIDTH};

pub const MAGIC: [u8; 8] = *b"QRYPDQI\0";
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 64;
/// Entries and labels are numbered with u32.
pub const MAX_ENTRIES: u64 = u32::MAX as u64;

/// The header's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub chunks: usize,
    pub count: u64,
    pub labels: u64,
    pub label_bytes: u64,
}

/// One chunk's table: where its bucket offsets and (but for chunk 0) its id list lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub offsets_at: usize,
    pub buckets: usize,
    pub ids_at: Option<usize>,
}

/// Where every part of a file with a given header lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub label_ids_at: usize,
    pub tables_at: usize,
    pub tables: Vec<Table>,
    pub label_offsets_at: usize,
    pub label_text_at: usize,
    pub file_len: usize,
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl Header {
    /// Where everything lies; None if a size overflows.
    pub fn layout(&self, chunks: &Chunks) -> Option<Layout> {
        let n = usize::try_from(self.count).ok()?;
        let label_ids_at = n.checked_mul(WIDTH)?.checked_add(HEADER_LEN)?;
        let tables_at = n.checked_mul(4)?.checked_add(label_ids_at)?;
        let mut at = tables_at;
        let mut tables = Vec::with_capacity(chunks.len());
        for i in 0..chunks.len() {
            let buckets = 1usize << chunks.width(i);
            let offsets_at = at;
            at = at.checked_add((buckets + 1) * 4)?;
            let ids_at = if i == 0 {
                None
            } else {
                let ids = at;
                at = at.checked_add(n.checked_mul(4)?)?;
                Some(ids)
            };
            tables.push(Table {
                offsets_at,
                buckets,
                ids_at,
            });
        }
        let label_offsets_at = at.checked_next_multiple_of(8)?;
        let labels = usize::try_from(self.labels).ok()?;
        let label_text_at = labels
            .checked_add(1)?
            .checked_mul(8)?
            .checked_add(label_offsets_at)?;
        let file_len = label_text_at.checked_add(usize::try_from(self.label_bytes).ok()?)?;
        Some(Layout {
            label_ids_at,
            tables_at,
            tables,
            label_offsets_at,
            label_text_at,
            file_len,
        })
    }

    pub fn encode(&self, layout: &Layout) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[12] = self.chunks as u8;
        out[16..24].copy_from_slice(&self.count.to_le_bytes());
        out[24..32].copy_from_slice(&self.labels.to_le_bytes());
        out[32..40].copy_from_slice(&self.label_bytes.to_le_bytes());
        out[40..48].copy_from_slice(&(layout.tables_at as u64).to_le_bytes());
        out[48..56].copy_from_slice(&(layout.label_offsets_at as u64).to_le_bytes());
        out[56..64].copy_from_slice(&(layout.file_len as u64).to_le_bytes());
        out
    }

    /// The header at the start of `bytes` with its chunk layout and file layout, or the
    /// problem with it.
    pub fn decode(bytes: &[u8]) -> Result<(Header, Chunks, Layout), String> {
        if bytes.len() < HEADER_LEN {
            return Err(format!(
                "{} bytes is shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        }
        if bytes[0..8] != MAGIC {
            return Err("wrong magic (not a Quarry PDQ index)".into());
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != FORMAT_VERSION {
            return Err(format!(
                "format version {version}, this build reads {FORMAT_VERSION}"
            ));
        }
        let header = Header {
            chunks: usize::from(bytes[12]),
            count: u64_at(bytes, 16),
            labels: u64_at(bytes, 24),
            label_bytes: u64_at(bytes, 32),
        };
        let chunks = Chunks::new(header.chunks).map_err(|e| e.to_string())?;
        if header.count > MAX_ENTRIES || header.labels > header.count.max(1) {
            return Err(format!(
                "{} entries and {} labels: at most 2^32 - 1 entries, and no more labels than entries",
                header.count, header.labels
            ));
        }
        let layout = header.layout(&chunks).ok_or("sizes overflow")?;
        let stored = (u64_at(bytes, 40), u64_at(bytes, 48), u64_at(bytes, 56));
        let derived = (
            layout.tables_at as u64,
            layout.label_offsets_at as u64,
            layout.file_len as u64,
        );
        if stored != derived {
            return Err(format!(
                "offsets {stored:?} do not fit the counts, which need {derived:?}"
            ));
        }
        Ok((header, chunks, layout))
    }
}
