//! 64-bit DCT pHash, defined as the `imagehash` Python package's `phash` (hash_size 8,
//! highfreq_factor 4) computes it, so hashes can be compared with ones labs already hold:
//!
//! 1. Grey: `L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16` (Pillow's `convert("L")`).
//! 2. Resize to 32x32 with Pillow's Lanczos (a = 3) resampler, done as Pillow 13 does it for
//!    8-bit images: two passes with 22-bit fixed-point weights, rounded and clipped to 0..=255
//!    in between, the vertical one first when the height shrinks by more than twice as many
//!    pixels as the width (older Pillow always ran the horizontal pass first, so tall pictures
//!    may differ by a bit or two from imagehash on those versions). A side already 32 long is
//!    not resampled.
//! 3. 2D DCT-II without normalisation (`scipy.fftpack.dct` along rows, then columns), keeping
//!    the top-left 8x8 coefficients, DC included (imagehash keeps it; the classic pHash skips it).
//! 4. Bit set where a coefficient is above the median of the 64 (mean of the 32nd and 33rd).
//!    The hex form reads the 8x8 bits row by row, first bit most significant: imagehash's `str()`.
//!
//! The DCT here is a direct sum in f64 and scipy's goes through an FFT, so coefficients agree
//! to about 1e-12, not bit for bit; a bit can differ only where a coefficient is that close to
//! the median (flat or symmetric pictures, where several coefficients are zero up to rounding).

use super::RgbRows;

const SIZE: usize = 32;
const HASH: usize = 8;
/// Pillow's fixed-point precision for 8-bit resampling weights.
const PRECISION_BITS: u32 = 32 - 8 - 2;
/// Coefficients are rounded to multiples of 1 / GRID before the median.
const GRID: f64 = (1u64 << 20) as f64;

/// A 64-bit pHash: bit 63 is coefficient (0, 0), bit 0 is (7, 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PHash(pub u64);

impl PHash {
    /// 16 lowercase hex digits, as imagehash prints it.
    pub fn to_hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// pHash of an RGB image.
pub fn phash(src: &impl RgbRows) -> PHash {
    let small = resize_32(src);
    let mut dct = dct_8x8(&small);
    // Snap to a grid of 2^-20 (about 1e-6): rounding noise of the direct sums (under 1e-9
    // here) becomes the exact zeros and exact ties that scipy's FFT gives for flat and
    // symmetric pictures, so the median comparison sees what imagehash sees.
    for v in dct.iter_mut().flatten() {
        *v = (*v * GRID).round() / GRID;
    }
    let mut sorted: Vec<f64> = dct.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    let mut bits = 0u64;
    for &v in dct.iter().flatten() {
        bits = (bits << 1) | u64::from(v > median);
    }
    PHash(bits)
}

/// Pillow's `L` from RGB.
fn grey_row(rgb: &[u8], out: &mut [u8]) {
    for (px, o) in rgb.chunks_exact(3).zip(out.iter_mut()) {
        let l = 19595 * u32::from(px[0]) + 38470 * u32::from(px[1]) + 7471 * u32::from(px[2]) + 0x8000;
        *o = (l >> 16) as u8;
    }
}

fn lanczos(x: f64) -> f64 {
    fn sinc(x: f64) -> f64 {
        if x == 0.0 {
            1.0
        } else {
            let x = x * std::f64::consts::PI;
            x.sin() / x
        }
    }
    if (-3.0..3.0).contains(&x) {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

/// Per output sample: the first input index and the fixed-point weights, as Pillow's
/// `precompute_coeffs` and `normalize_coeffs_8bpc` make them.
struct Weights {
    taps: Vec<(usize, Vec<i32>)>,
}

impl Weights {
    fn new(in_size: usize, out_size: usize) -> Self {
        let scale = in_size as f32 as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = 3.0 * filterscale;
        let mut taps = Vec::with_capacity(out_size);
        for xx in 0..out_size {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let n = xmax.saturating_sub(xmin);
            let mut k: Vec<f64> = (0..n)
                .map(|x| lanczos(((x + xmin) as f64 - center + 0.5) * ss))
                .collect();
            let ww: f64 = k.iter().sum();
            if ww != 0.0 {
                for v in &mut k {
                    *v /= ww;
                }
            }
            let one = f64::from(1u32 << PRECISION_BITS);
            let fixed = k
                .iter()
                .map(|&v| {
                    if v < 0.0 {
                        (-0.5 + v * one) as i32
                    } else {
                        (0.5 + v * one) as i32
                    }
                })
                .collect();
            taps.push((xmin, fixed));
        }
        Weights { taps }
    }

    /// One output sample from `get(index)`: rounded, then clipped to 0..=255 (Pillow's clip8).
    fn apply(&self, out: usize, get: impl Fn(usize) -> u8) -> u8 {
        let (start, k) = &self.taps[out];
        let mut ss: i32 = 1 << (PRECISION_BITS - 1);
        for (x, &w) in k.iter().enumerate() {
            ss = ss.wrapping_add(i32::from(get(start + x)).wrapping_mul(w));
        }
        clip8(ss)
    }

    /// Output sample `out` of a contiguous line of samples.
    fn apply_line(&self, out: usize, line: &[u8]) -> u8 {
        let (start, k) = &self.taps[out];
        let mut ss: i32 = 1 << (PRECISION_BITS - 1);
        for (&p, &w) in line[*start..*start + k.len()].iter().zip(k) {
            ss = ss.wrapping_add(i32::from(p).wrapping_mul(w));
        }
        clip8(ss)
    }

    /// The weight output sample `out` gives input `index`, if it reads it.
    fn weight(&self, out: usize, index: usize) -> Option<i32> {
        let (start, k) = &self.taps[out];
        index.checked_sub(*start).and_then(|i| k.get(i).copied())
    }

    /// Input indices `[first, last)` that some output sample reads.
    fn span(&self) -> (usize, usize) {
        let first = self.taps.first().map_or(0, |t| t.0);
        let last = self.taps.last().map_or(0, |t| t.0 + t.1.len());
        (first, last)
    }
}

/// 32x32 grey as Pillow's `convert("L").resize((32, 32), LANCZOS)` gives it, streaming over
/// the rows: never more than 32 rows' worth of intermediate values are kept.
///
/// Pillow (13) runs the vertical pass first when the height shrinks by more than twice as many
/// pixels as the width (`h - 32 > 2 (w - 32)` and `h > 32`), otherwise the horizontal pass first.
/// The order matters: each pass rounds and clips to 0..=255.
fn resize_32(src: &impl RgbRows) -> [[u8; SIZE]; SIZE] {
    let (w, h) = (src.width(), src.height());
    let mut scratch = vec![0u8; w * 3];
    let mut line = vec![0u8; w];
    let horiz = (w != SIZE).then(|| Weights::new(w, SIZE));
    let vert = (h != SIZE).then(|| Weights::new(h, SIZE));
    let vertical_first = h > SIZE && (h - SIZE) as i64 > 2 * (w as i64 - SIZE as i64);
    let mut out = [[0u8; SIZE]; SIZE];
    match (&vert, vertical_first) {
        (Some(vw), true) => {
            // Vertical pass over full-width rows, accumulated in fixed point as rows arrive.
            let mut acc = vec![vec![1i32 << (PRECISION_BITS - 1); w]; SIZE];
            for y in 0..h {
                grey_row(src.row(y, &mut scratch), &mut line);
                for (yy, a) in acc.iter_mut().enumerate() {
                    if let Some(k) = vw.weight(yy, y) {
                        for (av, &p) in a.iter_mut().zip(&line) {
                            *av = av.wrapping_add(i32::from(p).wrapping_mul(k));
                        }
                    }
                }
            }
            for (a, orow) in acc.iter().zip(out.iter_mut()) {
                let column: Vec<u8> = a.iter().map(|&v| clip8(v)).collect();
                match &horiz {
                    Some(hw) => {
                        for (xx, v) in orow.iter_mut().enumerate() {
                            *v = hw.apply_line(xx, &column);
                        }
                    }
                    None => orow.copy_from_slice(&column),
                }
            }
        }
        _ => {
            // Horizontal pass on each row the vertical pass reads, then the vertical pass.
            let (first, last) = vert.as_ref().map_or((0, h), Weights::span);
            let mut rows: Vec<[u8; SIZE]> = Vec::with_capacity(last - first);
            for y in first..last {
                grey_row(src.row(y, &mut scratch), &mut line);
                let mut r = [0u8; SIZE];
                match &horiz {
                    Some(hw) => {
                        for (xx, v) in r.iter_mut().enumerate() {
                            *v = hw.apply_line(xx, &line);
                        }
                    }
                    None => r.copy_from_slice(&line[..SIZE]),
                }
                rows.push(r);
            }
            match &vert {
                Some(vw) => {
                    for (yy, orow) in out.iter_mut().enumerate() {
                        for (xx, v) in orow.iter_mut().enumerate() {
                            *v = vw.apply(yy, |y| rows[y - first][xx]);
                        }
                    }
                }
                None => out.copy_from_slice(&rows),
            }
        }
    }
    out
}

/// Pillow's clip8: a fixed-point sum to 0..=255.
fn clip8(v: i32) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Top-left 8x8 of scipy's unnormalised 2D DCT-II: `y[k] = 2 sum x[n] cos(pi k (2n + 1) / 64)`,
/// first down the columns, then along the rows.
fn dct_8x8(px: &[[u8; SIZE]; SIZE]) -> [[f64; HASH]; HASH] {
    let mut c = [[0.0f64; SIZE]; HASH];
    for (k, row) in c.iter_mut().enumerate() {
        for (n, v) in row.iter_mut().enumerate() {
            *v = 2.0 * (std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * SIZE) as f64).cos();
        }
    }
    // Down the columns: t[k][x] = sum_y c[k][y] * px[y][x].
    let mut t = [[0.0f64; SIZE]; HASH];
    for (k, trow) in t.iter_mut().enumerate() {
        for (x, tv) in trow.iter_mut().enumerate() {
            *tv = (0..SIZE).map(|y| c[k][y] * f64::from(px[y][x])).sum();
        }
    }
    // Along the rows: out[k][l] = sum_x t[k][x] * c[l][x].
    let mut out = [[0.0f64; HASH]; HASH];
    for (k, orow) in out.iter_mut().enumerate() {
        for (l, ov) in orow.iter_mut().enumerate() {
            *ov = (0..SIZE).map(|x| t[k][x] * c[l][x]).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perceptual::RgbBuffer;

    #[test]
    fn grey_is_pillows_formula() {
        let mut out = [0u8; 4];
        grey_row(&[255, 255, 255, 0, 0, 0, 255, 0, 0, 10, 200, 30], &mut out);
        // 255 * 65536 + 0x8000 >> 16 = 255; red alone: 255 * 19595 + 32768 >> 16 = 76;
        // (10 * 19595 + 200 * 38470 + 30 * 7471 + 32768) >> 16 = 8_146_848 >> 16 = 124.
        // Pillow 13 gives the same four values for these pixels.
        assert_eq!(out, [255, 0, 76, 124]);
    }

    #[test]
    fn lanczos_weights_sum_to_one_in_fixed_point() {
        for (n, m) in [(100, 32), (33, 32), (7, 32), (1000, 32)] {
            let w = Weights::new(n, m);
            for (_, k) in &w.taps {
                let sum: i64 = k.iter().map(|&v| i64::from(v)).sum();
                assert!(
                    (sum - (1 << PRECISION_BITS)).abs() <= k.len() as i64,
                    "{n}->{m}: {sum}"
                );
            }
        }
        // A flat line stays flat.
        let w = Weights::new(100, 32);
        for xx in 0..32 {
            assert_eq!(w.apply(xx, |_| 200), 200);
        }
    }

    #[test]
    fn horizontal_ramp_hand_computed() {
        // 32x32, brightness rising left to right, constant down the columns: no resampling.
        // The column DCT leaves only row k = 0 (64 * value; the other rows are zero up to
        // rounding), so the row-0 coefficients are the ramp's: DC large and positive, odd
        // harmonics large and negative. The median of the 64 is within rounding of 0, so the
        // DC bit (63) is set and the bits of (0, 1), (0, 3), (0, 5), (0, 7) are clear; the
        // near-zero coefficients may fall either side of the median.
        let mut rgb = vec![0u8; 32 * 32 * 3];
        for y in 0..32 {
            for x in 0..32 {
                rgb[(y * 32 + x) * 3..(y * 32 + x) * 3 + 3].fill((x * 8) as u8);
            }
        }
        let h = phash(&RgbBuffer::new(&rgb, 32, 32).unwrap()).0;
        assert_eq!(h >> 63, 1);
        for l in [1, 3, 5, 7] {
            assert_eq!((h >> (63 - l)) & 1, 0, "coefficient (0, {l})");
        }
    }
}
