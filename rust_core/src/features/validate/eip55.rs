//! Ethereum addresses and EIP-55's mixed-case checksum.

use sha3::{Digest, Keccak256};

/// Outcome of the EIP-55 check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eip55 {
    /// All-lower or all-upper hex (no checksum claimed), or mixed case matching the checksum.
    Valid,
    /// Not `0x` + 40 hex digits, or mixed case that disagrees with the checksum.
    Invalid,
}

/// Checks `0x` + 40 hex digits: a hex letter must be upper case exactly where the matching
/// nibble of Keccak-256 (the original Keccak, not FIPS SHA3-256) of the lower-case hex is 8 or
/// more. Single-case addresses carry no checksum and pass.
pub fn check(s: &[u8]) -> Eip55 {
    let Some(hex) = s.strip_prefix(b"0x") else {
        return Eip55::Invalid;
    };
    if hex.len() != 40 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return Eip55::Invalid;
    }
    let has_lower = hex.iter().any(u8::is_ascii_lowercase);
    let has_upper = hex.iter().any(u8::is_ascii_uppercase);
    if !(has_lower && has_upper) {
        return Eip55::Valid;
    }
    let mut lower = [0u8; 40];
    for (dst, &c) in lower.iter_mut().zip(hex) {
        *dst = c.to_ascii_lowercase();
    }
    let hash = Keccak256::digest(lower);
    let ok = hex.iter().enumerate().all(|(i, &c)| {
        let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0xf;
        !c.is_ascii_alphabetic() || c.is_ascii_uppercase() == (nibble >= 8)
    });
    if ok {
        Eip55::Valid
    } else {
        Eip55::Invalid
    }
}
