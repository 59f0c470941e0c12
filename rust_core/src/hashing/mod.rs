//! Digests of byte streams: MD5, SHA-1, SHA-256, SHA-512, BLAKE3 and CRC32, any subset
//! in one pass, optionally also per fixed window (piecewise hashing).
//!
//! `digest` hashes one buffer on the calling thread (artifacts); `ParallelHasher`
//! spreads the digests of a long stream (an image) over threads while the caller reads on.

mod algorithm;
mod lane;
mod md5;
mod parallel;

pub use algorithm::Algorithm;
pub use lane::WindowDigest;
pub use parallel::{ParallelHasher, Spec, CHUNK};

use lane::{Lane, Task};

/// A request the core cannot serve (unknown digest name, nothing asked for, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashError(pub String);

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HashError {}

/// Hex digests of one stream, in `Algorithm` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub length: u64,
    pub values: Vec<(Algorithm, String)>,
}

impl Digests {
    fn from_raw(length: u64, raw: Vec<(Algorithm, Vec<u8>)>) -> Self {
        let values = raw.into_iter().map(|(a, d)| (a, to_hex(&d))).collect();
        Digests { length, values }
    }

    pub fn get(&self, algorithm: Algorithm) -> Option<&str> {
        self.values
            .iter()
            .find(|(a, _)| *a == algorithm)
            .map(|(_, h)| h.as_str())
    }
}

/// What artifacts get unless asked otherwise.
pub const DEFAULT_ALGORITHMS: [Algorithm; 3] = [Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256];

/// Digests of one whole buffer, computed on the calling thread.
pub fn digest(data: &[u8], algorithms: &[Algorithm]) -> Digests {
    let mut lane = Lane::default();
    let mut wanted = algorithms.to_vec();
    wanted.sort();
    wanted.dedup();
    for a in wanted {
        lane.push(Task::whole(a));
    }
    lane.update(data);
    Digests::from_raw(data.len() as u64, lane.report(true).whole)
}

pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Digests {
        digest(data, &Algorithm::ALL)
    }

    // Published answers for the standard test strings (RFC 1321, FIPS 180 examples,
    // the BLAKE3 paper's empty input, the CRC-32 check value of "123456789").
    #[test]
    fn known_answers() {
        let d = all(b"");
        assert_eq!(d.get(Algorithm::Md5), Some("d41d8cd98f00b204e9800998ecf8427e"));
        assert_eq!(
            d.get(Algorithm::Sha1),
            Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")
        );
        assert_eq!(
            d.get(Algorithm::Blake3),
            Some("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")
        );
        let d = all(b"abc");
        assert_eq!(
            d.get(Algorithm::Sha256),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            d.get(Algorithm::Sha512),
            Some(
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                 2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
            )
        );
        assert_eq!(
            digest(b"123456789", &[Algorithm::Crc32]).get(Algorithm::Crc32),
            Some("cbf43926")
        );
    }

    // The BLAKE3 team's published vectors (first 32 bytes): input byte i is i % 251.
    #[test]
    fn blake3_published_vectors() {
        let cases = [
            (
                1usize,
                "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
            ),
            (
                1024,
                "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7",
            ),
            (
                1025,
                "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444",
            ),
            (
                4097,
                "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995",
            ),
            (
                7169,
                "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817",
            ),
        ];
        for (len, want) in cases {
            let input: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            assert_eq!(
                digest(&input, &[Algorithm::Blake3]).get(Algorithm::Blake3),
                Some(want),
                "{len}"
            );
        }
    }

    #[test]
    fn names_parse_loosely_and_unknown_ones_are_named() {
        assert_eq!(Algorithm::parse("SHA-256"), Ok(Algorithm::Sha256));
        let err = Algorithm::parse("sha3").unwrap_err();
        assert!(err.0.contains("\"sha3\""), "{err}");
    }

    fn pseudo(len: usize) -> Vec<u8> {
        (0..len as u64)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect()
    }

    #[test]
    fn parallel_equals_one_shot_for_any_thread_count_and_feeding() {
        let data = pseudo(3 * CHUNK + 12_345);
        let want = all(&data);
        for threads in [1, 2, 5] {
            for cut in [0usize, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 7] {
                let spec = Spec {
                    algorithms: Algorithm::ALL.to_vec(),
                    window_size: 0,
                    window_algorithms: vec![],
                    threads,
                };
                let mut h = ParallelHasher::new(&spec).unwrap();
                h.update(&data[..cut]).unwrap();
                h.update(&data[cut..]).unwrap();
                assert_eq!(h.finish().unwrap().0, want, "threads {threads} cut {cut}");
            }
        }
    }

    #[test]
    fn windows_equal_hashing_each_slice() {
        let data = pseudo(5 * 1000 + 17);
        let spec = Spec {
            algorithms: vec![Algorithm::Md5],
            window_size: 1000,
            window_algorithms: vec![Algorithm::Sha256, Algorithm::Crc32],
            threads: 2,
        };
        let mut h = ParallelHasher::new(&spec).unwrap();
        for piece in data.chunks(333) {
            h.update(piece).unwrap();
        }
        let (_, mut windows) = h.snapshot().unwrap();
        assert_eq!(windows.len(), 10, "five closed windows, two digests each");
        windows.extend(h.finish().unwrap().1);
        assert_eq!(windows.len(), 12);
        for w in windows {
            let start = w.index as usize * 1000;
            let slice = &data[start..(start + 1000).min(data.len())];
            assert_eq!(w.length as usize, slice.len());
            assert_eq!(to_hex(&w.digest), digest(slice, &[w.algorithm]).values[0].1);
        }
        assert!(h.update(b"more").is_err(), "a finished hasher refuses more data");
    }

    #[test]
    fn nothing_asked_is_refused() {
        let spec = Spec {
            algorithms: vec![],
            window_size: 0,
            window_algorithms: vec![],
            threads: 0,
        };
        assert!(ParallelHasher::new(&spec).is_err());
    }
}
