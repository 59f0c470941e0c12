//! Tor v3 onion service addresses (rend-spec-v3, "Encoding onion addresses").

use sha3::{Digest, Sha3_256};

/// Value of one RFC 4648 base32 character (either case), or None.
fn base32_value(c: u8) -> Option<u8> {
    match c {
        b'a'..=b'z' => Some(c - b'a'),
        b'A'..=b'Z' => Some(c - b'A'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

/// A v3 onion label (the 56 characters before ".onion", any case): base32 of
/// PUBKEY(32) | CHECKSUM(2) | VERSION(1) with VERSION 3 and CHECKSUM the first two bytes of
/// SHA3-256(".onion checksum" | PUBKEY | VERSION). The key itself is not checked to be a
/// valid ed25519 point.
pub fn valid_v3(label: &[u8]) -> bool {
    if label.len() != 56 {
        return false;
    }
    let mut raw = [0u8; 35];
    let (mut acc, mut bits, mut n) = (0u32, 0u32, 0usize);
    for &c in label {
        let Some(v) = base32_value(c) else { return false };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            raw[n] = (acc >> bits) as u8;
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    let (pubkey, rest) = raw.split_at(32);
    if rest[2] != 3 {
        return false;
    }
    let sum = Sha3_256::new()
        .chain_update(b".onion checksum")
        .chain_update(pubkey)
        .chain_update([3u8])
        .finalize();
    sum[..2] == rest[..2]
}
