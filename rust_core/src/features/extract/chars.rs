//! Byte classes shared by the extractors, one table lookup each.

pub const ALNUM: u16 = 1;
pub const DIGIT: u16 = 2;
pub const HEX: u16 = 4;
pub const BASE58: u16 = 8;
pub const BASE32: u16 = 16;
pub const LOWER: u16 = 32;
pub const UPPER: u16 = 64;
/// Characters of an e-mail local part Quarry accepts.
pub const LOCAL: u16 = 128;
/// Characters of a host name (letters, digits, `-`, `.`).
pub const HOST: u16 = 256;

const fn build() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut m = 0u16;
        let digit = c.is_ascii_digit();
        let lower = c.is_ascii_lowercase();
        let upper = c.is_ascii_uppercase();
        if digit || lower || upper {
            m |= ALNUM | LOCAL | HOST;
        }
        if digit {
            m |= DIGIT;
        }
        if lower {
            m |= LOWER;
        }
        if upper {
            m |= UPPER;
        }
        if digit || (c >= b'a' && c <= b'f') || (c >= b'A' && c <= b'F') {
            m |= HEX;
        }
        if (digit && c != b'0') || ((lower || upper) && c != b'O' && c != b'I' && c != b'l') {
            m |= BASE58;
        }
        if lower || upper || (c >= b'2' && c <= b'7') {
            m |= BASE32;
        }
        if c == b'.' || c == b'_' || c == b'%' || c == b'+' || c == b'-' {
            m |= LOCAL;
        }
        if c == b'.' || c == b'-' {
            m |= HOST;
        }
        t[b] = m;
        b += 1;
    }
    t
}

static TABLE: [u16; 256] = build();

#[inline]
pub fn is(b: u8, class: u16) -> bool {
    TABLE[b as usize] & class != 0
}

#[inline]
pub fn all(s: &[u8], class: u16) -> bool {
    s.iter().all(|&b| is(b, class))
}

/// The byte before `i`, or a space at the start of the run (which ends any token).
#[inline]
pub fn before(text: &[u8], i: usize) -> u8 {
    if i == 0 {
        b' '
    } else {
        text[i - 1]
    }
}

/// The byte at `i`, or a space past the end of the run.
#[inline]
pub fn at(text: &[u8], i: usize) -> u8 {
    text.get(i).copied().unwrap_or(b' ')
}

/// Length of the run of `class` bytes starting at `i`.
#[inline]
pub fn span(text: &[u8], i: usize, class: u16) -> usize {
    text[i..].iter().take_while(|&&b| is(b, class)).count()
}

/// Lower-cased copy of ASCII bytes as a String.
pub fn lower(s: &[u8]) -> String {
    s.iter().map(|b| b.to_ascii_lowercase() as char).collect()
}

pub fn string(s: &[u8]) -> String {
    s.iter().map(|&b| b as char).collect()
}

/// The end of a domain name starting at `i`: labels of letters, digits and inner hyphens,
/// joined by single dots, the last an alphabetic TLD of 2..=24 letters; None if no dot.
pub fn domain_end(text: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    let mut good_end = None; // end after a label that can be the TLD
    let mut labels = 0;
    loop {
        let label_len = text[p..]
            .iter()
            .take_while(|&&b| is(b, ALNUM) || b == b'-')
            .count();
        if label_len == 0 || label_len > 63 {
            break;
        }
        let label = &text[p..p + label_len];
        if label[0] == b'-' || label[label_len - 1] == b'-' {
            break;
        }
        labels += 1;
        p += label_len;
        if labels >= 2 && (2..=24).contains(&label_len) && label.iter().all(|b| b.is_ascii_alphabetic()) {
            good_end = Some(p);
        }
        if at(text, p) == b'.' && is(at(text, p + 1), ALNUM) {
            p += 1;
        } else {
            break;
        }
    }
    good_end.filter(|&e| e - i <= 253)
}

/// Bit i: byte i of the (up to 64-byte) chunk is a letter or digit.
#[cfg(target_arch = "x86_64")]
fn alnum_mask(chunk: &[u8]) -> u64 {
    use std::arch::x86_64::*;
    let mut block = [0u8; 64];
    block[..chunk.len()].copy_from_slice(chunk);
    let mut mask = 0u64;
    // SAFETY: SSE2 is part of the x86-64 baseline; loads are unaligned and in bounds.
    unsafe {
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
            let digit = _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(b'0' as i8 - 1)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(b'9' as i8 + 1)),
            );
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let letter = _mm_and_si128(
                _mm_cmpgt_epi8(folded, _mm_set1_epi8(b'a' as i8 - 1)),
                _mm_cmplt_epi8(folded, _mm_set1_epi8(b'z' as i8 + 1)),
            );
            let m = _mm_movemask_epi8(_mm_or_si128(digit, letter)) as u32 as u64;
            mask |= (m & 0xffff) << (16 * k);
        }
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
fn alnum_mask(chunk: &[u8]) -> u64 {
    chunk
        .iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | ((is(b, ALNUM) as u64) << i))
}

/// Calls `f(start, end)` for each word (maximal run of letters and digits) in order. Word
/// edges come from 64-byte masks, so the walk branches per word, not per byte.
pub fn each_word(text: &[u8], mut f: impl FnMut(usize, usize)) {
    let mut open = None;
    let mut carry = 0u64;
    let mut block = 0;
    while block < text.len() {
        let m = alnum_mask(&text[block..(block + 64).min(text.len())]);
        let before = (m << 1) | carry;
        let (mut starts, mut ends) = (m & !before, !m & before);
        while starts | ends != 0 {
            let (s, e) = (starts.trailing_zeros(), ends.trailing_zeros());
            if e < s {
                if let Some(start) = open.take() {
                    f(start, block + e as usize);
                }
                ends &= ends - 1;
            } else {
                open = Some(block + s as usize);
                starts &= starts - 1;
            }
        }
        carry = m >> 63;
        block += 64;
    }
    if let Some(start) = open {
        f(start, text.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_by_mask_equal_a_byte_walk() {
        let mut state = 0x2545f4914f6cdd1du64;
        for round in 0..300 {
            let len = (round * 13) % 400;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    b" a1Z.-+@:\n"[(state % 10) as usize]
                })
                .collect();
            let mut got = Vec::new();
            each_word(&text, |s, e| got.push((s, e)));
            let mut want = Vec::new();
            let mut i = 0;
            while i < text.len() {
                if is(text[i], ALNUM) {
                    let n = span(&text, i, ALNUM);
                    want.push((i, i + n));
                    i += n;
                } else {
                    i += 1;
                }
            }
            assert_eq!(got, want, "round {round}");
        }
    }
}
