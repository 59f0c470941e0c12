//! Similarity digests: ssdeep's context-triggered piecewise hash and Trend Micro's TLSH.
//!
//! Cryptographic digests tell an examiner that two files are the same; these tell how
//! alike two files are (a document and its edited copy, two builds of one program). Both
//! are streaming, keep a small fixed state whatever the input size, and produce digest
//! strings byte-for-byte equal to the reference tools' (`ssdeep` 2.14.1 and the TLSH
//! library behind `py-tlsh`), so digests from Quarry can be matched against published
//! ones and the other way round.

mod ssdeep;
mod tlsh;

pub use ssdeep::{ssdeep_compare, ssdeep_digest, SsdeepHasher};
pub use tlsh::{tlsh_diff, tlsh_digest, TlshHasher};

/// A digest string that cannot be read: the message says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestError(pub String);

impl std::fmt::Display for DigestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DigestError {}
