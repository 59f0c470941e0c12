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

/// The first four letters of a word (fewer for three-letter words) as one number: BIP-39
/// chose its words so that these letters alone tell every word apart.
const fn prefix(w: &[u8], start: usize, len: usize) -> u32 {
    let mut key = 0u32;
    let mut i = 0;
    while i < 4 && i < len {
        key |= (w[start + i] as u32) << (8 * i);
        i += 1;
    }
    key
}

const SLOTS: usize = 4096;

const fn slot(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 20) as usize
}

/// Open-addressed table from a word's prefix to its index + 1 (0: empty), built at compile time.
const TABLE: [u16; SLOTS] = {
    let text = ENGLISH.as_bytes();
    let mut table = [0u16; SLOTS];
    let mut w = 0;
    while w < 2048 {
        let (start, len) = SPANS[w];
        let mut s = slot(prefix(text, start as usize, len as usize));
        while table[s] != 0 {
            s = (s + 1) % SLOTS;
        }
        table[s] = w as u16 + 1;
        w += 1;
    }
    table
};

/// The index of an English BIP-39 word (lower case, as the list writes it): one hash probe
/// on its first four letters (a couple more on a collision), then one comparison.
pub fn word_index(w: &[u8]) -> Option<u16> {
    if !(3..=8).contains(&w.len()) {
        return None;
    }
    let key = prefix(w, 0, w.len());
    let mut s = slot(key);
    loop {
        let entry = TABLE[s];
        if entry == 0 {
            return None;
        }
        let index = entry - 1;
        let (start, len) = SPANS[usize::from(index)];
        let candidate = &ENGLISH.as_bytes()[usize::from(start)..usize::from(start) + usize::from(len)];
        if prefix(candidate, 0, candidate.len()) == key {
            return (candidate == w).then_some(index);
        }
        s = (s + 1) % SLOTS;
    }
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
