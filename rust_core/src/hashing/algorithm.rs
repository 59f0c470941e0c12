//! The digests the core computes, and one running state of each.

use super::md5::Md5;
use super::HashError;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

/// A digest algorithm, in the order reports list them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Blake3,
    Crc32,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha256,
        Algorithm::Sha512,
        Algorithm::Blake3,
        Algorithm::Crc32,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Blake3 => "blake3",
            Algorithm::Crc32 => "crc32",
        }
    }

    /// Accepts the names reports use, case-insensitive, with or without a dash ("SHA-256").
    pub fn parse(name: &str) -> Result<Self, HashError> {
        let wanted = name.trim().to_ascii_lowercase().replace('-', "");
        Self::ALL.into_iter().find(|a| a.name() == wanted).ok_or_else(|| {
            let known: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
            HashError(format!(
                "unknown digest {name:?}: use one of {}",
                known.join(", ")
            ))
        })
    }

    /// Rough nanoseconds per byte on one core of a current x86 server (SHA extensions
    /// in use), only to balance the digests of one stream over threads.
    pub(crate) fn cost(self) -> f64 {
        match self {
            Algorithm::Md5 => 2.0,
            Algorithm::Sha1 => 0.65,
            Algorithm::Sha256 => 0.7,
            Algorithm::Sha512 => 2.9,
            Algorithm::Blake3 => 0.45,
            Algorithm::Crc32 => 0.15,
        }
    }
}

/// The running state of one digest. SHA-1 and SHA-256 use the CPU's SHA extensions
/// when present (detected at run time by the crates), BLAKE3 its SIMD paths.
#[derive(Clone)]
pub(crate) enum State {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
    Blake3(Box<blake3::Hasher>),
    Crc32(crc32fast::Hasher),
}

impl State {
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Md5 => State::Md5(Md5::default()),
            Algorithm::Sha1 => State::Sha1(Sha1::new()),
            Algorithm::Sha256 => State::Sha256(Sha256::new()),
            Algorithm::Sha512 => State::Sha512(Sha512::new()),
            Algorithm::Blake3 => State::Blake3(Box::new(blake3::Hasher::new())),
            Algorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            State::Md5(h) => h.update(data),
            State::Sha1(h) => h.update(data),
            State::Sha256(h) => h.update(data),
            State::Sha512(h) => h.update(data),
            State::Blake3(h) => {
                h.update(data);
            }
            State::Crc32(h) => h.update(data),
        }
    }

    /// The digest of everything fed so far (the state itself carries on).
    pub fn value(&self) -> Vec<u8> {
        match self {
            State::Md5(h) => h.value().to_vec(),
            State::Sha1(h) => h.clone().finalize().to_vec(),
            State::Sha256(h) => h.clone().finalize().to_vec(),
            State::Sha512(h) => h.clone().finalize().to_vec(),
            State::Blake3(h) => h.finalize().as_bytes().to_vec(),
            // Big-endian, as crc32 tools print it.
            State::Crc32(h) => h.clone().finalize().to_be_bytes().to_vec(),
        }
    }
}
