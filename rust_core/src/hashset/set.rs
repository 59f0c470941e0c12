//! An open hash set: the file mapped read-only, looked up by bucket and binary search.

use super::format::{bucket_of, Header, HEADER_LEN};
use super::{Algorithm, SetError};
use memmap2::Mmap;
use std::cmp::Ordering;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Lookups `contains_many` runs together, prefetching their memory before searching.
const GROUP: usize = 32;
/// Buckets fuller than this (only in sets of non-uniform digests) are binary searched.
const MAX_STEPPED_BUCKET: usize = 64;

/// A hint to bring `bytes[at]` into the cache; never faults, does nothing off x86-64.
#[inline]
fn prefetch(bytes: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if at < bytes.len() {
        // SAFETY: a prefetch is only a hint; it never dereferences or faults, and the
        // address lies inside the mapping anyway.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().add(at).cast::<i8>());
        }
    }
}

/// A set file opened for lookups. The mapping is shared by every process that opens
/// the same file, and pages come in as lookups touch them.
pub struct HashSet {
    map: Mmap,
    path: PathBuf,
    header: Header,
    index_at: usize,
}

impl HashSet {
    /// Map `path` and check its header and index (not yet the order of its digests;
    /// `verify` does that in one pass).
    pub fn open(path: &Path) -> Result<HashSet, SetError> {
        let corrupt = |problem: String| SetError::Corrupt {
            path: path.to_path_buf(),
            problem,
        };
        let file = File::open(path).map_err(SetError::io(path))?;
        // SAFETY: set files are written under a temporary name, renamed into place and
        // never modified after; the mapping is read-only.
        let map = unsafe { Mmap::map(&file) }.map_err(SetError::io(path))?;
        let header = Header::decode(&map).map_err(corrupt)?;
        let (index_at, file_len) = match (header.index_at(), header.file_len()) {
            (Some(at), Some(len)) => (at, len),
            _ => return Err(corrupt("sizes overflow".into())),
        };
        if file_len != map.len() as u64 {
            return Err(corrupt(format!(
                "{} bytes, but the header's count {} needs {file_len}",
                map.len(),
                header.count
            )));
        }
        let set = HashSet {
            map,
            path: path.to_path_buf(),
            header,
            index_at: index_at as usize,
        };
        set.check_index().map_err(corrupt)?;
        #[cfg(unix)]
        set.map
            .advise(memmap2::Advice::Random)
            .map_err(SetError::io(path))?;
        Ok(set)
    }

    fn check_index(&self) -> Result<(), String> {
        let buckets = self.header.buckets() as usize;
        if self.slot(0) != 0 || self.slot(buckets) as u64 != self.header.count {
            return Err("index does not span the digests".into());
        }
        for b in 0..buckets {
            if self.slot(b) > self.slot(b + 1) {
                return Err(format!("index entry {} goes backwards", b + 1));
            }
        }
        Ok(())
    }

    pub fn algorithm(&self) -> Algorithm {
        self.header.algorithm
    }

    pub fn count(&self) -> u64 {
        self.header.count
    }

    pub fn index_bits(&self) -> u8 {
        self.header.index_bits
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the whole file (digests, index and header).
    pub fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    fn digests(&self) -> &[u8] {
        &self.map[HEADER_LEN..HEADER_LEN + self.header.count as usize * self.header.width()]
    }

    /// Index entry `b`: where bucket `b` starts (bucket count: where the last one ends).
    #[inline]
    fn slot(&self, b: usize) -> usize {
        let at = self.index_at + b * 8;
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.map[at..at + 8]);
        u64::from_le_bytes(word) as usize
    }

    fn check_width(&self, len: usize) -> Result<(), SetError> {
        if len == self.header.width() {
            return Ok(());
        }
        Err(SetError::Argument(format!(
            "a {} digest is {} bytes, got {len}",
            self.algorithm().name(),
            self.header.width()
        )))
    }

    /// Whether the set holds `digest` (raw bytes of this set's width).
    pub fn contains(&self, digest: &[u8]) -> Result<bool, SetError> {
        self.check_width(digest.len())?;
        Ok(self.find(digest))
    }

    #[inline]
    fn find(&self, digest: &[u8]) -> bool {
        let (lo, hi) = self.bucket(digest);
        self.search(digest, lo, hi, self.guess(digest, lo, hi))
    }

    /// Where the bucket of `digest` starts and ends.
    #[inline]
    fn bucket(&self, digest: &[u8]) -> (usize, usize) {
        let b = bucket_of(digest, self.header.index_bits);
        (self.slot(b), self.slot(b + 1))
    }

    /// Where `digest` would lie in [lo, hi) if the bucket's digests were evenly spread,
    /// which uniform digests nearly are: the bits below the bucket's scale the range.
    #[inline]
    fn guess(&self, digest: &[u8], lo: usize, hi: usize) -> usize {
        let mut top = [0u8; 8];
        top.copy_from_slice(&digest[..8]);
        let below = u64::from_be_bytes(top) << self.header.index_bits;
        lo + ((u128::from(below) * (hi - lo) as u128) >> 64) as usize
    }

    /// Whether `digest` is in [lo, hi): step from the guess while the order says to go
    /// on (a step or two for uniform digests); binary search in an unusually full bucket.
    #[inline]
    fn search(&self, digest: &[u8], lo: usize, hi: usize, guess: usize) -> bool {
        let w = self.header.width();
        let digests = self.digests();
        let at = |i: usize| &digests[i * w..i * w + w];
        if hi - lo > MAX_STEPPED_BUCKET {
            let (mut lo, mut hi) = (lo, hi);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match at(mid).cmp(digest) {
                    Ordering::Less => lo = mid + 1,
                    Ordering::Greater => hi = mid,
                    Ordering::Equal => return true,
                }
            }
            return false;
        }
        if lo == hi {
            return false;
        }
        let mut i = guess;
        match at(i).cmp(digest) {
            Ordering::Equal => true,
            Ordering::Less => {
                i += 1;
                while i < hi {
                    match at(i).cmp(digest) {
                        Ordering::Less => i += 1,
                        Ordering::Equal => return true,
                        Ordering::Greater => return false,
                    }
                }
                false
            }
            Ordering::Greater => {
                while i > lo {
                    i -= 1;
                    match at(i).cmp(digest) {
                        Ordering::Greater => {}
                        Ordering::Equal => return true,
                        Ordering::Less => return false,
                    }
                }
                false
            }
        }
    }

    /// Look up digests laid end to end; `found[i]` becomes 1 where digest i is in the
    /// set, else 0. Returns how many were found. Lookups go in groups whose index
    /// entries, then digests, are prefetched together, so their memory reads overlap.
    pub fn contains_many(&self, digests: &[u8], found: &mut [u8]) -> Result<usize, SetError> {
        let w = self.header.width();
        if !digests.len().is_multiple_of(w) || digests.len() / w != found.len() {
            return Err(SetError::Argument(format!(
                "{} bytes is not {} {} digests of {w} bytes",
                digests.len(),
                found.len(),
                self.algorithm().name()
            )));
        }
        let mut hits = 0;
        let mut buckets = [0usize; GROUP];
        let mut spans = [(0usize, 0usize, 0usize); GROUP];
        for (group, out) in digests.chunks(GROUP * w).zip(found.chunks_mut(GROUP)) {
            for (j, digest) in group.chunks_exact(w).enumerate() {
                buckets[j] = bucket_of(digest, self.header.index_bits);
                prefetch(&self.map, self.index_at + buckets[j] * 8);
            }
            for (j, digest) in group.chunks_exact(w).enumerate() {
                let (lo, hi) = (self.slot(buckets[j]), self.slot(buckets[j] + 1));
                let guess = self.guess(digest, lo, hi);
                prefetch(&self.map, HEADER_LEN + guess * w);
                spans[j] = (lo, hi, guess);
            }
            for ((digest, slot), &(lo, hi, guess)) in group.chunks_exact(w).zip(out.iter_mut()).zip(&spans) {
                let hit = self.search(digest, lo, hi, guess);
                *slot = u8::from(hit);
                hits += usize::from(hit);
            }
        }
        Ok(hits)
    }

    /// Check in one pass that the digests are strictly ascending and each lies in its
    /// bucket, so every lookup gives the right answer.
    pub fn verify(&self) -> Result<(), SetError> {
        let w = self.header.width();
        let bits = self.header.index_bits;
        let digests = self.digests();
        let mut bucket = 0;
        for (i, digest) in digests.chunks_exact(w).enumerate() {
            if i > 0 && digests[(i - 1) * w..i * w] >= *digest {
                return Err(self.corrupt(format!("digest {i} is not above the one before it")));
            }
            while self.slot(bucket + 1) <= i {
                bucket += 1;
            }
            if bucket_of(digest, bits) != bucket {
                return Err(self.corrupt(format!("digest {i} lies outside its index bucket")));
            }
        }
        Ok(())
    }

    fn corrupt(&self, problem: String) -> SetError {
        SetError::Corrupt {
            path: self.path.clone(),
            problem,
        }
    }
}
