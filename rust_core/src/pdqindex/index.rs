//! An open index: the file mapped read-only, searched by multi-index hashing or by a
//! linear scan, over threads.

use super::format::{Header, Layout, Table, HEADER_LEN};
use super::{distance, Chunks, Pdq, PdqError, BITS, WIDTH};
use memmap2::Mmap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Queries a thread takes at a time.
const BLOCK: usize = 256;
/// A linear scan reads hashes in order, which costs about this many times less per hash
/// than the random reads of MIH (bucket offsets, ids, hashes); `Method::Auto` weighs them so.
const LINEAR_ADVANTAGE: f64 = 16.0;
/// Most chunk values one query may look up by MIH (a threshold above that scans).
const MAX_PROBES: u64 = 1 << 22;

/// How to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// MIH or a linear scan, whichever the index's cost estimate finds cheaper for the
    /// threshold and the list's size.
    Auto,
    /// Multi-index hashing, always (an error where the threshold needs too many lookups).
    Mih,
    /// Compare every query with every hash: the brute-force reference.
    Linear,
}

impl Method {
    pub fn from_name(name: &str) -> Option<Method> {
        match name {
            "auto" => Some(Method::Auto),
            "mih" => Some(Method::Mih),
            "linear" => Some(Method::Linear),
            _ => None,
        }
    }
}

/// A list entry within the threshold of a query: the query's position in the batch, the
/// entry's number in the index, and their Hamming distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Match {
    pub query: u32,
    pub entry: u32,
    pub distance: u32,
}

/// What one search does for every query of a batch.
struct Plan {
    threshold: u32,
    /// Per chunk: the flips to apply to the query's chunk value (every value of at most
    /// the chunk's radius bits), or None where the chunk is not searched. Empty: scan.
    flips: Vec<Option<Vec<u32>>>,
    radii: Vec<Option<u32>>,
    linear: bool,
}

/// One query's lookups between MIH's passes: (chunk, bucket), (chunk, first, end) of the
/// non-empty buckets, (chunk, entry) of the candidates.
#[derive(Default)]
struct Scratch {
    keys: Vec<(u32, u32)>,
    ranges: Vec<(u32, u32, u32)>,
    candidates: Vec<(u32, u32)>,
}

/// A PDQ index file opened for searches. The mapping is shared by every process that opens
/// the same file; pages come in as searches touch them.
pub struct PdqIndex {
    map: Mmap,
    path: PathBuf,
    header: Header,
    chunks: Chunks,
    layout: Layout,
    n: usize,
}

/// All values of `width` bits with at most `radius` bits set, fewest bits first.
pub(super) fn flips(width: u32, radius: u32) -> Vec<u32> {
    let mut out = vec![0u32];
    for k in 1..=radius.min(width) {
        // Gosper's hack: each next value with k bits set, in increasing order.
        let mut v: u64 = (1u64 << k) - 1;
        while v < (1u64 << width) {
            out.push(v as u32);
            let c = v & v.wrapping_neg();
            let r = v + c;
            v = (((r ^ v) >> 2) / c) | r;
        }
    }
    out
}

/// How many values of `width` bits have at most `radius` bits set (saturating).
pub(super) fn ball(width: u32, radius: u32) -> u64 {
    let mut total = 0u64;
    let mut term = 1u64; // C(width, k)
    for k in 0..=radius.min(width) {
        total = total.saturating_add(term);
        term = term.saturating_mul(u64::from(width - k)) / u64::from(k + 1);
    }
    total
}

impl PdqIndex {
    /// Map `path` and check its header and size (the order of its contents is checked by
    /// `verify`, in one pass; searching a damaged file gives wrong answers, never a crash).
    pub fn open(path: &Path) -> Result<PdqIndex, PdqError> {
        let corrupt = |problem: String| PdqError::Corrupt {
            path: path.to_path_buf(),
            problem,
        };
        let file = File::open(path).map_err(PdqError::io(path))?;
        // SAFETY: index files are written under a temporary name, renamed into place and
        // never modified after; the mapping is read-only.
        let map = unsafe { Mmap::map(&file) }.map_err(PdqError::io(path))?;
        let (header, chunks, layout) = Header::decode(&map).map_err(corrupt)?;
        if layout.file_len != map.len() {
            return Err(corrupt(format!(
                "{} bytes, but the header's counts need {}",
                map.len(),
                layout.file_len
            )));
        }
        #[cfg(unix)]
        map.advise(memmap2::Advice::Random).map_err(PdqError::io(path))?;
        Ok(PdqIndex {
            n: header.count as usize,
            map,
            path: path.to_path_buf(),
            header,
            chunks,
            layout,
        })
    }

    pub fn count(&self) -> u64 {
        self.header.count
    }

    pub fn chunks(&self) -> usize {
        self.chunks.len()
    }

    pub fn label_count(&self) -> u64 {
        self.header.labels
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    #[inline(always)]
    fn u32_at(&self, at: usize) -> u32 {
        let mut word = [0u8; 4];
        word.copy_from_slice(&self.map[at..at + 4]);
        u32::from_le_bytes(word)
    }

    #[inline(always)]
    fn u64_at(&self, at: usize) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.map[at..at + 8]);
        u64::from_le_bytes(word)
    }

    /// Entry `i`'s hash (i below the count).
    #[inline(always)]
    fn hash_at(&self, i: usize) -> Pdq {
        let at = HEADER_LEN + i * WIDTH;
        [
            self.u64_at(at),
            self.u64_at(at + 8),
            self.u64_at(at + 16),
            self.u64_at(at + 24),
        ]
    }

    /// Entry `entry`'s hash, or None past the end.
    pub fn hash(&self, entry: u64) -> Option<Pdq> {
        (entry < self.header.count).then(|| self.hash_at(entry as usize))
    }

    /// Entry `entry`'s label.
    pub fn label(&self, entry: u64) -> Result<&str, PdqError> {
        if entry >= self.header.count {
            return Err(PdqError::Argument(format!(
                "entry {entry} is past the index's {} entries",
                self.header.count
            )));
        }
        let id = self.u32_at(self.layout.label_ids_at + 4 * entry as usize);
        self.label_text(u64::from(id))
    }

    /// Label number `id` (labels are numbered in sorted order).
    pub fn label_text(&self, id: u64) -> Result<&str, PdqError> {
        let corrupt = |problem: String| PdqError::Corrupt {
            path: self.path.clone(),
            problem,
        };
        if id >= self.header.labels {
            return Err(corrupt(format!(
                "label id {id} is past the {} labels",
                self.header.labels
            )));
        }
        let at = self.layout.label_offsets_at + 8 * id as usize;
        let (start, end) = (self.u64_at(at), self.u64_at(at + 8));
        let text = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(s, e)| {
                self.map
                    .get(self.layout.label_text_at + s..self.layout.label_text_at + e)
            })
            .ok_or_else(|| corrupt(format!("label {id} lies outside the file")))?;
        std::str::from_utf8(text).map_err(|_| corrupt(format!("label {id} is not UTF-8")))
    }

    /// Bucket `key`'s range of positions in chunk table `t`, clamped to the entries.
    #[inline(always)]
    fn bucket(&self, t: &Table, key: usize) -> (usize, usize) {
        let at = t.offsets_at + key * 4;
        let hi = (self.u32_at(at + 4) as usize).min(self.n);
        let lo = (self.u32_at(at) as usize).min(hi);
        (lo, hi)
    }

    fn plan(&self, threshold: u32, method: Method) -> Result<Plan, PdqError> {
        let radii = self.chunks.radii(threshold);
        let probes: Vec<u64> = radii
            .iter()
            .enumerate()
            .map(|(i, r)| r.map_or(0, |r| ball(self.chunks.width(i), r)))
            .collect();
        let total: u64 = probes.iter().sum();
        let n = self.n as f64;
        let mih_cost: f64 = probes
            .iter()
            .enumerate()
            .map(|(i, &p)| p as f64 * (2.0 + n / (1u64 << self.chunks.width(i)) as f64))
            .sum();
        let linear = match method {
            Method::Linear => true,
            Method::Auto => threshold >= BITS || total > MAX_PROBES || mih_cost * LINEAR_ADVANTAGE > n,
            Method::Mih if total > MAX_PROBES => {
                return Err(PdqError::Argument(format!(
                    "threshold {threshold} needs {total} lookups per query by MIH; search it linearly"
                )))
            }
            Method::Mih => false,
        };
        let flips = if linear {
            Vec::new()
        } else {
            radii
                .iter()
                .enumerate()
                .map(|(i, r)| r.map(|r| flips(self.chunks.width(i), r)))
                .collect()
        };
        Ok(Plan {
            threshold,
            flips,
            radii,
            linear,
        })
    }

    /// Every (query, entry) pair within `threshold`, sorted by query then entry, searched
    /// over `threads` threads (0: one per core).
    pub fn search(
        &self,
        queries: &[Pdq],
        threshold: u32,
        method: Method,
        threads: usize,
    ) -> Result<Vec<Match>, PdqError> {
        if queries.len() > u32::MAX as usize {
            return Err(PdqError::Argument(format!(
                "{} queries: at most 2^32 - 1 at once",
                queries.len()
            )));
        }
        let plan = self.plan(threshold, method)?;
        let blocks = queries.len().div_ceil(BLOCK);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = if threads == 0 { cores } else { threads }.min(blocks).max(1);
        let next = AtomicUsize::new(0);
        let work = || {
            let mut found = Vec::new();
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= blocks {
                    return found;
                }
                let start = b * BLOCK;
                let end = (start + BLOCK).min(queries.len());
                self.block(&queries[start..end], start as u32, &plan, &mut found);
            }
        };
        let mut found = if threads == 1 {
            work()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
                let mut all = Vec::new();
                for h in handles {
                    match h.join() {
                        Ok(part) => all.extend(part),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
                all
            })
        };
        found.sort_unstable();
        Ok(found)
    }

    /// One block of queries, with popcnt where the CPU has it.
    fn block(&self, queries: &[Pdq], first: u32, plan: &Plan, out: &mut Vec<Match>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports popcnt, checked just above.
            unsafe { self.block_popcnt(queries, first, plan, out) };
            return;
        }
        self.block_body(queries, first, plan, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn block_popcnt(&self, queries: &[Pdq], first: u32, plan: &Plan, out: &mut Vec<Match>) {
        self.block_body(queries, first, plan, out);
    }

    #[inline(always)]
    fn block_body(&self, queries: &[Pdq], first: u32, plan: &Plan, out: &mut Vec<Match>) {
        if plan.linear {
            self.scan(queries, first, plan.threshold, out);
        } else {
            let mut scratch = Scratch::default();
            for (k, q) in queries.iter().enumerate() {
                self.mih(q, first + k as u32, plan, &mut scratch, out);
            }
        }
    }

    /// Compare every query of the block with every hash, reading each hash once per block.
    #[inline(always)]
    fn scan(&self, queries: &[Pdq], first: u32, threshold: u32, out: &mut Vec<Match>) {
        for entry in 0..self.n {
            let h = self.hash_at(entry);
            for (k, q) in queries.iter().enumerate() {
                let d = distance(&h, q);
                if d <= threshold {
                    out.push(Match {
                        query: first + k as u32,
                        entry: entry as u32,
                        distance: d,
                    });
                }
            }
        }
    }

    /// One query by multi-index hashing: look up every chunk value within the chunk's
    /// radius, check the full distance of what the buckets hold, and report an entry only
    /// from the first chunk that finds it.
    ///
    /// A query's reads (bucket offsets, then ids, then hashes) are scattered over the
    /// whole file, so each costs a cache and TLB miss; they go in three passes, each
    /// prefetching all of its reads before using them, so that their misses overlap.
    #[inline(always)]
    fn mih(&self, q: &Pdq, query: u32, plan: &Plan, scratch: &mut Scratch, out: &mut Vec<Match>) {
        scratch.keys.clear();
        scratch.ranges.clear();
        scratch.candidates.clear();
        for (i, flips) in plan.flips.iter().enumerate() {
            let Some(flips) = flips else { continue };
            let value = self.chunks.value(q, i);
            let table = &self.layout.tables[i];
            for &flip in flips {
                let key = (value ^ flip) as usize;
                self.prefetch(table.offsets_at + key * 4);
                scratch.keys.push((i as u32, key as u32));
            }
        }
        for &(i, key) in &scratch.keys {
            let table = &self.layout.tables[i as usize];
            let (lo, hi) = self.bucket(table, key as usize);
            if lo < hi {
                if let Some(ids_at) = table.ids_at {
                    self.prefetch(ids_at + 4 * lo);
                }
                scratch.ranges.push((i, lo as u32, hi as u32));
            }
        }
        for &(i, lo, hi) in &scratch.ranges {
            let table = &self.layout.tables[i as usize];
            for p in lo as usize..hi as usize {
                let entry = match table.ids_at {
                    None => p,
                    Some(ids_at) => self.u32_at(ids_at + 4 * p) as usize,
                };
                if entry < self.n {
                    self.prefetch(HEADER_LEN + WIDTH * entry);
                    scratch.candidates.push((i, entry as u32));
                }
            }
        }
        for &(i, entry) in &scratch.candidates {
            let h = self.hash_at(entry as usize);
            let d = distance(&h, q);
            if d > plan.threshold {
                continue;
            }
            let x = [h[0] ^ q[0], h[1] ^ q[1], h[2] ^ q[2], h[3] ^ q[3]];
            let seen = plan.radii[..i as usize]
                .iter()
                .enumerate()
                .any(|(j, r)| r.is_some_and(|r| self.chunks.distance_in(&x, j) <= r));
            if !seen {
                out.push(Match {
                    query,
                    entry,
                    distance: d,
                });
            }
        }
    }

    /// A hint to bring the byte at `at` into the cache; never faults, nothing off x86-64.
    #[inline(always)]
    fn prefetch(&self, at: usize) {
        #[cfg(target_arch = "x86_64")]
        if at < self.map.len() {
            // SAFETY: a prefetch is only a hint; it never dereferences or faults, and the
            // address lies inside the mapping anyway.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>(self.map.as_ptr().add(at).cast::<i8>());
            }
        }
    }

    /// Check in one pass per part that the file is what the builder writes: entries
    /// strictly ascending, label ids and labels in range and sorted, every chunk table's
    /// buckets spanning the entries with each id in its bucket.
    pub fn verify(&self) -> Result<(), PdqError> {
        let corrupt = |problem: String| PdqError::Corrupt {
            path: self.path.clone(),
            problem,
        };
        let label_id = |i: usize| self.u32_at(self.layout.label_ids_at + 4 * i);
        for i in 0..self.n {
            if u64::from(label_id(i)) >= self.header.labels {
                return Err(corrupt(format!(
                    "entry {i} has label id {} past the labels",
                    label_id(i)
                )));
            }
            if i > 0 && (self.hash_at(i - 1), label_id(i - 1)) >= (self.hash_at(i), label_id(i)) {
                return Err(corrupt(format!("entry {i} is not above the one before it")));
            }
        }
        let mut previous: Option<&str> = None;
        for id in 0..self.header.labels {
            let label = self.label_text(id)?;
            if previous.is_some_and(|p| p >= label) {
                return Err(corrupt(format!("label {id} is not above the one before it")));
            }
            previous = Some(label);
        }
        for (i, table) in self.layout.tables.iter().enumerate() {
            let offset = |b: usize| self.u32_at(table.offsets_at + 4 * b) as usize;
            if offset(0) != 0 || offset(table.buckets) != self.n {
                return Err(corrupt(format!("chunk {i}'s buckets do not span the entries")));
            }
            for b in 0..table.buckets {
                let (lo, hi) = (offset(b), offset(b + 1));
                if lo > hi {
                    return Err(corrupt(format!("chunk {i}'s bucket {b} ends before it starts")));
                }
                let mut last = None;
                for p in lo..hi {
                    let entry = match table.ids_at {
                        None => p,
                        Some(at) => self.u32_at(at + 4 * p) as usize,
                    };
                    if entry >= self.n || last.is_some_and(|l| l >= entry) {
                        return Err(corrupt(format!(
                            "chunk {i}'s bucket {b} lists entries out of order"
                        )));
                    }
                    if self.chunks.value(&self.hash_at(entry), i) as usize != b {
                        return Err(corrupt(format!(
                            "entry {entry} lies outside its bucket of chunk {i}"
                        )));
                    }
                    last = Some(entry);
                }
            }
        }
        Ok(())
    }
}
