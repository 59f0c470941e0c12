//! Bech32 (BIP-173) and Bech32m (BIP-350) strings, and segwit addresses built on them.

/// The 32 data characters, each at its 5-bit value.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// 5-bit value of each lower-case ASCII byte in [`CHARSET`], 0xff for the rest.
const VALUES: [u8; 128] = {
    let mut t = [0xffu8; 128];
    let mut i = 0;
    while i < 32 {
        t[CHARSET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// The checksum constant of BIP-350's Bech32m.
const BECH32M_CONST: u32 = 0x2bc8_30a3;

/// Which checksum a string carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// BIP-173: the polymod of a valid string is 1.
    Bech32,
    /// BIP-350: the polymod of a valid string is 0x2bc830a3.
    Bech32m,
}

/// Longest human-readable part: 90 characters less the separator and a 6-character checksum.
pub const MAX_HRP: usize = 83;

/// A human-readable part, lower-cased, held inline so that decoding allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hrp {
    bytes: [u8; MAX_HRP],
    len: u8,
}

impl Hrp {
    /// The HRP bytes (lower case).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The HRP as text; it is printable ASCII by construction, so this is never empty for a
    /// decoded string.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// A checksum-valid Bech32/Bech32m string: its HRP, its 5-bit data values without the
/// checksum, and which checksum it carried.
#[derive(Clone, Copy, Debug)]
pub struct Decoded {
    pub hrp: Hrp,
    data: [u8; 90],
    data_len: usize,
    pub variant: Variant,
}

impl Decoded {
    /// The 5-bit data values, checksum excluded.
    pub fn data(&self) -> &[u8] {
        &self.data[..self.data_len]
    }
}

/// A segwit address: HRP (lower case), witness version, and the witness program.
#[derive(Clone, Copy, Debug)]
pub struct Segwit {
    pub hrp: Hrp,
    pub version: u8,
    pub program: [u8; 40],
    pub program_len: usize,
}

impl Segwit {
    /// The witness program bytes.
    pub fn program(&self) -> &[u8] {
        &self.program[..self.program_len]
    }
}

/// True for a character of the Bech32 data alphabet, either case.
pub fn is_data_char(c: u8) -> bool {
    VALUES
        .get(usize::from(c.to_ascii_lowercase()))
        .is_some_and(|&v| v != 0xff)
}

/// BIP-173's BCH checksum step over one 5-bit value.
fn polymod_step(chk: u32, v: u8) -> u32 {
    const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let b = chk >> 25;
    let mut chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
    for (i, g) in GEN.iter().enumerate() {
        if (b >> i) & 1 == 1 {
            chk ^= g;
        }
    }
    chk
}

/// Decodes a Bech32 or Bech32m string per BIP-173/BIP-350: at most 90 characters, no mixed
/// case, HRP of 1–83 characters in 33–126, the last '1' as separator, at least 6 data
/// characters from the charset, and a checksum valid for one of the two variants.
pub fn decode(s: &[u8]) -> Option<Decoded> {
    if s.len() > 90 {
        return None;
    }
    let has_lower = s.iter().any(u8::is_ascii_lowercase);
    let has_upper = s.iter().any(u8::is_ascii_uppercase);
    if has_lower && has_upper {
        return None;
    }
    let sep = s.iter().rposition(|&c| c == b'1')?;
    let (hrp_raw, data_raw) = (&s[..sep], &s[sep + 1..]);
    if hrp_raw.is_empty() || hrp_raw.len() > MAX_HRP || data_raw.len() < 6 {
        return None;
    }
    let mut hrp = Hrp {
        bytes: [0; MAX_HRP],
        len: hrp_raw.len() as u8,
    };
    for (dst, &c) in hrp.bytes.iter_mut().zip(hrp_raw) {
        if !(33..=126).contains(&c) {
            return None;
        }
        *dst = c.to_ascii_lowercase();
    }
    let hrp_bytes = hrp.as_bytes();
    let mut chk = 1u32;
    for &c in hrp_bytes {
        chk = polymod_step(chk, c >> 5);
    }
    chk = polymod_step(chk, 0);
    for &c in hrp_bytes {
        chk = polymod_step(chk, c & 31);
    }
    let mut data = [0u8; 90];
    for (dst, &c) in data.iter_mut().zip(data_raw) {
        let v = *VALUES.get(usize::from(c.to_ascii_lowercase()))?;
        if v == 0xff {
            return None;
        }
        *dst = v;
        chk = polymod_step(chk, v);
    }
    let variant = match chk {
        1 => Variant::Bech32,
        BECH32M_CONST => Variant::Bech32m,
        _ => return None,
    };
    Some(Decoded {
        hrp,
        data,
        data_len: data_raw.len() - 6,
        variant,
    })
}

/// Regroups 5-bit values into bytes as BIP-173's `convertbits(data, 5, 8, False)`: at most
/// 4 bits of padding, all zero. Returns the byte count written to `out`.
fn five_to_eight(data: &[u8], out: &mut [u8; 40]) -> Option<usize> {
    let (mut acc, mut bits, mut n) = (0u32, 0u32, 0usize);
    for &v in data {
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 5 && acc == 0).then_some(n)
}

/// A segwit address of any HRP per BIP-173 as amended by BIP-350: witness version 0–16,
/// program of 2–40 bytes (20 or 32 for version 0), Bech32 for version 0 and Bech32m for 1–16.
pub fn decode_segwit(s: &[u8]) -> Option<Segwit> {
    let d = decode(s)?;
    let (&version, rest) = d.data().split_first()?;
    if version > 16 {
        return None;
    }
    let mut program = [0u8; 40];
    let program_len = five_to_eight(rest, &mut program)?;
    if !(2..=40).contains(&program_len) || (version == 0 && program_len != 20 && program_len != 32) {
        return None;
    }
    let wanted = if version == 0 {
        Variant::Bech32
    } else {
        Variant::Bech32m
    };
    (d.variant == wanted).then_some(Segwit {
        hrp: d.hrp,
        version,
        program,
        program_len,
    })
}
