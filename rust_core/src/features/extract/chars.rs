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
