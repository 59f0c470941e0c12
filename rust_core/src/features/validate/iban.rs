//! IBANs (ISO 13616): the registry's length for the country and the mod-97 check.

/// IBAN length per country code, for every country of the SWIFT IBAN Registry (the ISO 13616
/// registration authority's list, as published in 2026: 89 codes, Honduras and Yemen
/// included). Sorted by code for binary search. Territories that the registry lists under a
/// parent (French overseas departments, Åland, the Channel Islands, the Isle of Man) use the
/// parent's code (FR, FI, GB) in their IBANs and so need no row of their own.
#[rustfmt::skip]
const LENGTHS: [([u8; 2], u8); 89] = [
    (*b"AD", 24), (*b"AE", 23), (*b"AL", 28), (*b"AT", 20), (*b"AZ", 28), (*b"BA", 20),
    (*b"BE", 16), (*b"BG", 22), (*b"BH", 22), (*b"BI", 27), (*b"BR", 29), (*b"BY", 28),
    (*b"CH", 21), (*b"CR", 22), (*b"CY", 28), (*b"CZ", 24), (*b"DE", 22), (*b"DJ", 27),
    (*b"DK", 18), (*b"DO", 28), (*b"EE", 20), (*b"EG", 29), (*b"ES", 24), (*b"FI", 18),
    (*b"FK", 18), (*b"FO", 18), (*b"FR", 27), (*b"GB", 22), (*b"GE", 22), (*b"GI", 23),
    (*b"GL", 18), (*b"GR", 27), (*b"GT", 28), (*b"HN", 28), (*b"HR", 21), (*b"HU", 28),
    (*b"IE", 22), (*b"IL", 23), (*b"IQ", 23), (*b"IS", 26), (*b"IT", 27), (*b"JO", 30),
    (*b"KW", 30), (*b"KZ", 20), (*b"LB", 28), (*b"LC", 32), (*b"LI", 21), (*b"LT", 20),
    (*b"LU", 20), (*b"LV", 21), (*b"LY", 25), (*b"MC", 27), (*b"MD", 24), (*b"ME", 22),
    (*b"MK", 19), (*b"MN", 20), (*b"MR", 27), (*b"MT", 31), (*b"MU", 30), (*b"NI", 28),
    (*b"NL", 18), (*b"NO", 15), (*b"OM", 23), (*b"PK", 24), (*b"PL", 28), (*b"PS", 29),
    (*b"PT", 25), (*b"QA", 29), (*b"RO", 24), (*b"RS", 22), (*b"RU", 33), (*b"SA", 24),
    (*b"SC", 31), (*b"SD", 18), (*b"SE", 24), (*b"SI", 19), (*b"SK", 24), (*b"SM", 27),
    (*b"SO", 23), (*b"ST", 25), (*b"SV", 28), (*b"TL", 23), (*b"TN", 24), (*b"TR", 26),
    (*b"UA", 29), (*b"VA", 22), (*b"VG", 24), (*b"XK", 20), (*b"YE", 30),
];

/// The registry's IBAN length for a two-letter country code, or None when it has no IBAN.
pub fn country_length(code: &[u8]) -> Option<usize> {
    let code: [u8; 2] = code.try_into().ok()?;
    LENGTHS
        .binary_search_by(|(c, _)| c.cmp(&code))
        .ok()
        .map(|i| usize::from(LENGTHS[i].1))
}

/// The IBAN's value mod 97 after moving the first four characters to the end and reading
/// letters as 10..35, computed digit by digit so no big integer is needed.
fn mod97(s: &[u8]) -> Option<u32> {
    let (head, tail) = s.split_at_checked(4)?;
    tail.iter().chain(head).try_fold(0u32, |r, &c| match c {
        b'0'..=b'9' => Some((r * 10 + u32::from(c - b'0')) % 97),
        b'A'..=b'Z' => Some((r * 100 + u32::from(c - b'A') + 10) % 97),
        _ => None,
    })
}

/// An IBAN in electronic form (no spaces, upper case): country code, two check digits, the
/// BBAN at the registry's length for that country, and ISO 7064 mod 97-10 equal to 1.
pub fn valid(s: &[u8]) -> bool {
    s.len() >= 5
        && s[..2].iter().all(u8::is_ascii_uppercase)
        && s[2..4].iter().all(u8::is_ascii_digit)
        && country_length(&s[..2]) == Some(s.len())
        && mod97(s) == Some(1)
}
