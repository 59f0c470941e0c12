//! Build a set file from any number of digests in bounded memory: digests gather in a
//! buffer of fixed size; each full buffer is sorted, deduplicated and written as a run
//! on disk; `finish` merges the runs into the final file, then writes its index.

use super::format::{bucket_of, Header, HEADER_LEN};
use super::{Algorithm, SetError};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const IO_BUFFER: usize = 1 << 20;
const MAX_WIDTH: usize = 32;
/// Most runs merged at once (open files); more are first merged in groups of this many.
const MAX_FAN_IN: usize = 64;

/// What a build produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildStats {
    /// Digests given to `add`, duplicates included.
    pub added: u64,
    /// Distinct digests in the file.
    pub count: u64,
    /// Sorted runs written to disk and merged.
    pub runs: usize,
}

/// Collects digests of one algorithm and writes them as a set file.
pub struct Builder {
    algorithm: Algorithm,
    run_dir: PathBuf,
    run_capacity: usize,
    pending: Vec<u8>,
    /// Runs still to merge.
    runs: Vec<PathBuf>,
    /// Every run file this builder made, removed when it ends.
    made: Vec<PathBuf>,
    added: u64,
}

impl Builder {
    /// Runs go to `run_dir` (removed when the builder ends); memory holds at most
    /// `run_bytes` of digests (at least one digest).
    pub fn new(algorithm: Algorithm, run_dir: &Path, run_bytes: usize) -> Builder {
        let w = algorithm.width();
        Builder {
            algorithm,
            run_dir: run_dir.to_path_buf(),
            run_capacity: (run_bytes / w).max(1) * w,
            pending: Vec::new(),
            runs: Vec::new(),
            made: Vec::new(),
            added: 0,
        }
    }

    pub fn added(&self) -> u64 {
        self.added
    }

    /// Add raw digests laid end to end (a multiple of the algorithm's width).
    pub fn add(&mut self, digests: &[u8]) -> Result<(), SetError> {
        let w = self.algorithm.width();
        if !digests.len().is_multiple_of(w) {
            return Err(SetError::Argument(format!(
                "{} bytes is not a whole number of {}-byte {} digests",
                digests.len(),
                w,
                self.algorithm.name()
            )));
        }
        let mut rest = digests;
        while !rest.is_empty() {
            if self.pending.is_empty() {
                self.pending
                    .reserve_exact(self.run_capacity.min(rest.len().max(IO_BUFFER)));
            }
            let take = (self.run_capacity - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.run_capacity {
                self.spill()?;
            }
        }
        self.added += (digests.len() / w) as u64;
        Ok(())
    }

    /// Sort and deduplicate the buffer and write it as the next run.
    fn spill(&mut self) -> Result<(), SetError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let kept = sort_dedup(self.algorithm, &mut self.pending);
        let path = self.new_run();
        fs::write(&path, &self.pending[..kept * self.algorithm.width()]).map_err(SetError::io(&path))?;
        self.runs.push(path);
        self.pending.clear();
        Ok(())
    }

    fn new_run(&mut self) -> PathBuf {
        let path = self
            .run_dir
            .join(format!("{}-run-{:06}", self.algorithm.name(), self.made.len()));
        self.made.push(path.clone());
        path
    }

    /// Merge runs in groups until at most `MAX_FAN_IN` remain.
    fn reduce_runs(&mut self) -> Result<(), SetError> {
        while self.runs.len() > MAX_FAN_IN {
            let groups: Vec<Vec<PathBuf>> = self.runs.chunks(MAX_FAN_IN).map(<[PathBuf]>::to_vec).collect();
            self.runs.clear();
            for group in groups {
                let path = self.new_run();
                merge_to_run(self.algorithm, &group, &path)?;
                for run in &group {
                    fs::remove_file(run).map_err(SetError::io(run))?;
                }
                self.runs.push(path);
            }
        }
        Ok(())
    }

    /// Merge every run into the set file at `out` (written as `out`.partial, then
    /// renamed, so `out` is either absent or whole).
    pub fn finish(mut self, out: &Path) -> Result<BuildStats, SetError> {
        self.spill()?;
        self.pending = Vec::new();
        self.reduce_runs()?;
        let partial = PathBuf::from(format!("{}.partial", out.display()));
        let result = self.write(&partial).and_then(|count| {
            fs::rename(&partial, out).map_err(SetError::io(out))?;
            Ok(count)
        });
        if result.is_err() {
            let _ = fs::remove_file(&partial);
        }
        Ok(BuildStats {
            added: self.added,
            count: result?,
            runs: self.runs.len(),
        })
    }

    fn write(&self, partial: &Path) -> Result<u64, SetError> {
        let io = SetError::io(partial);
        let mut writer = BufWriter::with_capacity(IO_BUFFER, File::create(partial).map_err(&io)?);
        writer.write_all(&[0u8; HEADER_LEN]).map_err(&io)?;
        let count = merge_runs(self.algorithm, &self.runs, &mut writer, partial)?;
        let header = Header::for_count(self.algorithm, count);
        let digests_end = HEADER_LEN as u64 + count * self.algorithm.width() as u64;
        let index_at = header
            .index_at()
            .ok_or_else(|| SetError::Argument("too many digests".into()))?;
        writer
            .write_all(&vec![0u8; (index_at - digests_end) as usize])
            .map_err(&io)?;
        write_index(&header, partial, &mut writer)?;
        let mut file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(&io)?;
        file.write_all(&header.encode()).map_err(&io)?;
        file.sync_all().map_err(&io)?;
        Ok(count)
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        for run in &self.made {
            let _ = fs::remove_file(run);
        }
    }
}

/// Write the union of sorted runs in order, each digest once; returns how many.
fn merge_runs(
    algorithm: Algorithm,
    runs: &[PathBuf],
    writer: &mut impl Write,
    out: &Path,
) -> Result<u64, SetError> {
    let io = SetError::io(out);
    let w = algorithm.width();
    let per_run_buffer = (IO_BUFFER / runs.len().max(1)).max(64 << 10);
    let mut readers = Vec::with_capacity(runs.len());
    let mut heads = BinaryHeap::new();
    for (i, path) in runs.iter().enumerate() {
        let file = File::open(path).map_err(SetError::io(path))?;
        let mut reader = BufReader::with_capacity(per_run_buffer, file);
        if let Some(head) = next_digest(&mut reader, w).map_err(SetError::io(path))? {
            heads.push(Reverse((head, i)));
        }
        readers.push(reader);
    }
    let mut last: Option<[u8; MAX_WIDTH]> = None;
    let mut count = 0u64;
    while let Some(Reverse((digest, i))) = heads.pop() {
        if last != Some(digest) {
            writer.write_all(&digest[..w]).map_err(&io)?;
            last = Some(digest);
            count += 1;
        }
        let run = &runs[i];
        if let Some(head) = next_digest(&mut readers[i], w).map_err(SetError::io(run))? {
            heads.push(Reverse((head, i)));
        }
    }
    Ok(count)
}

/// Merge sorted runs into one longer run at `path`.
fn merge_to_run(algorithm: Algorithm, runs: &[PathBuf], path: &Path) -> Result<(), SetError> {
    let io = SetError::io(path);
    let mut writer = BufWriter::with_capacity(IO_BUFFER, File::create(path).map_err(&io)?);
    merge_runs(algorithm, runs, &mut writer, path)?;
    writer.flush().map_err(&io)
}

/// The next digest of a run, zero-padded to the widest (which keeps the order), or
/// None at its end.
fn next_digest(reader: &mut impl Read, width: usize) -> std::io::Result<Option<[u8; MAX_WIDTH]>> {
    let mut digest = [0u8; MAX_WIDTH];
    match reader.read_exact(&mut digest[..width]) {
        Ok(()) => Ok(Some(digest)),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Read the digests just written back in order and append the bucket index after them.
fn write_index(header: &Header, partial: &Path, writer: &mut impl Write) -> Result<(), SetError> {
    let io = SetError::io(partial);
    writer.flush().map_err(&io)?;
    let w = header.width();
    let mut file = File::open(partial).map_err(&io)?;
    file.seek(SeekFrom::Start(HEADER_LEN as u64)).map_err(&io)?;
    let mut reader = BufReader::with_capacity(IO_BUFFER, file);
    let mut digest = [0u8; MAX_WIDTH];
    let mut next_bucket = 0u64;
    for position in 0..header.count {
        reader.read_exact(&mut digest[..w]).map_err(&io)?;
        let bucket = bucket_of(&digest[..w], header.index_bits) as u64;
        while next_bucket <= bucket {
            writer.write_all(&position.to_le_bytes()).map_err(&io)?;
            next_bucket += 1;
        }
    }
    while next_bucket <= header.buckets() {
        writer.write_all(&header.count.to_le_bytes()).map_err(&io)?;
        next_bucket += 1;
    }
    writer.flush().map_err(&io)
}

/// Sort fixed-width digests in place and drop repeats; returns how many remain first.
fn sort_dedup(algorithm: Algorithm, buf: &mut [u8]) -> usize {
    match algorithm {
        Algorithm::Md5 => sort_dedup_records::<16>(buf),
        Algorithm::Sha1 => sort_dedup_records::<20>(buf),
        Algorithm::Sha256 => sort_dedup_records::<32>(buf),
    }
}

fn sort_dedup_records<const N: usize>(buf: &mut [u8]) -> usize {
    let (records, _) = buf.as_chunks_mut::<N>();
    records.sort_unstable();
    let mut kept = 0;
    for i in 0..records.len() {
        if kept == 0 || records[i] != records[kept - 1] {
            records[kept] = records[i];
            kept += 1;
        }
    }
    kept
}
