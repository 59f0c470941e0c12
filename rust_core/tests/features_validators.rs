//! The feature validators against published test vectors: each list below is copied as data
//! from the document its comment names, and each valid vector is also checked to fail after
//! a one-character change.

use _native::features::validate::bech32::{self, Variant};
use _native::features::validate::eip55::{self, Eip55};
use _native::features::validate::{base58, bip39, ccn, crypto, iban, luhn, monero, onion};
use sha2::{Digest, Sha256};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Every string made from `s` by replacing one character with another from `alphabet`.
fn one_char_changes(s: &str, alphabet: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..s.len() {
        for &c in alphabet {
            if c != s.as_bytes()[i] {
                let mut v = s.as_bytes().to_vec();
                v[i] = c;
                out.push(v);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Luhn and card numbers
// ---------------------------------------------------------------------------------------

/// The well-known test card numbers the card networks and payment processors publish for
/// testing (e.g. Stripe's and PayPal's "test card numbers" pages), with their issuer.
const TEST_CARDS: &[(&str, &str)] = &[
    ("4111111111111111", "visa"),
    ("4242424242424242", "visa"),
    ("4012888888881881", "visa"),
    ("4222222222222", "visa"),
    ("5555555555554444", "mastercard"),
    ("5105105105105100", "mastercard"),
    ("2223003122003222", "mastercard"),
    ("378282246310005", "amex"),
    ("371449635398431", "amex"),
    ("6011111111111117", "discover"),
    ("6011000990139424", "discover"),
    ("3530111333300000", "jcb"),
    ("3566002020360505", "jcb"),
    ("30569309025904", "diners"),
    ("38520000023237", "diners"),
    ("36227206271667", "diners"),
    ("6200000000000005", "unionpay"),
];

#[test]
fn luhn_accepts_the_published_test_cards() {
    for (n, _) in TEST_CARDS {
        assert!(luhn::valid(n.as_bytes()), "{n}");
    }
    // The worked example of ISO/IEC 7812-1 Annex B as usually quoted: 7992739871 + check digit 3.
    assert!(luhn::valid(b"79927398713"));
    assert!(!luhn::valid(b"79927398710"));
}

#[test]
fn luhn_catches_every_single_digit_change() {
    for (n, _) in TEST_CARDS {
        for bad in one_char_changes(n, b"0123456789") {
            assert!(!luhn::valid(&bad), "{}", String::from_utf8_lossy(&bad));
        }
    }
}

#[test]
fn luhn_refuses_non_digits_and_empty() {
    assert!(!luhn::valid(b""));
    assert!(!luhn::valid(b"4111 1111 1111 1111"));
    assert!(!luhn::valid(b"411111111111111a"));
    assert!(luhn::valid(b"0"));
}

#[test]
fn card_issuers_of_the_published_test_cards() {
    for (n, issuer) in TEST_CARDS {
        assert_eq!(ccn::issuer(n.as_bytes()), Some(*issuer), "{n}");
        assert!(ccn::valid(n.as_bytes()), "{n}");
    }
}

#[test]
fn card_issuer_ranges_at_their_edges() {
    let pad = |p: &str, len: usize| format!("{p}{}", "0".repeat(len - p.len()));
    for (prefix, len, want) in [
        ("2221", 16, Some("mastercard")),
        ("2720", 16, Some("mastercard")),
        ("2721", 16, None),
        ("2220", 16, None),
        ("51", 16, Some("mastercard")),
        ("55", 16, Some("mastercard")),
        ("56", 16, Some("maestro")),
        ("50", 12, Some("maestro")),
        ("34", 15, Some("amex")),
        ("34", 16, None),
        ("35", 16, None),
        ("3528", 19, Some("jcb")),
        ("3589", 16, Some("jcb")),
        ("3590", 16, None),
        ("300", 14, Some("diners")),
        ("305", 19, Some("diners")),
        ("306", 14, None),
        ("4", 13, Some("visa")),
        ("4", 14, None),
        ("4", 19, Some("visa")),
        ("622125", 16, Some("unionpay")),
        ("622126", 16, Some("discover")),
        ("622925", 19, Some("discover")),
        ("622926", 16, Some("unionpay")),
        ("644", 16, Some("discover")),
        ("65", 16, Some("discover")),
        ("6011", 16, Some("discover")),
        ("60", 16, Some("maestro")),
        ("1", 16, None),
        ("9", 16, None),
    ] {
        assert_eq!(ccn::issuer(pad(prefix, len).as_bytes()), want, "{prefix} x{len}");
    }
}

#[test]
fn card_valid_needs_length_issuer_and_luhn() {
    assert!(!ccn::valid(b"4111111111111112"), "Luhn fails");
    assert!(!ccn::valid(b"1234567812345670"), "Luhn passes but no issuer");
    assert!(luhn::valid(b"1234567812345670"));
    assert!(
        !ccn::valid(b"500000000008"),
        "12-digit Maestro is outside 13..=19"
    );
    assert_eq!(ccn::issuer(b"500000000008"), Some("maestro"));
    assert!(!ccn::valid(b"41111111111111111113"), "20 digits");
    assert!(!ccn::valid(b""));
    assert!(!ccn::valid(b"4111-1111-1111-1111"));
}

// ---------------------------------------------------------------------------------------
// IBAN
// ---------------------------------------------------------------------------------------

/// The "IBAN electronic format example" of each country's page in the SWIFT IBAN Registry
/// (ISO 13616), plus GB82WEST12345698765432, the example of ECBS EBS204 and of Wikipedia's
/// IBAN article.
const IBANS: &[&str] = &[
    "GB82WEST12345698765432",
    "GB29NWBK60161331926819",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "BE68539007547034",
    "CH9300762011623852957",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "AT611904300234573201",
    "NO9386011117947",
    "MT84MALT011000012345MTLCAST001S",
    "LC55HEMM000100010012001200023015",
    "RU0304452522540817810538091310419",
    "SA0380000000608010167519",
    "PL61109010140000071219812874",
    "SE4550000000058398257466",
    "DK5000400440116243",
    "FI2112345600000785",
    "IE29AIBK93115212345678",
    "PT50000201231234567890154",
    "LU280019400644750000",
    "GR1601101250000000012300695",
    "HU42117730161111101800000000",
    "CZ6508000000192000145399",
    "BR1800360305000010009795493C1",
    "QA58DOHB00001234567890ABCDEFG",
    "KW81CBKU0000000000001234560101",
    "JO94CBJO0010000000000131000302",
    "MU17BOMM0101101030300200000MUR",
    "SC18SSCB11010000000000001497USD",
];

#[test]
fn iban_accepts_the_registry_examples() {
    for s in IBANS {
        assert!(iban::valid(s.as_bytes()), "{s}");
        assert_eq!(iban::country_length(&s.as_bytes()[..2]), Some(s.len()), "{s}");
    }
}

#[test]
fn iban_mod97_catches_every_single_character_substitution() {
    // ISO 7064 mod 97-10 detects every substitution of one digit by a digit and of one
    // letter by a letter.
    for s in IBANS {
        let digits = one_char_changes(s, b"0123456789");
        let letters = one_char_changes(s, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        for bad in digits.iter().chain(&letters) {
            let same_class = bad
                .iter()
                .zip(s.as_bytes())
                .all(|(a, b)| a.is_ascii_digit() == b.is_ascii_digit());
            if same_class {
                assert!(!iban::valid(bad), "{}", String::from_utf8_lossy(bad));
            }
        }
    }
}

#[test]
fn iban_invalid_twists() {
    for bad in [
        "GB82WEST12345698765433",      // last digit changed
        "GB82WEST12345698765423",      // adjacent digits swapped
        "GB28WEST12345698765432",      // check digits swapped
        "gb82west12345698765432",      // lower case: not the electronic form
        "GB82 WEST 1234 5698 7654 32", // paper form with spaces
        "GB82WEST123456987654320",     // one character too many for GB
        "GB82WEST1234569876543",       // one too few
        "XX82WEST12345698765432",      // no such country
        "DE89370400440532013000 ",
        "",
        "GB",
        "GB82",
        "GB8",
        "1B82WEST12345698765432",
        "GBX2WEST12345698765432",
        "DE00370400440532013000",
    ] {
        assert!(!iban::valid(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn iban_registry_lengths() {
    for (cc, len) in [
        ("NO", 15),
        ("LC", 32),
        ("RU", 33),
        ("DE", 22),
        ("HN", 28),
        ("YE", 30),
        ("XK", 20),
    ] {
        assert_eq!(iban::country_length(cc.as_bytes()), Some(len), "{cc}");
    }
    // Territories use the parent's code; codes that are not in the registry have no length.
    for cc in ["GF", "JE", "AX", "US", "XX", "", "D", "DEU", "de"] {
        assert_eq!(iban::country_length(cc.as_bytes()), None, "{cc}");
    }
}

// ---------------------------------------------------------------------------------------
// Base58 and Base58Check
// ---------------------------------------------------------------------------------------

/// Bitcoin Core's src/test/data/base58_encode_decode.json (hex, base58).
const BASE58: &[(&str, &str)] = &[
    ("", ""),
    ("61", "2g"),
    ("626262", "a3gV"),
    ("636363", "aPEr"),
    (
        "73696d706c792061206c6f6e6720737472696e67",
        "2cFupjhnEsSn59qHXstmK2ffpLv2",
    ),
    (
        "00eb15231dfceb60925886b67d065299925915aeb172c06647",
        "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L",
    ),
    ("516b6fcd0f", "ABnLTmg"),
    ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
    ("572e4794", "3EFU7m"),
    ("ecac89cad93923c02321", "EJDM8drfXA6uyA"),
    ("10c8511e", "Rt5zm"),
    ("00000000000000000000", "1111111111"),
];

#[test]
fn base58_decodes_bitcoin_cores_vectors() {
    for (h, s) in BASE58 {
        let want = hex(h);
        let mut out = [0xaau8; 64];
        let n = base58::decode_into(s.as_bytes(), &mut out).unwrap();
        assert_eq!(&out[..n], &want[..], "{s}");
        // Exactly enough room works; one byte less does not.
        let mut exact = vec![0u8; want.len()];
        assert_eq!(
            base58::decode_into(s.as_bytes(), &mut exact),
            Some(want.len()),
            "{s}"
        );
        if !want.is_empty() {
            let mut short = vec![0u8; want.len() - 1];
            assert_eq!(base58::decode_into(s.as_bytes(), &mut short), None, "{s}");
        }
    }
}

#[test]
fn base58_refuses_characters_outside_the_alphabet() {
    let mut out = [0u8; 64];
    for bad in [
        "0", "O", "I", "l", "3mJr0", "O3yxU", "3sNI", "4kl8", "ab cd", "+", "\u{e9}",
    ] {
        assert_eq!(base58::decode_into(bad.as_bytes(), &mut out), None, "{bad}");
    }
}

/// Bitcoin's genesis block coinbase address and the P2SH example of the Bitcoin wiki
/// ("Pay to script hash"), with their hash160s.
#[test]
fn base58check_bitcoin_addresses() {
    let (v, h) = base58::check(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa").unwrap();
    assert_eq!(v, 0x00);
    assert_eq!(h.to_vec(), hex("62e907b15cbf27d5425399ebf6f0fb50ebb88f18"));
    let (v, _) = base58::check(b"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy").unwrap();
    assert_eq!(v, 0x05);
    for bad in one_char_changes("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", base58::ALPHABET) {
        assert_eq!(base58::check(&bad), None, "{}", String::from_utf8_lossy(&bad));
    }
    assert_eq!(base58::check(b""), None);
    assert_eq!(base58::check(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN"), None);
    assert_eq!(base58::check(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaa"), None);
}

// ---------------------------------------------------------------------------------------
// Bech32, Bech32m, segwit
// ---------------------------------------------------------------------------------------

/// BIP-173, "Test vectors": strings that are valid Bech32.
const BIP173_VALID: &[&str] = &[
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
];

/// BIP-173, "Test vectors": strings that are not valid Bech32 (bytes, as some hold 0x20,
/// 0x7F, 0x80 or 0xFF).
const BIP173_INVALID: &[&[u8]] = &[
    b"\x201nwldj5",
    b"\x7f1axkwrx",
    b"\x801eym55h",
    b"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    b"pzry9x0s0muk",
    b"1pzry9x0s0muk",
    b"x1b4n0q5v",
    b"li1dgmt3",
    b"de1lg7wt\xff",
    b"A1G7SGD8",
    b"10a06t8",
    b"1qzzfhee",
];

/// BIP-350, "Test vectors for Bech32m": strings that are valid Bech32m.
const BIP350_VALID: &[&str] = &[
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
];

/// BIP-350, "Test vectors for Bech32m": strings that are not valid Bech32m.
const BIP350_INVALID: &[&[u8]] = &[
    b"\x201xj0phk",
    b"\x7f1g6xzxy",
    b"\x801vctc34",
    b"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    b"qyrz8wqd2c9m",
    b"1qyrz8wqd2c9m",
    b"y1b0jsk6g",
    b"lt1igcx5c0",
    b"in1muywd",
    b"mm1crxm3i",
    b"au1s5cgom",
    b"M1VUXWEZ",
    b"16plkw9",
    b"1p2gdwpf",
];

/// BIP-350, "Test vectors for v0-v16 native segregated witness addresses": valid addresses
/// and their scriptPubKey. (BIP-173's own list is the same for v0; its v1+ entries used
/// Bech32 and are invalid since BIP-350, checked below.)
const SEGWIT_VALID: &[(&str, &str)] = &[
    (
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        "0014751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    (
        "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
        "5210751e76e8199196d454941c45d1b3a323",
    ),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
];

/// BIP-350's invalid segwit addresses (reason in the comment).
const BIP350_SEGWIT_INVALID: &[&str] = &[
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", // invalid HRP
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", // Bech32 instead of Bech32m
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf", // Bech32 instead of Bech32m
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", // Bech32 instead of Bech32m
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",                     // Bech32m instead of Bech32
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", // Bech32m instead of Bech32
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", // invalid character in checksum
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", // invalid witness version
    "bc1pw5dgrnzv",                                                   // program length 1
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", // length 41
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",                           // v0 program length 16 (BIP-141)
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", // mixed case
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", // padding of 5+ bits
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", // non-zero padding
    "bc1gmk9yu",                                                      // empty data section
];

/// BIP-173's invalid segwit addresses.
const BIP173_SEGWIT_INVALID: &[&str] = &[
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", // invalid HRP
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", // invalid checksum
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", // invalid witness version
    "bc1rw5uspcuh",                               // invalid program length
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90", // length
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",       // v0 program length
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", // mixed case
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",      // zero padding of more than 4 bits
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", // non-zero padding
    "bc1gmk9yu",                                  // empty data section
];

/// BIP-173's valid segwit examples for v1+, written with Bech32: BIP-350 makes them invalid.
const BIP173_V1_PLUS_NOW_INVALID: &[&str] = &[
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
];

/// The reference decoders take the expected HRP; these vectors use mainnet and testnet.
fn segwit(s: &[u8]) -> Option<bech32::Segwit> {
    bech32::decode_segwit(s).filter(|w| matches!(w.hrp.as_str(), "bc" | "tb"))
}

#[test]
fn bech32_valid_strings() {
    for s in BIP173_VALID {
        let d = bech32::decode(s.as_bytes()).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(d.variant, Variant::Bech32, "{s}");
        let sep = s.rfind('1').unwrap();
        assert_eq!(d.hrp.as_str(), s[..sep].to_ascii_lowercase(), "{s}");
        assert_eq!(d.data().len(), s.len() - sep - 1 - 6, "{s}");
    }
    for s in BIP350_VALID {
        let d = bech32::decode(s.as_bytes()).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(d.variant, Variant::Bech32m, "{s}");
    }
}

#[test]
fn bech32_invalid_strings() {
    // Every reason given is one of form, so neither checksum variant may accept them.
    for s in BIP173_INVALID.iter().chain(BIP350_INVALID) {
        assert!(bech32::decode(s).is_none(), "{}", String::from_utf8_lossy(s));
    }
}

#[test]
fn bech32_checksum_catches_every_single_character_change() {
    for s in BIP173_VALID.iter().chain(BIP350_VALID) {
        let lower = s.to_ascii_lowercase();
        let sep = lower.rfind('1').unwrap();
        for bad in one_char_changes(&lower, b"qpzry9x8gf2tvdw0s3jn54khce6mua7l") {
            if bad[..=sep] == lower.as_bytes()[..=sep] {
                assert!(
                    bech32::decode(&bad).is_none(),
                    "{}",
                    String::from_utf8_lossy(&bad)
                );
            }
        }
    }
}

#[test]
fn segwit_valid_addresses_and_their_script_pubkeys() {
    for (s, spk) in SEGWIT_VALID {
        let w = segwit(s.as_bytes()).unwrap_or_else(|| panic!("{s}"));
        let spk = hex(spk);
        let version = if spk[0] == 0 { 0 } else { spk[0] - 0x50 };
        assert_eq!(w.version, version, "{s}");
        assert_eq!(usize::from(spk[1]), w.program_len, "{s}");
        assert_eq!(w.program(), &spk[2..], "{s}");
    }
}

#[test]
fn segwit_invalid_addresses() {
    for s in BIP350_SEGWIT_INVALID
        .iter()
        .chain(BIP173_SEGWIT_INVALID)
        .chain(BIP173_V1_PLUS_NOW_INVALID)
    {
        assert!(segwit(s.as_bytes()).is_none(), "{s}");
    }
    // The v1+ examples still carry a good Bech32 checksum: only the segwit rule refuses them.
    for s in BIP173_V1_PLUS_NOW_INVALID {
        assert_eq!(
            bech32::decode(s.as_bytes()).map(|d| d.variant),
            Some(Variant::Bech32),
            "{s}"
        );
    }
    assert!(bech32::decode_segwit(b"").is_none());
    assert!(bech32::decode_segwit(&[b'q'; 91]).is_none());
}

/// BIP-39 test vectors of the reference implementation (trezor/python-mnemonic
/// vectors.json, "english"; passphrase "TREZOR"): entropy hex and mnemonic.
const BIP39_VECTORS: &[(&str, &str)] = &[
    ("00000000000000000000000000000000", "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"),
    ("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "legal winner thank year wave sausage worth useful legal winner thank yellow"),
    ("80808080808080808080808080808080", "letter advice cage absurd amount doctor acoustic avoid letter advice cage above"),
    ("ffffffffffffffffffffffffffffffff", "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong"),
    ("000000000000000000000000000000000000000000000000", "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon agent"),
    ("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal will"),
    ("808080808080808080808080808080808080808080808080", "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter always"),
    ("ffffffffffffffffffffffffffffffffffffffffffffffff", "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo when"),
    ("0000000000000000000000000000000000000000000000000000000000000000", "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"),
    ("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"),
    ("8080808080808080808080808080808080808080808080808080808080808080", "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless"),
    ("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote"),
    ("9e885d952ad362caeb4efe34a8e91bd2", "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic"),
    ("6610b25967cdcca9d59875f5cb50b0ea75433311869e930b", "gravity machine north sort system female filter attitude volume fold club stay feature office ecology stable narrow fog"),
    ("68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c", "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple dilemma loan word shrug inflict delay length"),
    ("c0ba5a8e914111210f2bd131f3d5e08d", "scheme spot photo card baby mountain device kick cradle pact join borrow"),
    ("6d9be1ee6ebd27a258115aad99b7317b9c8d28b6d76431c3", "horn tenant knee talent sponsor spell gate clip pulse soap slush warm silver nephew swap uncle crack brave"),
    ("9f6a2878b2520799a44ef18bc7df394e7061a224d2c33cd015b157d746869863", "panda eyebrow bullet gorilla call smoke muffin taste mesh discover soft ostrich alcohol speed nation flash devote level hobby quick inner drive ghost inside"),
    ("23db8160a31d3e0dca3688ed941adbf3", "cat swing flag economy stadium alone churn speed unique patch report train"),
    ("8197a4a47f0425faeaa69deebc05ca29c0a5b5cc76ceacc0", "light rule cinnamon wrap drastic word pride squirrel upgrade then income fatal apart sustain crack supply proud access"),
    ("066dca1a2bb7e8a1db2832148ce9933eea0f3ac9548d793112d9a95c9407efad", "all hour make first leader extend hole alien behind guard gospel lava path output census museum junior mass reopen famous sing advance salt reform"),
    ("f30f8c1da665478f49b001d94c5fc452", "vessel ladder alter error federal sibling chat ability sun glass valve picture"),
    ("c10ec20dc3cd9f652c7fac2f1230f7a3c828389a14392f05", "scissors invite lock maple supreme raw rapid void congress muscle digital elegant little brisk hair mango congress clump"),
    ("f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f", "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold"),
];

// ---------------------------------------------------------------------------------------
// Ethereum (EIP-55)
// ---------------------------------------------------------------------------------------

/// EIP-55, "Test Cases": all caps, all lower, and checksummed mixed case.
const EIP55_VALID: &[&str] = &[
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
];

#[test]
fn eip55_accepts_the_eip_test_cases() {
    for s in EIP55_VALID {
        assert_eq!(eip55::check(s.as_bytes()), Eip55::Valid, "{s}");
        // Any address in one case carries no checksum and is valid.
        assert_eq!(
            eip55::check(format!("0x{}", s[2..].to_ascii_lowercase()).as_bytes()),
            Eip55::Valid
        );
        assert_eq!(
            eip55::check(format!("0x{}", s[2..].to_ascii_uppercase()).as_bytes()),
            Eip55::Valid
        );
    }
}

#[test]
fn eip55_refuses_one_letter_in_the_wrong_case() {
    for s in &EIP55_VALID[4..] {
        for i in 2..s.len() {
            let mut bad = s.as_bytes().to_vec();
            if !bad[i].is_ascii_alphabetic() {
                continue;
            }
            bad[i] ^= 0x20;
            let single_case = bad[2..].iter().all(|c| !c.is_ascii_lowercase())
                || bad[2..].iter().all(|c| !c.is_ascii_uppercase());
            if !single_case {
                assert_eq!(
                    eip55::check(&bad),
                    Eip55::Invalid,
                    "{}",
                    String::from_utf8_lossy(&bad)
                );
            }
        }
    }
}

#[test]
fn eip55_refuses_what_is_not_an_address() {
    for bad in [
        "0XD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB",  // 0X prefix
        "D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",    // no prefix
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aD",   // 39 digits
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDbb", // 41 digits
        "0xG1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",  // not hex
        "0x",
        "",
    ] {
        assert_eq!(eip55::check(bad.as_bytes()), Eip55::Invalid, "{bad}");
    }
}

// ---------------------------------------------------------------------------------------
// Monero
// ---------------------------------------------------------------------------------------

/// The Monero Project's donation address (getmonero.org, "Donate"), the examples of
/// docs.getmonero.org "Public address" (standard, and integrated with payment id
/// 8a125052fe6f3877) and the Monero General Fund's subaddress.
const MONERO_VALID: &[&str] = &[
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge",
    "4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKKQePHES9khPK",
    "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H",
];

#[test]
fn monero_published_addresses() {
    for s in MONERO_VALID {
        assert!(monero::valid(s.as_bytes()), "{s}");
    }
}

#[test]
fn monero_one_character_changes_fail() {
    for s in MONERO_VALID {
        // Every position, a few replacement characters each (all 57 would be ~25,000 hashes).
        for i in 0..s.len() {
            for &c in b"1AzK" {
                let mut bad = s.as_bytes().to_vec();
                if bad[i] == c {
                    continue;
                }
                bad[i] = c;
                assert!(!monero::valid(&bad), "{}", String::from_utf8_lossy(&bad));
            }
        }
    }
}

#[test]
fn monero_refuses_wrong_lengths_and_characters() {
    let donation = MONERO_VALID[0];
    assert!(!monero::valid(&donation.as_bytes()[..94]));
    assert!(!monero::valid(format!("{donation}1").as_bytes()));
    assert!(!monero::valid(b""));
    assert!(!monero::valid(donation.replace('A', "0").as_bytes()));
    // 11 'z's overflow a 64-bit block; Monero's decoder refuses that.
    let overflow = format!("{}{}", "z".repeat(11), &donation[11..]);
    assert!(!monero::valid(overflow.as_bytes()));
}

// ---------------------------------------------------------------------------------------
// Tor v3 onion services
// ---------------------------------------------------------------------------------------

/// v3 onion addresses as their operators publish them: the Tor Project's www.torproject.org
/// (onion.torproject.org), DuckDuckGo, the Internet Archive, ProPublica and Proton Mail.
const ONIONS: &[&str] = &[
    "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid",
    "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad",
    "archivep75mbjunhxc6x4j5mwjmomyxb573v42baldlqu56ruil2oiad",
    "p53lf57qovyuvwsc6xnrppyply3vtqm7l6pcobkmyqsiofyeznfu5uqd",
    "protonmailrmez3lotccipshtkleegetolb73fuirgj7r4o4vfu7ozyd",
];

#[test]
fn onion_published_v3_addresses() {
    for s in ONIONS {
        assert!(onion::valid_v3(s.as_bytes()), "{s}");
        assert!(onion::valid_v3(s.to_ascii_uppercase().as_bytes()), "{s}");
    }
}

#[test]
fn onion_one_character_changes_fail() {
    // The checksum is 16 bits, so about one change in 65,536 slips through: of the 8,680
    // one-character changes of these five labels exactly one does (checked independently with
    // Python's hashlib.sha3_256). Changing the checksum or version characters alone never
    // passes.
    let mut passed = Vec::new();
    for s in ONIONS {
        for bad in one_char_changes(s, b"abcdefghijklmnopqrstuvwxyz234567") {
            if onion::valid_v3(&bad) {
                passed.push(String::from_utf8(bad).unwrap());
            }
        }
    }
    assert_eq!(
        passed,
        ["23zyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid"]
    );
    for s in ONIONS {
        for bad in one_char_changes(s, b"abcdefghijklmnopqrstuvwxyz234567") {
            if bad[..52] == s.as_bytes()[..52] {
                assert!(!onion::valid_v3(&bad), "{}", String::from_utf8_lossy(&bad));
            }
        }
    }
}

#[test]
fn onion_refuses_other_forms() {
    let ddg = ONIONS[1];
    assert!(!onion::valid_v3(format!("{ddg}.onion").as_bytes()));
    assert!(!onion::valid_v3(&ddg.as_bytes()[..55]));
    assert!(!onion::valid_v3(ddg.replace('g', "1").as_bytes()));
    assert!(!onion::valid_v3(b"expyuzz4wqqyqhjn"), "v2 addresses are not v3");
    assert!(!onion::valid_v3(b""));
}

// ---------------------------------------------------------------------------------------
// BIP-39
// ---------------------------------------------------------------------------------------

#[test]
fn bip39_word_list_is_the_published_one() {
    let digest = Sha256::digest(bip39::ENGLISH.as_bytes());
    assert_eq!(
        digest.to_vec(),
        hex("2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda")
    );
    assert_eq!(bip39::word(0), Some("abandon"));
    assert_eq!(bip39::word(2047), Some("zoo"));
    assert_eq!(bip39::word(2048), None);
    for i in 0..2048u16 {
        assert_eq!(bip39::word_index(bip39::word(i).unwrap().as_bytes()), Some(i));
    }
    for w in [
        "",
        "abandonx",
        "Abandon",
        "ZOO",
        "zo",
        "zoos",
        "aaaaaaaaa",
        "a",
        "\u{e9}t\u{e9}",
    ] {
        assert_eq!(bip39::word_index(w.as_bytes()), None, "{w}");
    }
}

fn indices(mnemonic: &str) -> Vec<u16> {
    mnemonic
        .split(' ')
        .map(|w| bip39::word_index(w.as_bytes()).unwrap())
        .collect()
}

#[test]
fn bip39_accepts_the_reference_vectors_and_their_entropy() {
    for (entropy, mnemonic) in BIP39_VECTORS {
        let idx = indices(mnemonic);
        assert!(bip39::valid(&idx), "{mnemonic}");
        // The words' leading bits are the entropy.
        let entropy = hex(entropy);
        let mut bits = Vec::new();
        for i in &idx {
            bits.extend((0..11).rev().map(|b| (i >> b) & 1));
        }
        for (k, byte) in entropy.iter().enumerate() {
            let got = bits[k * 8..k * 8 + 8]
                .iter()
                .fold(0u8, |acc, &b| acc << 1 | b as u8);
            assert_eq!(got, *byte, "{mnemonic}");
        }
    }
}

#[test]
fn bip39_refuses_swapped_and_changed_words() {
    for (_, mnemonic) in BIP39_VECTORS {
        let idx = indices(mnemonic);
        // Swap the first and the last word (which differ in every vector), and change the
        // last word to each of its 15 neighbours that keep the entropy bits but not the
        // checksum: all must fail.
        let mut swapped = idx.clone();
        let n = swapped.len();
        swapped.swap(0, n - 1);
        assert_ne!(swapped, idx);
        assert!(!bip39::valid(&swapped), "swap in {mnemonic}");
        let cs_bits = n * 11 / 33;
        let last = idx[n - 1];
        for cs in 0..(1u16 << cs_bits) {
            let other = (last & !((1 << cs_bits) - 1)) | cs;
            if other != last {
                let mut changed = idx.clone();
                changed[n - 1] = other;
                assert!(!bip39::valid(&changed), "checksum {cs} in {mnemonic}");
            }
        }
    }
}

#[test]
fn bip39_refuses_wrong_counts_and_indices() {
    let idx = indices(BIP39_VECTORS[0].1);
    assert!(!bip39::valid(&idx[..11]));
    assert!(!bip39::valid(&[]));
    let mut extra = idx.clone();
    extra.push(0);
    assert!(!bip39::valid(&extra));
    let mut big = idx.clone();
    big[0] = 2048;
    assert!(!bip39::valid(&big));
}

// ---------------------------------------------------------------------------------------
// Coin classification
// ---------------------------------------------------------------------------------------

#[test]
fn classify_base58_addresses() {
    for (s, want) in [
        // Bitcoin's genesis coinbase address; the Bitcoin wiki's P2SH example.
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Some(("bitcoin", true))),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Some(("bitcoin", true))),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", Some(("bitcoin", false))),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz", Some(("bitcoin", false))),
        // Tether's USDT TRC-20 contract address on Tron (tronscan.org).
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", Some(("tron", true))),
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", Some(("tron", false))),
        // Litecoin P2PKH and P2SH addresses used as examples across Litecoin tooling.
        ("LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1", Some(("litecoin", true))),
        ("MGxNPPB7eBoWPUaprtX9v9CXJZoD2465zN", Some(("litecoin", true))),
        ("LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc2", Some(("litecoin", false))),
        // Base58 payloads of other lengths look like the coin but are not valid.
        ("1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9", Some(("bitcoin", false))),
        // Wrong lengths, leading characters or alphabet: not an address at all.
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaa", None),
        ("1A1zP1eP5QGefi2DMPTfTL5", None),
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6", None),
        ("LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc", None),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", None),
        ("2A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", None),
        ("", None),
    ] {
        assert_eq!(crypto::classify_base58(s.as_bytes()), want, "{s}");
    }
}

#[test]
fn classify_bech32_addresses() {
    for (s, want) in [
        (
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            Some(("bitcoin", true)),
        ),
        (
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            Some(("bitcoin", true)),
        ),
        (
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            Some(("bitcoin", true)),
        ),
        (
            "Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            Some(("bitcoin", false)),
        ),
        (
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            Some(("bitcoin", false)),
        ),
        (
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
            Some(("bitcoin", false)),
        ),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", Some(("bitcoin", false))),
        // BIP-173's P2WPKH program under Litecoin's HRP.
        (
            "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9",
            Some(("litecoin", true)),
        ),
        (
            "LTC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KGMN4N9",
            Some(("litecoin", true)),
        ),
        (
            "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n8",
            Some(("litecoin", false)),
        ),
        // Bitcoin's checksum under the wrong coin's HRP.
        (
            "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            Some(("litecoin", false)),
        ),
        (
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
            None,
        ),
        ("bc1", None),
        ("bc1qqqqq", None),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb", None),
        ("", None),
    ] {
        assert_eq!(crypto::classify_bech32(s.as_bytes()), want, "{s}");
    }
}

// ---------------------------------------------------------------------------------------
// Robustness: no input makes a validator panic.
// ---------------------------------------------------------------------------------------

fn all_validators(s: &[u8]) {
    let _ = luhn::valid(s);
    let _ = ccn::issuer(s);
    let _ = ccn::valid(s);
    let _ = iban::valid(s);
    let _ = iban::country_length(s);
    let mut out = [0u8; 40];
    let _ = base58::decode_into(s, &mut out);
    let _ = base58::decode_into(s, &mut []);
    let _ = base58::check(s);
    let _ = bech32::decode(s);
    let _ = bech32::decode_segwit(s);
    let _ = eip55::check(s);
    let _ = monero::valid(s);
    let _ = onion::valid_v3(s);
    let _ = bip39::word_index(s);
    let idx: Vec<u16> = s.iter().map(|&b| u16::from(b) * 9).collect();
    let _ = bip39::valid(&idx);
    let _ = crypto::classify_base58(s);
    let _ = crypto::classify_bech32(s);
}

#[test]
fn no_input_panics() {
    // Every prefix and suffix of every vector, and pseudo-random strings over the alphabets
    // the validators read (xorshift, fixed seed).
    let mut samples: Vec<Vec<u8>> = Vec::new();
    let vectors = TEST_CARDS
        .iter()
        .map(|c| c.0)
        .chain(IBANS.iter().copied())
        .chain(BIP173_VALID.iter().copied())
        .chain(SEGWIT_VALID.iter().map(|v| v.0))
        .chain(EIP55_VALID.iter().copied())
        .chain(MONERO_VALID.iter().copied())
        .chain(ONIONS.iter().copied());
    for v in vectors {
        for i in 0..=v.len() {
            samples.push(v.as_bytes()[..i].to_vec());
            samples.push(v.as_bytes()[i..].to_vec());
        }
    }
    let alphabets: [&[u8]; 5] = [
        b"0123456789",
        base58::ALPHABET,
        b"qpzry9x8gf2tvdw0s3jn54khce6mua7l1QPZRY",
        b"0123456789abcdefABCDEFx",
        b"\x00\x01\x20\x7f\x80\xff1aZ",
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let alphabet = alphabets[(next() % 5) as usize];
        let len = (next() % 130) as usize;
        samples.push(
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect(),
        );
    }
    for s in &samples {
        all_validators(s);
    }
}
