//! Monero addresses: Monero's block Base58 and a Keccak-256 checksum.

use super::base58;
use sha3::{Digest, Keccak256};

/// Characters that encode a block of n bytes (n = 0..=8), from Monero's base58.cpp
/// `encoded_block_sizes`; a full 8-byte block is 11 characters.
const ENCODED_BLOCK_SIZES: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];

/// Decodes one block of `chars` characters into `out` (whose length the character count
/// fixes), refusing values that overflow the block as Monero's `decode_block` does.
fn decode_block(chars: &[u8], out: &mut [u8]) -> Option<()> {
    let mut n: u128 = 0;
    for &c in chars {
        n = n * 58 + u128::from(base58::digit(c)?);
    }
    if out.len() < 16 && n >> (8 * out.len()) != 0 {
        return None;
    }
    for (i, b) in out.iter_mut().rev().enumerate() {
        *b = (n >> (8 * i)) as u8;
    }
    Some(())
}

/// Decodes a whole Monero Base58 string into `out`, returning the byte count.
fn decode(s: &[u8], out: &mut [u8; 77]) -> Option<usize> {
    let full = s.len() / 11;
    let last_chars = s.len() % 11;
    let last_bytes = ENCODED_BLOCK_SIZES.iter().position(|&c| c == last_chars)?;
    let total = full * 8 + last_bytes;
    let out = out.get_mut(..total)?;
    for (chunk, dst) in s.chunks(11).zip(out.chunks_mut(8)) {
        decode_block(chunk, dst)?;
    }
    Some(total)
}

/// A mainnet Monero address: 95 characters with network byte 18 (standard) or 42
/// (subaddress), or 106 characters with 19 (integrated, with an 8-byte payment id); the last
/// 4 bytes are the first 4 of Keccak-256 of the rest.
pub fn valid(s: &[u8]) -> bool {
    if s.len() != 95 && s.len() != 106 {
        return false;
    }
    let mut buf = [0u8; 77];
    let Some(n) = decode(s, &mut buf) else {
        return false;
    };
    let network_ok = matches!((s.len(), buf[0]), (95, 18 | 42) | (106, 19));
    network_ok && Keccak256::digest(&buf[..n - 4])[..4] == buf[n - 4..n]
}
