//! Finding text in arbitrary bytes: maximal runs of ASCII text, and of UTF-16LE text whose
//! characters are ASCII, at least MIN_RUN characters long.
//!
//! Most of a disk image is not text, so runs are found 64 bytes at a time with bit masks
//! (SSE2 compares on x86-64): a window without six text bytes in a row, or six UTF-16LE
//! characters in a row, costs a few instructions; only real runs are walked byte by byte.

/// Shortest run handed to the extractors: shorter than the shortest feature (`a@b.cd`).
pub const MIN_RUN: usize = 6;

/// Printable ASCII, tab, line feed and carriage return.
#[inline]
pub fn is_text(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) || b == b'\t' || b == b'\n' || b == b'\r'
}

/// Bit i of the first mask: byte i is text; of the second: byte i is zero.
#[cfg(target_arch = "x86_64")]
fn masks(chunk: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let mut text = 0u64;
    let mut zero = 0u64;
    // SAFETY: SSE2 is part of the x86-64 baseline; loads are unaligned and in bounds.
    unsafe {
        let lo = _mm_set1_epi8(0x1f);
        let hi = _mm_set1_epi8(0x7f);
        let tab = _mm_set1_epi8(b'\t' as i8);
        let lf = _mm_set1_epi8(b'\n' as i8);
        let cr = _mm_set1_epi8(b'\r' as i8);
        let nul = _mm_setzero_si128();
        for k in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k) as *const __m128i);
            // Signed compares: bytes 0x80..=0xff are negative, so not above 0x1f.
            let printable = _mm_and_si128(_mm_cmpgt_epi8(v, lo), _mm_cmplt_epi8(v, hi));
            let space = _mm_or_si128(
                _mm_cmpeq_epi8(v, tab),
                _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)),
            );
            let t = _mm_movemask_epi8(_mm_or_si128(printable, space)) as u32 as u64;
            let z = _mm_movemask_epi8(_mm_cmpeq_epi8(v, nul)) as u32 as u64;
            text |= (t & 0xffff) << (16 * k);
            zero |= (z & 0xffff) << (16 * k);
        }
    }
    (text, zero)
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(chunk: &[u8; 64]) -> (u64, u64) {
    let mut text = 0u64;
    let mut zero = 0u64;
    for (i, &b) in chunk.iter().enumerate() {
        text |= (is_text(b) as u64) << i;
        zero |= ((b == 0) as u64) << i;
    }
    (text, zero)
}

/// Starts of MIN_RUN text bytes in a row that the window can see whole (bits 0..=58).
const ASCII_SEEN: u32 = 64 - MIN_RUN as u32 + 1;
/// Starts of MIN_RUN UTF-16LE characters in a row the window can see whole (bits 0..=52).
const UTF16_SEEN: u32 = 64 - 2 * MIN_RUN as u32 + 1;

fn low_bits(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Calls `ascii(start, end)` for every maximal ASCII text run of at least MIN_RUN bytes and
/// `utf16(start, end)` for every maximal run of at least MIN_RUN UTF-16LE characters in the
/// ASCII range (`end - start` even), in increasing order of start for each.
pub fn runs(data: &[u8], mut ascii: impl FnMut(usize, usize), mut utf16: impl FnMut(usize, usize)) {
    let len = data.len();
    let (mut ascii_done, mut utf16_done) = (0usize, 0usize);
    let mut pos = 0usize;
    let mut padded; // the last window, filled with bytes that are neither text nor zero
    while pos < len {
        let chunk: &[u8; 64] = if pos + 64 <= len {
            data[pos..pos + 64].try_into().expect("64 bytes")
        } else {
            padded = [0xff; 64];
            padded[..len - pos].copy_from_slice(&data[pos..]);
            &padded
        };
        let (t, z) = masks(chunk);
        let step = UTF16_SEEN as usize;
        if t != 0 {
            let mut a = t;
            for k in 1..MIN_RUN {
                a &= t >> k;
            }
            a &= low_bits(step as u32) & !low_bits(ascii_done.saturating_sub(pos).min(64) as u32);
            while a != 0 {
                let at = pos + a.trailing_zeros() as usize;
                let (s, e) = extend_ascii(data, at);
                ascii(s, e);
                ascii_done = e;
                a &= !low_bits((e - pos).min(64) as u32);
            }
            let u = t & (z >> 1);
            if u != 0 {
                let mut w = u;
                for k in 1..MIN_RUN {
                    w &= u >> (2 * k);
                }
                w &= low_bits(step as u32) & !low_bits(utf16_done.saturating_sub(pos).min(64) as u32);
                while w != 0 {
                    let at = pos + w.trailing_zeros() as usize;
                    let (s, e) = extend_utf16(data, at);
                    utf16(s, e);
                    utf16_done = e;
                    w &= !low_bits((e - pos).min(64) as u32);
                }
            }
        }
        debug_assert!(ASCII_SEEN as usize >= step);
        pos += step;
    }
}

fn extend_ascii(data: &[u8], at: usize) -> (usize, usize) {
    let mut s = at;
    while s > 0 && is_text(data[s - 1]) {
        s -= 1;
    }
    // Forward 64 bytes at a time while whole blocks are text (long runs are common in text).
    let mut e = at;
    while e + 64 <= data.len() {
        let (t, _) = masks(data[e..e + 64].try_into().expect("64 bytes"));
        let n = (!t).trailing_zeros() as usize;
        e += n;
        if n < 64 {
            return (s, e);
        }
    }
    while e < data.len() && is_text(data[e]) {
        e += 1;
    }
    (s, e)
}

fn extend_utf16(data: &[u8], at: usize) -> (usize, usize) {
    let mut s = at;
    while s >= 2 && is_text(data[s - 2]) && data[s - 1] == 0 {
        s -= 2;
    }
    let mut e = at;
    while e + 1 < data.len() && is_text(data[e]) && data[e + 1] == 0 {
        e += 2;
    }
    (s, e)
}

/// The ASCII characters of a UTF-16LE run (every other byte).
pub fn decode_utf16(run: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(run.iter().step_by(2));
}

#[cfg(test)]
mod tests {
    use super::*;

    type Spans = Vec<(usize, usize)>;

    fn naive(data: &[u8]) -> (Spans, Spans) {
        let mut a = Vec::new();
        let mut i = 0;
        while i < data.len() {
            if is_text(data[i]) {
                let s = i;
                while i < data.len() && is_text(data[i]) {
                    i += 1;
                }
                if i - s >= MIN_RUN {
                    a.push((s, i));
                }
            } else {
                i += 1;
            }
        }
        let mut u = Vec::new();
        for parity in 0..2 {
            let mut i = parity;
            while i + 1 < data.len() {
                if is_text(data[i]) && data[i + 1] == 0 {
                    let s = i;
                    while i + 1 < data.len() && is_text(data[i]) && data[i + 1] == 0 {
                        i += 2;
                    }
                    if (i - s) / 2 >= MIN_RUN {
                        u.push((s, i));
                    }
                } else {
                    i += 2;
                }
            }
        }
        u.sort();
        (a, u)
    }

    #[test]
    fn masked_runs_equal_a_byte_by_byte_walk() {
        let mut state = 0x9e3779b97f4a7c15u64;
        for round in 0..400 {
            let len = 1 + (round * 37) % 700;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Mostly text, zeros and a few others, so runs of every length occur.
                    match state % 10 {
                        0..=5 => b'a' + (state >> 8) as u8 % 26,
                        6 | 7 => 0,
                        8 => b' ',
                        _ => (state >> 16) as u8,
                    }
                })
                .collect();
            let (mut a, mut u) = (Vec::new(), Vec::new());
            runs(&data, |s, e| a.push((s, e)), |s, e| u.push((s, e)));
            u.sort();
            assert_eq!((a, u), naive(&data), "round {round}");
        }
    }
}
