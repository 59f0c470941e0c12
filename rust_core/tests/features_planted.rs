//! The feature scanner over bytes with values planted at chosen offsets, in random bytes,
//! zeros and text, as ASCII and UTF-16LE: each value found at exactly its offset with
//! exactly its value, look-alikes with one character changed not reported as valid, and
//! windows with a lead and an overlap reporting what one whole scan reports, once.
//! The planted values are published ones (Bitcoin's genesis address, EIP-55's examples,
//! BIP-173/350 examples, the card networks' test numbers, IBAN registry examples...).

use _native::features::{Hit, Kind, Scanner};
use _native::noise::noise;

/// (kind, text planted, value reported)
const PLANTS: &[(Kind, &str, &str)] = &[
    (
        Kind::Email,
        "jane.doe+case@mail.example.org",
        "jane.doe+case@mail.example.org",
    ),
    (
        Kind::Url,
        "https://evidence.example.net/a/b.php?id=7",
        "https://evidence.example.net/a/b.php?id=7",
    ),
    (Kind::Ipv4, "203.0.113.54", "203.0.113.54"),
    (
        Kind::Ipv6,
        "2001:db8:85a3::8a2e:370:7334",
        "2001:db8:85a3::8a2e:370:7334",
    ),
    (Kind::Telephone, "+49 30 901820", "+49 30 901820"),
    (Kind::Telephone, "(212) 555-0143", "(212) 555-0143"),
    (Kind::Ccn, "4111 1111 1111 1111", "4111111111111111"),
    (Kind::Ccn, "378282246310005", "378282246310005"),
    (
        Kind::Iban,
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
    ),
    (Kind::Iban, "DE89370400440532013000", "DE89370400440532013000"),
    (
        Kind::Bitcoin,
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    ),
    (
        Kind::Bitcoin,
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    ),
    (
        Kind::Bitcoin,
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    ),
    (
        Kind::Ethereum,
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    ),
    (
        Kind::Monero,
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    ),
    (
        Kind::Onion,
        "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
        "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
    ),
    (
        Kind::Bip39,
        // BIP-39's first English test vector (entropy 00...00).
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    ),
];

/// One character changed in each checksummed value: nothing valid may come of these.
const DECOYS: &[&str] = &[
    "4111 1111 1111 1112",
    "378282246310006",
    "GB82 WEST 1234 5698 7654 33",
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3B",
    "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczae.onion",
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
];

/// (kind, offset, length, value, UTF-16LE)
type Expected = (Kind, u64, u64, String, bool);

fn utf16(s: &str) -> Vec<u8> {
    s.bytes().flat_map(|b| [b, 0]).collect()
}

/// An image of random bytes, zeros and text with every plant in ASCII and in UTF-16LE,
/// each between a space and a newline; returns it and (kind, offset, length, value, utf16).
fn image() -> (Vec<u8>, Vec<Expected>) {
    let mut img = Vec::new();
    let mut want = Vec::new();
    let filler = |i: usize| -> Vec<u8> {
        match i % 3 {
            0 => noise(3000 + i * 7, i as u64 + 1),
            1 => vec![0; 2048],
            _ => b"The quick brown fox jumps over the lazy dog. ".repeat(20),
        }
    };
    let mut i = 0;
    for wide in [false, true] {
        for &(kind, text, value) in PLANTS {
            img.extend(filler(i));
            i += 1;
            let planted = |s: &str| if wide { utf16(s) } else { s.as_bytes().to_vec() };
            img.extend(planted(" "));
            let at = img.len() as u64;
            let bytes = planted(text);
            want.push((kind, at, bytes.len() as u64, value.to_string(), wide));
            img.extend(bytes);
            img.extend(planted("\n"));
        }
        for decoy in DECOYS {
            img.extend(filler(i));
            i += 1;
            let planted = |s: &str| if wide { utf16(s) } else { s.as_bytes().to_vec() };
            img.extend(planted(" "));
            img.extend(planted(decoy));
            img.extend(planted("\n"));
        }
    }
    img.extend(filler(0));
    (img, want)
}

fn key(h: &Hit) -> Expected {
    (h.kind, h.offset, h.length, h.value.clone(), h.utf16)
}

#[test]
fn planted_values_at_their_offsets_and_nothing_else_valid() {
    let (img, mut want) = image();
    let hits = Scanner::default().scan(&img, 0, 0, img.len());
    let mut got: Vec<_> = hits.iter().filter(|h| h.kind != Kind::Domain).map(key).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // Domains: the hosts of the planted e-mail and URL.
    let domains: Vec<_> = hits
        .iter()
        .filter(|h| h.kind == Kind::Domain)
        .map(|h| h.value.as_str())
        .collect();
    assert_eq!(
        domains,
        [
            "mail.example.org",
            "evidence.example.net",
            "mail.example.org",
            "evidence.example.net"
        ]
    );
}

#[test]
fn decoys_are_reported_invalid_on_request() {
    let (img, _) = image();
    let hits = Scanner::new(&_native::features::Kind::ALL, true).scan(&img, 0, 0, img.len());
    let invalid: Vec<_> = hits
        .iter()
        .filter(|h| !h.valid)
        .map(|h| h.value.clone())
        .collect();
    // Each checksummed decoy, in ASCII and in UTF-16LE.
    assert_eq!(invalid.len(), 2 * DECOYS.len(), "{invalid:?}");
    assert!(invalid.contains(&"4111111111111112".to_string()));
    assert!(invalid.contains(&"GB82WEST12345698765433".to_string()));
}

#[test]
fn windows_with_lead_and_overlap_report_each_hit_once() {
    let (img, _) = image();
    let scanner = Scanner::default();
    let whole: Vec<_> = scanner.scan(&img, 0, 0, img.len()).iter().map(key).collect();
    for window in [7, 64, 1000, 4096, 65_536] {
        let (lead, overlap) = (256, 256);
        let mut got = Vec::new();
        let mut start = 0;
        while start < img.len() {
            let from = start.saturating_sub(lead);
            let to = (start + window + overlap).min(img.len());
            let owned = window.min(img.len() - start);
            let hits = scanner.scan(&img[from..to], from as u64, start - from, owned);
            got.extend(hits.iter().map(key));
            start += window;
        }
        assert_eq!(got, whole, "window {window}");
    }
}

#[test]
fn context_is_sixteen_bytes_each_side_escaped() {
    let text = b"\x00\x01 lead text, mail a@example.com\tand more";
    let hits = Scanner::new(&[Kind::Email], false).scan(text, 100, 0, text.len());
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].offset, 100 + 19);
    assert_eq!(hits[0].context, "lead text, mail a@example.com\\x09and more");
}
