//! TLSH, Trend Micro's locality sensitive hash, in its current "T1" form (128 buckets,
//! 1-byte checksum): 72 characters, "T1" then 35 bytes in hex.
//!
//! Every 5-byte window adds 1 to six of 256 buckets, chosen by Pearson hashes of byte
//! triplets in the window; the digest keeps, for the first 128 buckets, which quartile each
//! count falls in (2 bits), plus a coded length, two quartile ratios and a checksum. The
//! distance of two digests weighs the differences of all four.
//!
//! Like the reference, no digest exists for fewer than 50 bytes or when half or more of
//! the 128 buckets stay empty (too little variety): the reference prints "TNULL", here the
//! digest is `None`. The reference keeps the length in 32 bits; past 4 GiB the length code
//! here stays at its 4 GiB value.

use super::DigestError;

const WINDOW: usize = 5;
const BUCKETS: usize = 256;
const EFF_BUCKETS: usize = 128;
const CODE_SIZE: usize = EFF_BUCKETS / 4;
const MIN_DATA_LENGTH: u64 = 50;
/// Hex characters after the "T1" prefix: checksum, length, quartile ratios, body.
const HEX_LEN: usize = 2 * (3 + CODE_SIZE);

/// Pearson's permutation of 0..=255 that TLSH uses for every hash: the digest depends on
/// each entry.
#[rustfmt::skip]
const PEARSON: [u8; 256] = [
    1, 87, 49, 12, 176, 178, 102, 166, 121, 193, 6, 84, 249, 230, 44, 163,
    14, 197, 213, 181, 161, 85, 218, 80, 64, 239, 24, 226, 236, 142, 38, 200,
    110, 177, 104, 103, 141, 253, 255, 50, 77, 101, 81, 18, 45, 96, 31, 222,
    25, 107, 190, 70, 86, 237, 240, 34, 72, 242, 20, 214, 244, 227, 149, 235,
    97, 234, 57, 22, 60, 250, 82, 175, 208, 5, 127, 199, 111, 62, 135, 248,
    174, 169, 211, 58, 66, 154, 106, 195, 245, 171, 17, 187, 182, 179, 0, 243,
    132, 56, 148, 75, 128, 133, 158, 100, 130, 126, 91, 13, 153, 246, 216, 219,
    119, 68, 223, 78, 83, 88, 201, 99, 122, 11, 92, 32, 136, 114, 52, 10,
    138, 30, 48, 183, 156, 35, 61, 26, 143, 74, 251, 94, 129, 162, 63, 152,
    170, 7, 115, 167, 241, 206, 3, 150, 55, 59, 151, 220, 90, 53, 23, 131,
    125, 173, 15, 238, 79, 95, 89, 16, 105, 137, 225, 224, 217, 160, 37, 123,
    118, 73, 2, 157, 46, 116, 9, 145, 134, 228, 207, 212, 202, 215, 69, 229,
    27, 188, 67, 124, 168, 252, 42, 4, 29, 108, 21, 247, 19, 205, 39, 203,
    233, 40, 186, 147, 198, 192, 155, 33, 164, 191, 98, 204, 165, 180, 117, 76,
    140, 36, 210, 172, 41, 54, 159, 8, 185, 232, 113, 196, 231, 47, 146, 120,
    51, 65, 28, 144, 254, 221, 93, 189, 194, 139, 112, 43, 71, 109, 184, 209,
];

/// `PEARSON[PEARSON[salt] ^ x]` for every x: the first two rounds of a salted Pearson
/// hash folded into one lookup, as the hot loop runs seven of them per byte.
const fn salted(salt: u8) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        table[x] = PEARSON[(PEARSON[salt as usize] ^ x as u8) as usize];
        x += 1;
    }
    table
}

/// Salts of the checksum (0) and of the six bucket triplets (2, 3, 5, 7, 11, 13).
const SALTED: [[u8; 256]; 7] = [
    salted(0),
    salted(2),
    salted(3),
    salted(5),
    salted(7),
    salted(11),
    salted(13),
];

#[inline(always)]
fn pearson3(table: &[u8; 256], a: u8, b: u8, c: u8) -> u8 {
    PEARSON[(PEARSON[(table[a as usize] ^ b) as usize] ^ c) as usize]
}

/// Streaming TLSH: feed any number of buffers, then ask for the digest.
#[derive(Clone)]
pub struct TlshHasher {
    buckets: [u32; BUCKETS],
    /// The last four bytes, most recent first.
    recent: [u8; WINDOW - 1],
    checksum: u8,
    length: u64,
}

impl Default for TlshHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl TlshHasher {
    pub fn new() -> Self {
        TlshHasher {
            buckets: [0; BUCKETS],
            recent: [0; WINDOW - 1],
            checksum: 0,
            length: 0,
        }
    }

    /// Bytes fed so far.
    pub fn length(&self) -> u64 {
        self.length
    }

    pub fn update(&mut self, data: &[u8]) {
        let [mut b1, mut b2, mut b3, mut b4] = self.recent;
        let mut data = data;
        // The first four bytes of the stream only fill the window.
        while self.length < (WINDOW - 1) as u64 {
            let Some((&c, rest)) = data.split_first() else {
                break;
            };
            (b4, b3, b2, b1) = (b3, b2, b1, c);
            self.length += 1;
            data = rest;
        }
        let mut checksum = self.checksum;
        let buckets = &mut self.buckets;
        for &b0 in data {
            checksum = pearson3(&SALTED[0], b0, b1, checksum);
            for r in [
                pearson3(&SALTED[1], b0, b1, b2),
                pearson3(&SALTED[2], b0, b1, b3),
                pearson3(&SALTED[3], b0, b2, b3),
                pearson3(&SALTED[4], b0, b2, b4),
                pearson3(&SALTED[5], b0, b1, b4),
                pearson3(&SALTED[6], b0, b3, b4),
            ] {
                buckets[r as usize] = buckets[r as usize].wrapping_add(1);
            }
            (b4, b3, b2, b1) = (b3, b2, b1, b0);
        }
        self.length += data.len() as u64;
        self.checksum = checksum;
        self.recent = [b1, b2, b3, b4];
    }

    /// The "T1..." digest of everything fed so far, or `None` where the reference gives
    /// "TNULL" (under 50 bytes, or too little variety). More input may follow.
    pub fn digest(&self) -> Option<String> {
        if self.length < MIN_DATA_LENGTH {
            return None;
        }
        let counts = &self.buckets[..EFF_BUCKETS];
        if counts.iter().filter(|&&k| k > 0).count() <= EFF_BUCKETS / 2 {
            return None;
        }
        let mut sorted = [0u32; EFF_BUCKETS];
        sorted.copy_from_slice(counts);
        sorted.sort_unstable();
        let q1 = sorted[EFF_BUCKETS / 4 - 1];
        let q2 = sorted[EFF_BUCKETS / 2 - 1];
        let q3 = sorted[EFF_BUCKETS - EFF_BUCKETS / 4 - 1];

        let mut code = [0u8; CODE_SIZE];
        for (byte, quad) in code.iter_mut().zip(counts.chunks_exact(4)) {
            for (j, &k) in quad.iter().enumerate() {
                let level = if k > q3 {
                    3
                } else if k > q2 {
                    2
                } else if k > q1 {
                    1
                } else {
                    0
                };
                *byte |= level << (2 * j);
            }
        }
        let bin = Binary {
            checksum: self.checksum,
            lvalue: length_code(self.length.min(u32::MAX as u64) as u32),
            q1ratio: quartile_ratio(q1, q3),
            q2ratio: quartile_ratio(q2, q3),
            code,
        };
        Some(bin.to_hex())
    }
}

/// `(q * 100 / q3) % 16`, computed as the reference does: 32-bit product, single
/// precision division, truncated.
fn quartile_ratio(q: u32, q3: u32) -> u8 {
    ((q.wrapping_mul(100) as f32 / q3 as f32) as u32 % 16) as u8
}

/// The reference's logarithmic length code: steps of 1.5x up to 656 bytes, 1.3x up to
/// 3199, then 1.1x (so 4 GiB codes as 170).
fn length_code(len: u32) -> u8 {
    const LOG_1_5: f64 = 0.4054651;
    const LOG_1_3: f64 = 0.26236426;
    const LOG_1_1: f64 = 0.095310180;
    // The reference takes a single-precision logarithm, then divides in double.
    let log = (len as f32).ln() as f64;
    let code = if len <= 656 {
        (log / LOG_1_5).floor()
    } else if len <= 3199 {
        (log / LOG_1_3 - 8.72777).floor()
    } else {
        (log / LOG_1_1 - 62.5472).floor()
    };
    (code as i32 & 0xff) as u8
}

/// The fields of a digest, in the reference's internal order.
struct Binary {
    checksum: u8,
    lvalue: u8,
    q1ratio: u8,
    q2ratio: u8,
    code: [u8; CODE_SIZE],
}

impl Binary {
    /// Checksum and length with their nibbles swapped, the two ratios as one byte, then the
    /// body from its last byte to its first: the reference's layout.
    fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut bytes = vec![
            self.checksum.rotate_left(4),
            self.lvalue.rotate_left(4),
            (self.q1ratio << 4) | self.q2ratio,
        ];
        bytes.extend(self.code.iter().rev());
        let mut out = String::with_capacity(2 + HEX_LEN);
        out.push_str("T1");
        for b in bytes {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        out
    }

    /// Reads "T1" + 70 hex digits (either case), or the 70 digits alone (the older form).
    fn parse(text: &str, what: &str) -> Result<Binary, DigestError> {
        let bad = |problem: &str| DigestError(format!("{what}: {problem} in TLSH digest {text:?}"));
        let hex = text.strip_prefix("T1").unwrap_or(text);
        if hex.len() != HEX_LEN {
            return Err(bad(&format!(
                "expected \"T1\" and {HEX_LEN} hex digits, got {} characters",
                text.len()
            )));
        }
        let mut bytes = [0u8; HEX_LEN / 2];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let digit = |c: u8| {
                (c as char)
                    .to_digit(16)
                    .ok_or_else(|| bad("a character that is not hex"))
            };
            *byte = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
        }
        let mut code = [0u8; CODE_SIZE];
        for (dst, src) in code.iter_mut().zip(bytes[3..].iter().rev()) {
            *dst = *src;
        }
        Ok(Binary {
            checksum: bytes[0].rotate_left(4),
            lvalue: bytes[1].rotate_left(4),
            q1ratio: bytes[2] >> 4,
            q2ratio: bytes[2] & 15,
            code,
        })
    }
}

/// Distance between two values on a circle of `range`.
fn mod_diff(x: u8, y: u8, range: i32) -> i32 {
    let d = (x as i32 - y as i32).abs();
    d.min(range - d)
}

/// Body distance: per 2-bit quartile level, the level difference, with 3 (lowest vs
/// highest quartile) weighing 6.
fn body_distance(a: &[u8; CODE_SIZE], b: &[u8; CODE_SIZE]) -> i32 {
    let mut total = 0;
    for (&x, &y) in a.iter().zip(b) {
        for shift in (0..8).step_by(2) {
            let d = (((x >> shift) & 3) as i32 - ((y >> shift) & 3) as i32).abs();
            total += if d == 3 { 6 } else { d };
        }
    }
    total
}

/// The TLSH distance of two digests (0 = same, larger = less alike; no upper bound of
/// note), with the length difference included, as the reference's `diff()` by default.
pub fn tlsh_diff(a: &str, b: &str) -> Result<u32, DigestError> {
    let x = Binary::parse(a, "first digest")?;
    let y = Binary::parse(b, "second digest")?;
    let mut diff = match mod_diff(x.lvalue, y.lvalue, 256) {
        d @ (0 | 1) => d,
        d => d * 12,
    };
    for (p, q) in [(x.q1ratio, y.q1ratio), (x.q2ratio, y.q2ratio)] {
        diff += match mod_diff(p, q, 16) {
            d @ (0 | 1) => d,
            d => (d - 1) * 12,
        };
    }
    diff += (x.checksum != y.checksum) as i32;
    diff += body_distance(&x.code, &y.code);
    Ok(diff as u32)
}

/// The TLSH digest of one buffer, or `None` where the reference gives "TNULL".
pub fn tlsh_digest(data: &[u8]) -> Option<String> {
    let mut h = TlshHasher::new();
    h.update(data);
    h.digest()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::noise;

    #[test]
    fn pearson_table_is_a_permutation() {
        let mut seen = [false; 256];
        PEARSON.iter().for_each(|&v| seen[v as usize] = true);
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn known_digests() {
        // Answers from py-tlsh 5.0.0 (tlsh.hash).
        let ramp: Vec<u8> = (0..50).collect();
        assert_eq!(
            tlsh_digest(&ramp).as_deref(),
            Some("T1509004D4C7D44CCF5D1735CCD155045F554375F750C41030073105D54F55554C71151C")
        );
        let text: Vec<u8> = b"The quick brown fox jumps over the lazy dog. ".repeat(20);
        assert_eq!(
            tlsh_digest(&text).as_deref(),
            Some("T16811024A311C1794658A1888438D95B2D2C9C910612114116570604219482359CD8551")
        );
    }

    #[test]
    fn too_short_or_too_plain_gives_none() {
        assert_eq!(tlsh_digest(&noise(49, 1)), None);
        assert_eq!(tlsh_digest(&[b'a'; 1000]), None);
        assert!(tlsh_digest(&noise(50, 1)).is_some());
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data = noise(100_003, 5);
        let whole = tlsh_digest(&data);
        for chunk in [1, 3, 4, 5, 4096] {
            let mut h = TlshHasher::new();
            data.chunks(chunk).for_each(|c| h.update(c));
            assert_eq!(h.digest(), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn diff_of_a_digest_with_itself_is_zero_and_symmetric() {
        let a = tlsh_digest(&noise(10_000, 1)).unwrap();
        let b = tlsh_digest(&noise(12_000, 2)).unwrap();
        assert_eq!(tlsh_diff(&a, &a), Ok(0));
        assert_eq!(tlsh_diff(&a, &b), tlsh_diff(&b, &a));
        assert_eq!(tlsh_diff(&a, &a[2..].to_lowercase()), Ok(0));
        assert!(tlsh_diff(&a, &b).unwrap() > 100);
    }

    #[test]
    fn malformed_digests_are_errors() {
        let good = tlsh_digest(&noise(1000, 3)).unwrap();
        for bad in [
            "",
            "TNULL",
            &good[..71],
            &format!("{good}0"),
            &format!("T1{}", "G".repeat(70)),
        ] {
            let err = tlsh_diff(&good, bad).unwrap_err();
            assert!(err.0.starts_with("second digest"), "{bad:?}: {err}");
        }
    }
}
