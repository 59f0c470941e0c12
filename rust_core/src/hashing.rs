//! MD5, SHA-1 and SHA-256 of a byte stream in one pass.
//!
//! The stream is fed in blocks small enough to stay in L2 cache while every digest
//! consumes them, so the data is read from memory once whatever the number of digests.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Bytes handed to each digest in turn before moving on (fits in L2 with room to spare).
const BLOCK: usize = 64 * 1024;

/// Hex digests of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub length: u64,
}

/// Incremental MD5 + SHA-1 + SHA-256 over a stream of buffers.
#[derive(Clone, Default)]
pub struct MultiHasher {
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
    length: u64,
}

impl MultiHasher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next buffer of the stream.
    pub fn update(&mut self, data: &[u8]) {
        for block in data.chunks(BLOCK) {
            self.md5.update(block);
            self.sha1.update(block);
            self.sha256.update(block);
        }
        self.length += data.len() as u64;
    }

    /// Bytes fed so far.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Digests of everything fed so far; the hasher can keep going afterwards.
    pub fn digests(&self) -> Digests {
        Digests {
            md5: to_hex(&self.md5.clone().finalize()),
            sha1: to_hex(&self.sha1.clone().finalize()),
            sha256: to_hex(&self.sha256.clone().finalize()),
            length: self.length,
        }
    }
}

/// Digests of one whole buffer.
pub fn digest(data: &[u8]) -> Digests {
    let mut h = MultiHasher::new();
    h.update(data);
    h.digests()
}

fn to_hex(bytes: &[u8]) -> String {
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

    // Reference digests published for the standard test strings (RFC 1321, FIPS 180 examples).
    #[test]
    fn known_answers() {
        let d = digest(b"");
        assert_eq!(d.md5, "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(d.sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            d.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let d = digest(b"abc");
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn split_feeding_equals_one_shot() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let whole = digest(&data);
        for cut in [0usize, 1, 55, 64, 65_536, 299_999] {
            let mut h = MultiHasher::new();
            h.update(&data[..cut]);
            h.update(&data[cut..]);
            assert_eq!(h.digests(), whole, "cut at {cut}");
        }
    }
}
