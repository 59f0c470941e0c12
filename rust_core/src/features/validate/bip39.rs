//! BIP-39 mnemonics: the English word list and the checksum in the last word.

use sha2::{Digest, Sha256};

/// The BIP-39 English word list as published (2048 sorted lines; SHA-256
/// 2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda).
pub const ENGLISH: &str = include_str!("bip39_english.txt");

/// Start offset and length of each word in [`ENGLISH`], worked out at compile time.
const SPANS: [(u16, u8); 2048] = {
    let text = ENGLISH.as_bytes();
    let mut spans = [(0u16, 0u8); 2048];
    let (mut i, mut start, mut w) = (0usize, 0usize, 0usize);
    while i < text.len() {
        if text[i] == b'\n' {
            assert!(w < 2048, "more than 2048 words");
            spans[w] = (start as u16, (i - start) as u8);
            w += 1;
            start = i + 1;
        }
        i += 1;
    }
    assert!(
        w == 2048 && start == text.len(),
        "the list must be 2048 newline-terminated words"
    );
    spans
};

/// The word at `index` (0..2048).
pub fn word(index: u16) -> Option<&'static str> {
    let &(start, len) = SPANS.get(usize::from(index))?;
    ENGLISH.get(usize::from(start)..usize::from(start) + usize::from(len))
}

/// The index of an English BIP-39 word (lower case, as the list writes it), by binary search
/// over the sorted list: eleven comparisons at most.
pub fn word_index(w: &[u8]) -> Option<u16> {
    if w.len() > 8 {
        return None;
    }
    let (mut lo, mut hi) = (0u16, 2048u16);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match word(mid)?.as_bytes().cmp(w) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

/// A mnemonic's word indices carry a good checksum: 12, 15, 18, 21 or 24 words of 11 bits,
/// the last ENT/32 bits of which must equal the first ENT/32 bits of SHA-256(entropy).
pub fn valid(indices: &[u16]) -> bool {
    if !matches!(indices.len(), 12 | 15 | 18 | 21 | 24) || indices.iter().any(|&i| i >= 2048) {
        return false;
    }
    let total_bits = indices.len() * 11;
    let cs_bits = total_bits / 33;
    let ent_bytes = (total_bits - cs_bits) / 8;
    let mut bytes = [0u8; 33];
    for (k, &idx) in indices.iter().enumerate() {
        for b in 0..11 {
            if (idx >> (10 - b)) & 1 == 1 {
                let bit = k * 11 + b;
                bytes[bit / 8] |= 0x80 >> (bit % 8);
            }
        }
    }
    let hash = Sha256::digest(&bytes[..ent_bytes]);
    let mask = 0xffu8 << (8 - cs_bits);
    hash[0] & mask == bytes[ent_bytes] & mask
}
