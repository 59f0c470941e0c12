//! Which coin a Base58 or Bech32 address looks like, and whether it is valid for that coin.

use super::{base58, bech32};

/// Coin of a Base58Check address by its leading character and length, with whether it is
/// valid: a good checksum and one of that coin's version bytes. `None` when it does not look
/// like any (unknown leading character, wrong length, a character outside Base58).
///
/// | lead   | length | coin       | version bytes     |
/// |--------|--------|------------|-------------------|
/// | `1`, `3` | 25–34 | `bitcoin`  | 0x00, 0x05        |
/// | `L`, `M` | 34    | `litecoin` | 0x30, 0x32        |
/// | `T`      | 34    | `tron`     | 0x41              |
pub fn classify_base58(s: &[u8]) -> Option<(&'static str, bool)> {
    let (kind, versions): (&'static str, &[u8]) = match (s.first()?, s.len()) {
        (b'1' | b'3', 25..=34) => ("bitcoin", &[0x00, 0x05]),
        (b'L' | b'M', 34) => ("litecoin", &[0x30, 0x32]),
        (b'T', 34) => ("tron", &[0x41]),
        _ => return None,
    };
    if !s.iter().all(|&c| base58::digit(c).is_some()) {
        return None;
    }
    let valid = base58::check(s).is_some_and(|(v, _)| versions.contains(&v));
    Some((kind, valid))
}

/// Coin of a segwit address by its HRP (`bc1…` bitcoin, `ltc1…` litecoin, either case), with
/// whether it decodes per BIP-173/BIP-350 with that HRP. `None` when the prefix is neither,
/// the length cannot be a segwit address (a 2–40 byte program), or a data character is not
/// in the Bech32 charset.
pub fn classify_bech32(s: &[u8]) -> Option<(&'static str, bool)> {
    let (kind, hrp) = if s.len() >= 3 && s[..3].eq_ignore_ascii_case(b"bc1") {
        ("bitcoin", &b"bc"[..])
    } else if s.len() >= 4 && s[..4].eq_ignore_ascii_case(b"ltc1") {
        ("litecoin", &b"ltc"[..])
    } else {
        return None;
    };
    // HRP, '1', a version character, 4..=64 program characters, 6 checksum characters.
    let data = &s[hrp.len() + 1..];
    if !(4 + 1 + 6..=64 + 1 + 6).contains(&data.len()) || !data.iter().all(|&c| bech32::is_data_char(c)) {
        return None;
    }
    let valid = bech32::decode_segwit(s).is_some_and(|w| w.hrp.as_bytes() == hrp);
    Some((kind, valid))
}
