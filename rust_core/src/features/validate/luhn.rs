//! The Luhn (mod 10) check digit of ISO/IEC 7812-1, used by payment card numbers.

/// True when `digits` is non-empty, all ASCII digits, and its Luhn sum is a multiple of 10:
/// the check that catches every single-digit error and most adjacent swaps in card numbers.
pub fn valid(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        if !c.is_ascii_digit() {
            return false;
        }
        let d = u32::from(c - b'0');
        sum += if i % 2 == 1 {
            let dd = d * 2;
            if dd > 9 {
                dd - 9
            } else {
                dd
            }
        } else {
            d
        };
    }
    sum.is_multiple_of(10)
}
