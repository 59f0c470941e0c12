//! Base58 with Bitcoin's alphabet, and Base58Check (Bitcoin, Litecoin, Tron addresses).

use sha2::{Digest, Sha256};

/// Bitcoin's Base58 alphabet: no 0, O, I or l.
pub const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Digit value of each ASCII byte in [`ALPHABET`], 0xff for bytes outside it.
const DIGITS: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 58 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// The Base58 digit of one byte, or None when the byte is not in the alphabet.
pub fn digit(c: u8) -> Option<u8> {
    let d = DIGITS[usize::from(c)];
    (d != 0xff).then_some(d)
}

/// Decodes `s` into the front of `out` and returns the byte count, or None for a character
/// outside the alphabet or a value that does not fit `out`. Each leading '1' is a zero byte,
/// as Bitcoin's encoder writes them.
pub fn decode_into(s: &[u8], out: &mut [u8]) -> Option<usize> {
    let zeros = s.iter().take_while(|&&c| c == b'1').count();
    // The number is built big-endian in the tail of `out`, `used` bytes long.
    let mut used = 0usize;
    let cap = out.len();
    for &c in &s[zeros..] {
        let mut carry = u32::from(digit(c)?);
        for b in out[cap - used..].iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            if used == cap {
                return None;
            }
            used += 1;
            out[cap - used] = carry as u8;
            carry >>= 8;
        }
    }
    let total = zeros + used;
    if total > cap {
        return None;
    }
    out.copy_within(cap - used.., zeros);
    out[..zeros].fill(0);
    Some(total)
}

/// A 25-byte Base58Check payload (version byte, 20-byte hash, 4-byte checksum) whose
/// checksum is the first four bytes of SHA-256(SHA-256(version | hash)); returns the version
/// and the hash. This is the address form of Bitcoin P2PKH/P2SH, Litecoin and Tron.
pub fn check(s: &[u8]) -> Option<(u8, [u8; 20])> {
    if s.len() > 40 {
        return None;
    }
    let mut buf = [0u8; 25];
    if decode_into(s, &mut buf)? != 25 {
        return None;
    }
    let sum = Sha256::digest(Sha256::digest(&buf[..21]));
    if sum[..4] != buf[21..] {
        return None;
    }
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&buf[1..21]);
    Some((buf[0], hash))
}
