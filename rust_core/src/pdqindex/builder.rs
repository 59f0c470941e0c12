//! Build an index file from (hash, label) entries added in any order.
//!
//! Entries are held in memory until `finish` (40 bytes each, plus each distinct label
//! once): 400 MB for 10 M hashes. `finish` sorts and deduplicates them, then writes the
//! hashes, the label ids, and one chunk table at a time (a counting sort: 4 x 2^w bytes of
//! bucket offsets and 4 bytes per entry of ids), so it adds at most about 100 MB more.
//! The file is written as `out`.partial and renamed, so `out` is either absent or whole;
//! the same entries, added in any order, make the same bytes.

use super::format::{Header, Layout, HEADER_LEN, MAX_ENTRIES};
use super::{Chunks, Pdq, PdqError};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const IO_BUFFER: usize = 1 << 20;

/// What a build produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildStats {
    /// Entries given to `add`, repeats included.
    pub added: u64,
    /// Distinct (hash, label) entries in the file.
    pub count: u64,
    /// Distinct labels.
    pub labels: u64,
    pub chunks: usize,
    /// The file's length.
    pub bytes: u64,
}

/// Collects (hash, label) entries and writes them as an index file.
#[derive(Default)]
pub struct IndexBuilder {
    entries: Vec<(Pdq, u32)>,
    label_ids: HashMap<String, u32>,
    labels: Vec<String>,
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Entries added so far, repeats included.
    pub fn added(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Add one entry; a list holds below 2^32 of them.
    pub fn add(&mut self, hash: Pdq, label: &str) -> Result<(), PdqError> {
        if self.entries.len() as u64 >= MAX_ENTRIES {
            return Err(PdqError::Argument(format!(
                "a PDQ index holds at most {MAX_ENTRIES} entries"
            )));
        }
        let id = match self.label_ids.get(label) {
            Some(&id) => id,
            None => {
                let id = self.labels.len() as u32;
                self.labels.push(label.to_owned());
                self.label_ids.insert(label.to_owned(), id);
                id
            }
        };
        self.entries.push((hash, id));
        Ok(())
    }

    /// Write the index file at `out` with `chunks` chunks (None: what suits the count).
    pub fn finish(self, out: &Path, chunks: Option<usize>) -> Result<BuildStats, PdqError> {
        let IndexBuilder {
            mut entries,
            labels,
            label_ids,
        } = self;
        drop(label_ids);
        let added = entries.len() as u64;
        let labels = renumber_labels(&mut entries, labels);
        entries.sort_unstable();
        entries.dedup();
        let count = entries.len() as u64;
        let chunks = Chunks::new(chunks.unwrap_or_else(|| Chunks::for_count(count)))?;
        let header = Header {
            chunks: chunks.len(),
            count,
            labels: labels.len() as u64,
            label_bytes: labels.iter().map(|l| l.len() as u64).sum(),
        };
        let layout = header
            .layout(&chunks)
            .ok_or_else(|| PdqError::Argument("the index's size overflows".into()))?;
        let partial = PathBuf::from(format!("{}.partial", out.display()));
        let written = write(&partial, &header, &layout, &chunks, &entries, &labels)
            .and_then(|()| fs::rename(&partial, out).map_err(PdqError::io(out)));
        if written.is_err() {
            let _ = fs::remove_file(&partial);
        }
        written?;
        Ok(BuildStats {
            added,
            count,
            labels: header.labels,
            chunks: chunks.len(),
            bytes: layout.file_len as u64,
        })
    }
}

/// Sort the labels and renumber the entries' label ids to match, so that ids order as
/// their labels do; returns the sorted labels.
fn renumber_labels(entries: &mut [(Pdq, u32)], labels: Vec<String>) -> Vec<String> {
    let mut order: Vec<u32> = (0..labels.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| labels[a as usize].cmp(&labels[b as usize]));
    let mut rank = vec![0u32; labels.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old as usize] = new as u32;
    }
    for entry in entries.iter_mut() {
        entry.1 = rank[entry.1 as usize];
    }
    let mut labels: Vec<Option<String>> = labels.into_iter().map(Some).collect();
    order
        .iter()
        .map(|&old| labels[old as usize].take().unwrap_or_default())
        .collect()
}

fn write(
    partial: &Path,
    header: &Header,
    layout: &Layout,
    chunks: &Chunks,
    entries: &[(Pdq, u32)],
    labels: &[String],
) -> Result<(), PdqError> {
    let io = PdqError::io(partial);
    let file = File::create(partial).map_err(&io)?;
    let mut w = BufWriter::with_capacity(IO_BUFFER, file);
    let mut at = 0usize;
    let mut put = |w: &mut BufWriter<File>, bytes: &[u8]| -> Result<(), PdqError> {
        at += bytes.len();
        w.write_all(bytes).map_err(&io)
    };
    put(&mut w, &header.encode(layout))?;
    for (hash, _) in entries {
        for word in hash {
            put(&mut w, &word.to_le_bytes())?;
        }
    }
    for (_, label) in entries {
        put(&mut w, &label.to_le_bytes())?;
    }
    for (i, table) in layout.tables.iter().enumerate() {
        let (offsets, ids) = chunk_table(chunks, i, table.buckets, entries);
        for offset in &offsets {
            put(&mut w, &offset.to_le_bytes())?;
        }
        if i > 0 {
            for id in &ids {
                put(&mut w, &id.to_le_bytes())?;
            }
        }
    }
    let padding = layout.label_offsets_at - (layout.tables_at + table_bytes(layout, entries.len()));
    put(&mut w, &vec![0u8; padding])?;
    let mut offset = 0u64;
    put(&mut w, &offset.to_le_bytes())?;
    for label in labels {
        offset += label.len() as u64;
        put(&mut w, &offset.to_le_bytes())?;
    }
    for label in labels {
        put(&mut w, label.as_bytes())?;
    }
    debug_assert_eq!(at, layout.file_len);
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(&io)?;
    debug_assert!(HEADER_LEN <= layout.label_ids_at);
    Ok(())
}

fn table_bytes(layout: &Layout, n: usize) -> usize {
    layout
        .tables
        .iter()
        .map(|t| (t.buckets + 1) * 4 + if t.ids_at.is_some() { n * 4 } else { 0 })
        .sum()
}

/// Chunk `i`'s bucket offsets and id list, by a counting sort of the entries on the
/// chunk's value (stable, so ids ascend within a bucket).
fn chunk_table(chunks: &Chunks, i: usize, buckets: usize, entries: &[(Pdq, u32)]) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; buckets + 1];
    for (hash, _) in entries {
        offsets[chunks.value(hash, i) as usize + 1] += 1;
    }
    for b in 0..buckets {
        offsets[b + 1] += offsets[b];
    }
    if i == 0 {
        // The entries are sorted by hash, so chunk 0's buckets are runs of them.
        return (offsets, Vec::new());
    }
    let mut next = offsets.clone();
    let mut ids = vec![0u32; entries.len()];
    for (id, (hash, _)) in entries.iter().enumerate() {
        let slot = &mut next[chunks.value(hash, i) as usize];
        ids[*slot as usize] = id as u32;
        *slot += 1;
    }
    (offsets, ids)
}
