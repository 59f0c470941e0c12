//! The on-disk layout of a hash set file, encoded and decoded in this one place.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "QRYHSET\0"
//!      8     4  format version, u32 LE (1)
//!     12     1  algorithm: 1 md5, 2 sha1, 3 sha256
//!     13     1  digest width in bytes (16, 20, 32)
//!     14     1  index bits b: the index has 2^b buckets, by a digest's top b bits
//!     15     1  zero
//!     16     8  count of digests, u64 LE
//!     24     8  offset of the digests, u64 LE (64)
//!     32     8  offset of the index, u64 LE (end of the digests, rounded up to 8)
//!     40    24  zero
//!     64        the digests: count x width bytes, sorted ascending, unique
//!  index        2^b + 1 entries, u64 LE: entry i = position of the first digest whose
//!               top b bits are >= i (so bucket i is [entry i, entry i+1))
//! ```
//!
//! Buckets hold 8 to 16 digests on average, so the index costs at most one byte per
//! digest (8 bytes per bucket) and a lookup searches a few hundred contiguous bytes.

use super::Algorithm;

pub const MAGIC: [u8; 8] = *b"QRYHSET\0";
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 64;
/// Average digests per bucket that the index aims for (between this and twice it).
const DIGESTS_PER_BUCKET: u64 = 8;
const MAX_INDEX_BITS: u8 = 32;

/// The fields of a set file's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub algorithm: Algorithm,
    pub index_bits: u8,
    pub count: u64,
}

fn algorithm_id(a: Algorithm) -> u8 {
    match a {
        Algorithm::Md5 => 1,
        Algorithm::Sha1 => 2,
        Algorithm::Sha256 => 3,
    }
}

fn algorithm_from_id(id: u8) -> Option<Algorithm> {
    Algorithm::ALL.into_iter().find(|a| algorithm_id(*a) == id)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl Header {
    /// A header for `count` digests, with the index sized for that count.
    pub fn for_count(algorithm: Algorithm, count: u64) -> Header {
        Header {
            algorithm,
            index_bits: index_bits_for(count),
            count,
        }
    }

    pub fn width(&self) -> usize {
        self.algorithm.width()
    }

    /// Where the index starts (the end of the digests, 8-aligned); None if it overflows.
    pub fn index_at(&self) -> Option<u64> {
        let digests = self.count.checked_mul(self.width() as u64)?;
        let end = digests.checked_add(HEADER_LEN as u64)?;
        end.checked_next_multiple_of(8)
    }

    pub fn buckets(&self) -> u64 {
        1u64 << self.index_bits
    }

    /// The whole file's length; None if it overflows.
    pub fn file_len(&self) -> Option<u64> {
        self.index_at()?.checked_add((self.buckets() + 1) * 8)
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[12] = algorithm_id(self.algorithm);
        out[13] = self.width() as u8;
        out[14] = self.index_bits;
        out[16..24].copy_from_slice(&self.count.to_le_bytes());
        out[24..32].copy_from_slice(&(HEADER_LEN as u64).to_le_bytes());
        // Encoded headers come from `for_count`, whose sizes fit in u64 for any real count.
        out[32..40].copy_from_slice(&self.index_at().unwrap_or(u64::MAX).to_le_bytes());
        out
    }

    /// The header at the start of `bytes`, or the problem with it.
    pub fn decode(bytes: &[u8]) -> Result<Header, String> {
        if bytes.len() < HEADER_LEN {
            return Err(format!(
                "{} bytes is shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        }
        if bytes[0..8] != MAGIC {
            return Err("wrong magic (not a Quarry hash set)".into());
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != FORMAT_VERSION {
            return Err(format!(
                "format version {version}, this build reads {FORMAT_VERSION}"
            ));
        }
        let algorithm =
            algorithm_from_id(bytes[12]).ok_or_else(|| format!("unknown algorithm id {}", bytes[12]))?;
        if bytes[13] as usize != algorithm.width() {
            return Err(format!(
                "digest width {} does not fit {}",
                bytes[13],
                algorithm.name()
            ));
        }
        let index_bits = bytes[14];
        if index_bits > MAX_INDEX_BITS {
            return Err(format!("index bits {index_bits} above {MAX_INDEX_BITS}"));
        }
        let header = Header {
            algorithm,
            index_bits,
            count: u64_at(bytes, 16),
        };
        if u64_at(bytes, 24) != HEADER_LEN as u64 {
            return Err(format!(
                "digests at offset {}, expected {HEADER_LEN}",
                u64_at(bytes, 24)
            ));
        }
        let index_at = header.index_at().ok_or("digest count overflows")?;
        if u64_at(bytes, 32) != index_at {
            return Err(format!(
                "index at offset {}, expected {index_at}",
                u64_at(bytes, 32)
            ));
        }
        header.file_len().ok_or("file length overflows")?;
        Ok(header)
    }
}

/// Index bits that give 8 to 16 digests per bucket on average.
pub fn index_bits_for(count: u64) -> u8 {
    let buckets = count / DIGESTS_PER_BUCKET;
    if buckets < 2 {
        return 0;
    }
    ((63 - buckets.leading_zeros()) as u8).min(MAX_INDEX_BITS)
}

/// The bucket of a digest: its top `bits` bits (digests are at least 16 bytes).
#[inline]
pub fn bucket_of(digest: &[u8], bits: u8) -> usize {
    if bits == 0 {
        return 0;
    }
    let mut top = [0u8; 8];
    top.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(top) >> (64 - u32::from(bits))) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        for a in Algorithm::ALL {
            for count in [0, 1, 15, 16, 17, 1000, 50_000_000] {
                let h = Header::for_count(a, count);
                assert_eq!(Header::decode(&h.encode()), Ok(h));
                assert_eq!(h.index_at().map(|at| at % 8), Some(0));
            }
        }
    }

    #[test]
    fn buckets_hold_eight_to_sixteen_digests() {
        assert_eq!(index_bits_for(0), 0);
        assert_eq!(index_bits_for(15), 0);
        assert_eq!(index_bits_for(16), 1);
        for count in [1000u64, 1 << 20, 50_000_000, 1 << 33] {
            let per_bucket = count as f64 / (1u64 << index_bits_for(count)) as f64;
            assert!((8.0..16.0).contains(&per_bucket), "{count}: {per_bucket}");
        }
    }

    #[test]
    fn bucket_is_the_top_bits() {
        let mut d = [0u8; 16];
        d[0] = 0b1011_0000;
        assert_eq!(bucket_of(&d, 0), 0);
        assert_eq!(bucket_of(&d, 1), 1);
        assert_eq!(bucket_of(&d, 4), 0b1011);
        d = [0xff; 16];
        assert_eq!(bucket_of(&d, 32), u32::MAX as usize);
    }

    #[test]
    fn damaged_headers_say_what_is_wrong() {
        let good = Header::for_count(Algorithm::Sha1, 100).encode();
        let cases: [(usize, u8, &str); 5] = [
            (0, b'X', "magic"),
            (8, 9, "format version"),
            (12, 7, "algorithm id"),
            (13, 32, "width"),
            (14, 40, "index bits"),
        ];
        for (at, value, problem) in cases {
            let mut bad = good;
            bad[at] = value;
            let err = Header::decode(&bad).unwrap_err();
            assert!(err.contains(problem), "{err}");
        }
        assert!(Header::decode(&good[..10]).unwrap_err().contains("shorter"));
        let mut huge = good;
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Header::decode(&huge).unwrap_err().contains("overflow"));
    }
}
