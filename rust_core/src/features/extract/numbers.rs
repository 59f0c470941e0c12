//! Features made of digits and separators: IPv4 addresses, payment card numbers and
//! telephone numbers. Each parser starts at the first digit of a word and returns where the
//! feature ends, or None.

use super::chars::{at, before, is, string, ALNUM, DIGIT};
use crate::features::validate::ccn;

fn digits(text: &[u8], i: usize) -> usize {
    text[i.min(text.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// A digit, or a dot followed by a digit: what would make a number run on.
fn runs_on(text: &[u8], i: usize) -> bool {
    is(at(text, i), DIGIT) || (at(text, i) == b'.' && is(at(text, i + 1), DIGIT))
}

/// End of a dotted quad starting at `i` (each part 0..=255 without leading zeros), if it
/// does not run on into more digits and dots.
pub fn ipv4_end(text: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    for part in 0..4 {
        if part > 0 {
            if at(text, p) != b'.' {
                return None;
            }
            p += 1;
        }
        let n = digits(text, p);
        if n == 0 || n > 3 || (n > 1 && text[p] == b'0') {
            return None;
        }
        let v: u32 = text[p..p + n].iter().fold(0, |v, b| v * 10 + u32::from(b - b'0'));
        if v > 255 {
            return None;
        }
        p += n;
    }
    (!runs_on(text, p) && !is(at(text, p), ALNUM)).then_some(p)
}

/// An IPv4 address starting at `i`, not preceded by a letter, digit or dot.
pub fn ipv4(text: &[u8], i: usize) -> Option<usize> {
    let b = before(text, i);
    if is(b, ALNUM) || b == b'.' {
        return None;
    }
    ipv4_end(text, i)
}

/// Digit groups of card numbers as printed: 16 or 19 digits in fours, Amex 4-6-5, Diners 4-6-4.
const LAYOUTS: [&[usize]; 4] = [&[4, 4, 4, 4, 3], &[4, 4, 4, 4], &[4, 6, 5], &[4, 6, 4]];

/// A payment card number starting at `i`: a word of 13..=19 digits, or groups split by single
/// spaces or dashes as LAYOUTS. Returns (end, digits, valid); the first valid reading wins,
/// else the longest that fits is returned invalid.
pub fn ccn(text: &[u8], i: usize) -> Option<(usize, String, bool)> {
    let b = before(text, i);
    if is(b, ALNUM) || b == b'.' || b == b'-' || b == b'+' {
        return None;
    }
    let n = digits(text, i);
    if (13..=19).contains(&n) {
        if runs_on(text, i + n) || is(at(text, i + n), ALNUM) {
            return None;
        }
        let d = &text[i..i + n];
        return Some((i + n, string(d), ccn::valid(d)));
    }
    if n != 4 {
        return None;
    }
    let sep = at(text, i + 4);
    if sep != b' ' && sep != b'-' {
        return None;
    }
    // The groups as written, up to five.
    let mut groups = vec![(i, 4usize)];
    let mut p = i + 4;
    while groups.len() < 5 && at(text, p) == sep {
        let g = digits(text, p + 1);
        if g == 0 || is(at(text, p + 1 + g), ALNUM) {
            break;
        }
        groups.push((p + 1, g));
        p += 1 + g;
    }
    let mut fallback = None;
    for layout in LAYOUTS {
        if groups.len() < layout.len() || groups.iter().zip(layout.iter()).any(|(g, &want)| g.1 != want) {
            continue;
        }
        let (last, len) = groups[layout.len() - 1];
        let end = last + len;
        let number: String = groups[..layout.len()]
            .iter()
            .map(|&(s, l)| string(&text[s..s + l]))
            .collect();
        if ccn::valid(number.as_bytes()) {
            return Some((end, number, true));
        }
        fallback.get_or_insert((end, number, false));
    }
    fallback
}

/// An international number `+CC ...` whose `+` is at `plus`: 8..=15 digits in groups split by
/// single spaces, dashes, dots or parentheses.
pub fn international(text: &[u8], plus: usize) -> Option<usize> {
    if is(before(text, plus), ALNUM) || before(text, plus) == b'+' {
        return None;
    }
    let cc = digits(text, plus + 1);
    if cc == 0 || cc > 3 {
        return None;
    }
    let mut p = plus + 1;
    let mut count = 0;
    let mut end = p;
    let mut open = false;
    loop {
        let n = digits(text, p);
        if n > 0 {
            count += n;
            p += n;
            end = p;
            if at(text, p) == b')' && open {
                open = false;
                p += 1;
                end = p;
            }
        }
        let c = at(text, p);
        let next = at(text, p + 1);
        if matches!(c, b' ' | b'-' | b'.') && is(next, DIGIT) {
            p += 1;
        } else if c == b' ' && next == b'(' && !open && is(at(text, p + 2), DIGIT) {
            p += 2;
            open = true;
        } else if c == b'(' && !open && is(next, DIGIT) {
            p += 1;
            open = true;
        } else {
            break;
        }
    }
    if open || !(8..=15).contains(&count) || is(at(text, end), ALNUM) {
        return None;
    }
    Some(end)
}

/// A North American number at the three-digit word `i`: `(NNN) NNN-NNNN` (the `(` just
/// before `i`) or `NNN-NNN-NNNN`. Returns (start, end).
pub fn north_american(text: &[u8], i: usize) -> Option<(usize, usize)> {
    let group = |p: usize, n: usize| digits(text, p) == n;
    if !group(i, 3) {
        return None;
    }
    let (start, rest) = if before(text, i) == b'(' {
        if at(text, i + 3) != b')' || at(text, i + 4) != b' ' {
            return None;
        }
        (i - 1, i + 5)
    } else {
        if at(text, i + 3) != b'-' {
            return None;
        }
        (i, i + 4)
    };
    let b = before(text, start);
    if is(b, ALNUM) || matches!(b, b'-' | b'+' | b'.' | b'(') {
        return None;
    }
    if !group(rest, 3) || at(text, rest + 3) != b'-' || !group(rest + 4, 4) {
        return None;
    }
    let end = rest + 8;
    if is(at(text, end), ALNUM) || (matches!(at(text, end), b'-' | b'.') && is(at(text, end + 1), DIGIT)) {
        return None;
    }
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_quads() {
        assert_eq!(ipv4(b"at 192.168.1.20.", 3), Some(15));
        assert_eq!(ipv4(b"0.0.0.0", 0), Some(7));
        for no in [
            &b"1.2.3.4.5"[..],
            b"256.1.1.1",
            b"01.2.3.4",
            b"1.2.3",
            b"1.2.3.4x",
        ] {
            assert_eq!(ipv4(no, 0), None, "{}", String::from_utf8_lossy(no));
        }
        assert_eq!(ipv4(b"v1.2.3.4", 1), None);
    }

    #[test]
    fn telephone_numbers() {
        let t = b"call +44 20 7946 0958 now";
        assert_eq!(international(t, 5), Some(21));
        let t = b"+1 (555) 010-0199.";
        assert_eq!(international(t, 0), Some(17));
        assert_eq!(international(b"+12345", 0), None);
        let t = b"tel (555) 010-0199, or 555-010-0199";
        assert_eq!(north_american(t, 5), Some((4, 18)));
        assert_eq!(north_american(t, 23), Some((23, 35)));
        assert_eq!(north_american(b"2024-555-0199", 1), None);
        assert_eq!(north_american(b"555-010-01999", 0), None);
    }
}
