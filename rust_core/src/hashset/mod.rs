//! Known-file hash sets: sorted, fixed-width digests in one memory-mapped file.
//!
//! A set holds one algorithm's digests (MD5, SHA-1 or SHA-256), sorted and unique, with a
//! small bucket index over their top bits. Digests are uniform, so a bucket holds about
//! 8 to 16 of them and a lookup reads one index entry and a few neighbouring digests.
//! The file is mapped read-only, so every worker process on a node shares one copy in
//! the page cache. `Builder` makes such a file from any number of digests in bounded
//! memory: it sorts fixed-size runs on disk and merges them.

mod builder;
mod format;
mod set;

pub use builder::{BuildStats, Builder};
pub use format::FORMAT_VERSION;
pub use set::HashSet;

use std::fmt;
use std::path::PathBuf;

/// A digest algorithm a set can hold; the width is the digest's size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
        }
    }

    pub fn width(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The digest that `text` spells in hex (either case), if it is one of this width.
    pub fn parse_hex(self, text: &str) -> Option<Vec<u8>> {
        let text = text.as_bytes();
        if text.len() != 2 * self.width() {
            return None;
        }
        text.chunks_exact(2)
            .map(|pair| Some((hex_value(pair[0])? << 4) | hex_value(pair[1])?))
            .collect()
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// What can go wrong with a set; every variant names the file or the argument at fault.
#[derive(Debug)]
pub enum SetError {
    /// Reading or writing `path` failed.
    Io { path: PathBuf, source: std::io::Error },
    /// `path` is not a usable hash set file; `problem` says why.
    Corrupt { path: PathBuf, problem: String },
    /// An argument does not fit the set (a digest of the wrong width, ...).
    Argument(String),
}

impl SetError {
    pub(crate) fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> SetError + '_ {
        move |source| SetError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            SetError::Corrupt { path, problem } => {
                write!(f, "{}: not a valid hash set file: {problem}", path.display())
            }
            SetError::Argument(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for SetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SetError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parses_either_case_and_rejects_the_rest() {
        let md5 = Algorithm::Md5;
        let want: Vec<u8> = (0..16).map(|i| i * 17).collect();
        assert_eq!(
            md5.parse_hex("00112233445566778899aabbccddeeff"),
            Some(want.clone())
        );
        assert_eq!(md5.parse_hex("00112233445566778899AABBCCDDEEFF"), Some(want));
        assert_eq!(md5.parse_hex("00112233445566778899aabbccddeef"), None);
        assert_eq!(md5.parse_hex("00112233445566778899aabbccddeefg"), None);
        assert_eq!(md5.parse_hex("0011223344556677 899aabbccddeeff"), None);
        assert_eq!(
            Algorithm::Sha256.parse_hex("00112233445566778899aabbccddeeff"),
            None
        );
    }

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(Algorithm::from_name("crc32"), None);
    }
}
