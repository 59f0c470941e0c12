//! Payment card issuers by IIN prefix and length, and the full card-number check.
//!
//! The table follows the "Issuer identification number (IIN)" table of Wikipedia's
//! "Payment card number" article (the commonly published summary of the networks' own
//! ranges), cut down to the eight networks Quarry reports:
//!
//! | issuer       | prefixes                                   | lengths        |
//! |--------------|--------------------------------------------|----------------|
//! | `amex`       | 34, 37                                     | 15             |
//! | `diners`     | 300–305, 36, 38, 39                        | 14–19          |
//! | `jcb`        | 3528–3589                                  | 16–19          |
//! | `visa`       | 4                                          | 13, 16, 19     |
//! | `mastercard` | 51–55, 2221–2720                           | 16             |
//! | `discover`   | 6011, 644–649, 65, 622126–622925           | 16–19          |
//! | `unionpay`   | 62                                         | 16–19          |
//! | `maestro`    | 50, 56–69                                  | 12–19          |
//!
//! Rows are tried in this order and the first whose prefix *and* length match wins, so the
//! Discover/UnionPay co-branded range 622126–622925 is Discover, the rest of 62 UnionPay, and
//! Maestro's broad 56–69 only takes what no more specific network claims.

/// One table row: issuer, inclusive prefix range over the first `digits` digits, and a bit
/// mask of allowed lengths (bit n set: n digits allowed).
struct Row {
    name: &'static str,
    lo: u32,
    hi: u32,
    digits: usize,
    lengths: u32,
}

const fn span(lo: u32, hi: u32) -> u32 {
    let mut m = 0;
    let mut n = lo;
    while n <= hi {
        m |= 1 << n;
        n += 1;
    }
    m
}

const L15: u32 = 1 << 15;
const L16: u32 = 1 << 16;
const L_VISA: u32 = (1 << 13) | (1 << 16) | (1 << 19);
const L14_19: u32 = span(14, 19);
const L16_19: u32 = span(16, 19);
const L12_19: u32 = span(12, 19);

const fn row(name: &'static str, lo: u32, hi: u32, digits: usize, lengths: u32) -> Row {
    Row {
        name,
        lo,
        hi,
        digits,
        lengths,
    }
}

const TABLE: [Row; 16] = [
    row("amex", 34, 34, 2, L15),
    row("amex", 37, 37, 2, L15),
    row("diners", 300, 305, 3, L14_19),
    row("diners", 36, 36, 2, L14_19),
    row("diners", 38, 39, 2, L14_19),
    row("jcb", 3528, 3589, 4, L16_19),
    row("visa", 4, 4, 1, L_VISA),
    row("mastercard", 51, 55, 2, L16),
    row("mastercard", 2221, 2720, 4, L16),
    row("discover", 6011, 6011, 4, L16_19),
    row("discover", 644, 649, 3, L16_19),
    row("discover", 65, 65, 2, L16_19),
    row("discover", 622126, 622925, 6, L16_19),
    row("unionpay", 62, 62, 2, L16_19),
    row("maestro", 50, 50, 2, L12_19),
    row("maestro", 56, 69, 2, L12_19),
];

/// The first `n` digits of `digits` as a number, or None when there are fewer or a non-digit.
fn prefix(digits: &[u8], n: usize) -> Option<u32> {
    let head = digits.get(..n)?;
    head.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// The card network whose IIN range and length `digits` fits (see the module table), so that a
/// Luhn-valid run of digits that no network issues is not reported as a card.
pub fn issuer(digits: &[u8]) -> Option<&'static str> {
    let len = digits.len();
    if len > 31 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    TABLE
        .iter()
        .filter(|r| r.lengths & (1 << len) != 0)
        .find(|r| prefix(digits, r.digits).is_some_and(|p| (r.lo..=r.hi).contains(&p)))
        .map(|r| r.name)
}

/// A payment card number: 13–19 digits, a known issuer range and a good Luhn check digit.
pub fn valid(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && issuer(digits).is_some() && super::luhn::valid(digits)
}
