//! Meta's PDQ: a 256-bit perceptual hash and a 0..=100 quality score, bit for bit equal to the
//! reference (`pdqhash` on the Python package index, which wraps ThreatExchange's C++ code).
//!
//! The steps and their arithmetic, as the reference does them:
//!
//! 1. Luminance per pixel: `((R * 0.299 + G * 0.587) + B * 0.114)` in f64, rounded to f32
//!    (the Python binding computes it with numpy in double before handing f32 to C++).
//! 2. Jarosz filter: a 1D box filter along every row, then along every column, twice, all in
//!    f32 with a running sum (add the entering sample, then subtract the leaving one) divided
//!    by the samples in the window. Window sizes are `ceil(columns / 128)` along rows and
//!    `ceil(rows / 128)` along columns, so two passes cover one 1/64 block.
//! 3. Decimation to 64x64: sample `floor((i + 0.5) * rows / 64)` (f64) of the filtered image.
//!    A 64x64 input is taken as is, unfiltered.
//! 4. Quality: sum over vertical and horizontal neighbours of `|trunc((u - v) * 100 / 255)|`
//!    (f32), divided by 90 and capped at 100.
//! 5. DCT: `B = D A Dᵀ` with `D[i][j] = sqrt(2/64) * cos(pi / 128 * (i + 1) * (2j + 1))`, rows
//!    1..=16 of the 64-point DCT-II (the DC row is left out), sums in f32 in index order.
//! 6. Bit `16 i + j` is set when `B[i][j]` is above the median of the 256 values (the 128th
//!    smallest, as Torben's method returns). The hex form prints 16-bit words 15 down to 0.
//!
//! Images with fewer than 5 rows or columns hash to all zeros with quality 0, as in the reference.
//!
//! Unlike the reference, which filters two full-size f32 copies of the image, the filter runs
//! as a stream over rows: each column pass keeps only a window of rows, and the second column
//! pass only the 64 sampled columns. Every sample still sees exactly the reference's operations
//! in the reference's order, so the result is the same bits in a fraction of the memory.

use super::RgbRows;

/// Side of the downsampled image.
const SIDE: usize = 64;
/// Rows and columns below which the reference gives up (all-zero hash, quality 0).
const MIN_HASHABLE_DIM: usize = 5;

/// A PDQ hash: bit `k` (k = 16 i + j for DCT coefficient (i, j)) is bit `k % 16` of `words[k / 16]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PdqHash {
    pub words: [u16; 16],
    /// 0..=100; below [`super::PDQ_MIN_RELIABLE_QUALITY`] the hash says little about the picture.
    pub quality: u32,
}

impl PdqHash {
    /// 64 lowercase hex digits, word 15 first: the format of the reference and of published lists.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for w in self.words.iter().rev() {
            s.push_str(&format!("{w:04x}"));
        }
        s
    }

    /// Whether bit `k` (0..256) is set.
    pub fn bit(&self, k: usize) -> bool {
        (self.words[k >> 4] >> (k & 15)) & 1 == 1
    }
}

/// PDQ hash and quality of an RGB image.
pub fn pdq_hash(src: &impl RgbRows) -> PdqHash {
    let (rows, cols) = (src.height(), src.width());
    if rows < MIN_HASHABLE_DIM || cols < MIN_HASHABLE_DIM {
        return PdqHash {
            words: [0; 16],
            quality: 0,
        };
    }
    let block = downsample(src);
    let quality = quality(&block);
    let dct = dct64_to_16(&block);
    PdqHash {
        words: bits_above_median(&dct),
        quality,
    }
}

/// Per-channel luminance terms, `v * coefficient` in f64, as numpy computes them.
struct LumaTables {
    r: [f64; 256],
    g: [f64; 256],
    b: [f64; 256],
}

impl LumaTables {
    fn new() -> Self {
        let mut t = LumaTables {
            r: [0.0; 256],
            g: [0.0; 256],
            b: [0.0; 256],
        };
        for v in 0..256 {
            t.r[v] = v as f64 * 0.299;
            t.g[v] = v as f64 * 0.587;
            t.b[v] = v as f64 * 0.114;
        }
        t
    }

    fn row(&self, rgb: &[u8], out: &mut [f32]) {
        for (px, y) in rgb.chunks_exact(3).zip(out.iter_mut()) {
            *y = self.pixel(px[0], px[1], px[2]);
        }
    }

    #[inline(always)]
    fn pixel(&self, r: u8, g: u8, b: u8) -> f32 {
        (self.r[r as usize] + self.g[g as usize] + self.b[b as usize]) as f32
    }
}

/// `ceil(old / (2 * new))`: the reference's window for one of two box passes.
pub(crate) fn jarosz_window(old: usize, new: usize) -> usize {
    old.div_ceil(2 * new)
}

/// Phase lengths of the reference's 1D box filter: the window is centred on the output,
/// shrunk at both ends of the vector.
#[derive(Clone, Copy)]
struct BoxShape {
    window: usize,
    /// Samples read before the first output (`half - 1`).
    lead: usize,
    /// Outputs written while the window grows (`window - half + 1`).
    grow: usize,
    /// Outputs written while the window shrinks at the end (`half - 1`).
    shrink: usize,
}

impl BoxShape {
    fn new(window: usize) -> Self {
        let half = (window + 2) / 2;
        BoxShape {
            window,
            lead: half - 1,
            grow: window - half + 1,
            shrink: half - 1,
        }
    }
}

/// The reference's box filter down every column of a stream of rows: keeps the last `window`
/// rows and one running sum per column, so each column sees the same operations in the same
/// order as the reference's strided 1D filter.
struct ColumnBox {
    width: usize,
    shape: BoxShape,
    rows_total: usize,
    ring: Vec<f32>,
    sums: Vec<f32>,
    size: usize,
    pushed: usize,
}

impl ColumnBox {
    fn new(width: usize, rows_total: usize, window: usize) -> Self {
        ColumnBox {
            width,
            shape: BoxShape::new(window),
            rows_total,
            ring: vec![0.0; width * window],
            sums: vec![0.0; width],
            size: 0,
            pushed: 0,
        }
    }

    /// Feeds the next row; writes the next output row into `out` and returns true once the
    /// window has filled far enough.
    fn push(&mut self, row: &[f32], out: &mut [f32]) -> bool {
        let r = self.pushed;
        self.pushed += 1;
        let slot = (r % self.shape.window) * self.width;
        let stored = &mut self.ring[slot..slot + self.width];
        if r < self.shape.window {
            for (s, &v) in self.sums.iter_mut().zip(row) {
                *s += v;
            }
            self.size += 1;
            stored.copy_from_slice(row);
            if r < self.shape.lead {
                return false;
            }
            let d = self.size as f32;
            for (o, &s) in out.iter_mut().zip(&self.sums) {
                *o = s / d;
            }
            return true;
        }
        // Full window: add the entering row, then subtract the one leaving (stored in this slot).
        let d = self.size as f32;
        for (((s, &v), old), o) in self
            .sums
            .iter_mut()
            .zip(row)
            .zip(stored.iter_mut())
            .zip(out.iter_mut())
        {
            *s += v;
            *s -= *old;
            *old = v;
            *o = *s / d;
        }
        true
    }

    /// After the last row: the `shrink` output rows that follow, written one at a time.
    fn finish(&mut self, mut emit: impl FnMut(&[f32])) {
        debug_assert_eq!(self.pushed, self.rows_total);
        let mut out = vec![0.0f32; self.width];
        let first_leaving = self.rows_total - self.shape.window;
        for t in 0..self.shape.shrink {
            let slot = ((first_leaving + t) % self.shape.window) * self.width;
            self.size -= 1;
            let d = self.size as f32;
            for ((s, &old), o) in self
                .sums
                .iter_mut()
                .zip(&self.ring[slot..slot + self.width])
                .zip(out.iter_mut())
            {
                *s -= old;
                *o = *s / d;
            }
            emit(&out);
        }
    }
}

/// `floor((i + 0.5) * n / 64)` for each of the 64 samples, as the reference decimates.
fn sample_positions(n: usize) -> [usize; SIDE] {
    let mut pos = [0usize; SIDE];
    for (i, p) in pos.iter_mut().enumerate() {
        *p = (((i as f64 + 0.5) * n as f64) / SIDE as f64) as usize;
    }
    pos
}

/// Rows filtered together by one row pass: the running sums of different rows are independent,
/// so holding rows interleaved (lane `l` of column `c` at `c * LANES + l`) lets one pass over
/// the columns advance all of them at once.
const LANES: usize = 8;

/// The reference's 1D box filter along rows held interleaved, `LANES` rows at a time: every
/// lane sees exactly the operations `box_1d` would apply to its row.
fn box_lanes(input: &[f32], out: &mut [f32], n: usize, shape: BoxShape) {
    let at = |buf: &[f32], i: usize| -> [f32; LANES] {
        let mut v = [0.0f32; LANES];
        v.copy_from_slice(&buf[i * LANES..(i + 1) * LANES]);
        v
    };
    let mut sum = [0.0f32; LANES];
    let mut size = 0usize;
    let (mut ri, mut li, mut oi) = (0, 0, 0);
    for _ in 0..shape.lead {
        let x = at(input, ri);
        for l in 0..LANES {
            sum[l] += x[l];
        }
        size += 1;
        ri += 1;
    }
    for _ in 0..shape.grow {
        let x = at(input, ri);
        size += 1;
        let d = size as f32;
        let o = &mut out[oi * LANES..(oi + 1) * LANES];
        for l in 0..LANES {
            sum[l] += x[l];
            o[l] = sum[l] / d;
        }
        ri += 1;
        oi += 1;
    }
    let d = size as f32;
    for _ in 0..n - shape.window {
        let (x, y) = (at(input, ri), at(input, li));
        let o = &mut out[oi * LANES..(oi + 1) * LANES];
        for l in 0..LANES {
            sum[l] += x[l];
            sum[l] -= y[l];
            o[l] = sum[l] / d;
        }
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..shape.shrink {
        let y = at(input, li);
        size -= 1;
        let d = size as f32;
        let o = &mut out[oi * LANES..(oi + 1) * LANES];
        for l in 0..LANES {
            sum[l] -= y[l];
            o[l] = sum[l] / d;
        }
        li += 1;
        oi += 1;
    }
}

/// Up to `LANES` rows waiting for a row pass, interleaved.
struct RowBatch {
    input: Vec<f32>,
    output: Vec<f32>,
    len: usize,
}

impl RowBatch {
    fn new(cols: usize) -> Self {
        RowBatch {
            input: vec![0.0; cols * LANES],
            output: vec![0.0; cols * LANES],
            len: 0,
        }
    }

    fn add(&mut self, row: &[f32]) {
        let l = self.len;
        for (c, &v) in row.iter().enumerate() {
            self.input[c * LANES + l] = v;
        }
        self.len += 1;
    }

    fn full(&self) -> bool {
        self.len == LANES
    }

    /// Filters the held rows; lane `l` of the result is `output[c * LANES + l]`.
    fn filter(&mut self, cols: usize, shape: BoxShape) -> usize {
        box_lanes(&self.input, &mut self.output, cols, shape);
        std::mem::replace(&mut self.len, 0)
    }
}

/// The stream of filter passes from luminance rows to the 64x64 block.
struct Downsampler {
    cols: usize,
    along_rows: BoxShape,
    row_pos: [usize; SIDE],
    col_pos: [usize; SIDE],
    /// Luminance rows waiting for the first row pass.
    first: RowBatch,
    col1: ColumnBox,
    /// First column pass's output rows waiting for the second row pass.
    second: RowBatch,
    /// The second column pass, over the 64 sampled columns only (columns are independent).
    col2: ColumnBox,
    row: Vec<f32>,
    out: Vec<f32>,
    picked: [f32; SIDE],
    sampled: [f32; SIDE],
    emitted: usize,
    block: [[f32; SIDE]; SIDE],
}

impl Downsampler {
    fn new(rows: usize, cols: usize) -> Self {
        let window_cols = jarosz_window(rows, SIDE);
        Downsampler {
            cols,
            along_rows: BoxShape::new(jarosz_window(cols, SIDE)),
            row_pos: sample_positions(rows),
            col_pos: sample_positions(cols),
            first: RowBatch::new(cols),
            col1: ColumnBox::new(cols, rows, window_cols),
            second: RowBatch::new(cols),
            col2: ColumnBox::new(SIDE, rows, window_cols),
            row: vec![0.0; cols],
            out: vec![0.0; cols],
            picked: [0.0; SIDE],
            sampled: [0.0; SIDE],
            emitted: 0,
            block: [[0.0; SIDE]; SIDE],
        }
    }

    /// The next (up to `LANES`) RGB rows of the picture, their luminance written straight into
    /// the interleaved batch.
    fn push_rgb_rows(&mut self, rgb: &[&[u8]], luma: &LumaTables) {
        debug_assert!(rgb.len() <= LANES && self.first.len == 0);
        let n = rgb.len();
        for (c, lanes) in self.first.input.chunks_exact_mut(LANES).enumerate() {
            for (lane, row) in lanes[..n].iter_mut().zip(rgb) {
                let px = &row[c * 3..c * 3 + 3];
                *lane = luma.pixel(px[0], px[1], px[2]);
            }
        }
        self.first.len = n;
        self.flush_first();
    }

    fn flush_first(&mut self) {
        let n = self.first.filter(self.cols, self.along_rows);
        for l in 0..n {
            for (c, v) in self.row.iter_mut().enumerate() {
                *v = self.first.output[c * LANES + l];
            }
            if self.col1.push(&self.row, &mut self.out) {
                self.second.add(&self.out);
                if self.second.full() {
                    self.flush_second();
                }
            }
        }
    }

    fn flush_second(&mut self) {
        let n = self.second.filter(self.cols, self.along_rows);
        for l in 0..n {
            for (v, &c) in self.picked.iter_mut().zip(&self.col_pos) {
                *v = self.second.output[c * LANES + l];
            }
            if self.col2.push(&self.picked, &mut self.sampled) {
                let values = self.sampled;
                self.keep(&values);
            }
        }
    }

    /// Output row `emitted` of the last column pass, copied wherever a sample lands on it.
    fn keep(&mut self, values: &[f32; SIDE]) {
        for (i, &p) in self.row_pos.iter().enumerate() {
            if p == self.emitted {
                self.block[i] = *values;
            }
        }
        self.emitted += 1;
    }

    /// After the last row: drains every pass in order.
    fn finish(mut self) -> [[f32; SIDE]; SIDE] {
        self.flush_first();
        let mut tail = Vec::new();
        self.col1.finish(|row| tail.push(row.to_vec()));
        for row in &tail {
            self.second.add(row);
            if self.second.full() {
                self.flush_second();
            }
        }
        self.flush_second();
        let mut rest = Vec::new();
        self.col2.finish(|row| rest.push(row.to_vec()));
        for row in &rest {
            let mut values = [0.0f32; SIDE];
            values.copy_from_slice(row);
            self.keep(&values);
        }
        debug_assert_eq!(self.emitted, self.col1.rows_total);
        self.block
    }
}

/// Luminance, Jarosz filter (two row + column box passes) and decimation to 64x64.
fn downsample(src: &impl RgbRows) -> [[f32; SIDE]; SIDE] {
    let (rows, cols) = (src.height(), src.width());
    let luma = LumaTables::new();
    let mut scratch = vec![0u8; cols * 3];

    if rows == SIDE && cols == SIDE {
        let mut block = [[0.0f32; SIDE]; SIDE];
        for (i, out) in block.iter_mut().enumerate() {
            luma.row(src.row(i, &mut scratch), out);
        }
        return block;
    }
    let mut stream = Downsampler::new(rows, cols);
    let mut scratches = vec![vec![0u8; cols * 3]; LANES];
    for first in (0..rows).step_by(LANES) {
        let batch: Vec<&[u8]> = scratches
            .iter_mut()
            .zip(first..rows.min(first + LANES))
            .map(|(s, r)| src.row(r, s))
            .collect();
        stream.push_rgb_rows(&batch, &luma);
    }
    stream.finish()
}

/// The reference's image-domain quality: how many significant gradients the 64x64 block has.
fn quality(block: &[[f32; SIDE]; SIDE]) -> u32 {
    let step = |u: f32, v: f32| -> i64 { (((u - v) * 100.0) / 255.0) as i32 as i64 };
    let mut gradient_sum: i64 = 0;
    for pair in block.windows(2) {
        for (&u, &v) in pair[0].iter().zip(&pair[1]) {
            gradient_sum += step(u, v).abs();
        }
    }
    for row in block.iter() {
        for j in 0..SIDE - 1 {
            gradient_sum += step(row[j], row[j + 1]).abs();
        }
    }
    (gradient_sum / 90).min(100) as u32
}

/// Rows 1..=16 of the 64-point DCT-II matrix, scaled by sqrt(2/64), rounded to f32 as the
/// reference computes them (f32 scale times f64 cosine, rounded once).
pub(crate) fn dct_matrix() -> [[f32; SIDE]; 16] {
    let scale = (2.0f64 / SIDE as f64).sqrt() as f32;
    let mut d = [[0.0f32; SIDE]; 16];
    for (i, row) in d.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let angle = (std::f64::consts::PI / 2.0 / SIDE as f64) * (i + 1) as f64 * (2 * j + 1) as f64;
            *v = (scale as f64 * angle.cos()) as f32;
        }
    }
    d
}

/// `B = D A Dᵀ` in f32, each sum taken in index order as the reference does.
fn dct64_to_16(a: &[[f32; SIDE]; SIDE]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    let mut t = [[0.0f32; SIDE]; 16];
    for (i, trow) in t.iter_mut().enumerate() {
        for (j, tv) in trow.iter_mut().enumerate() {
            let mut sum = 0.0f32;
            for k in 0..SIDE {
                sum += d[i][k] * a[k][j];
            }
            *tv = sum;
        }
    }
    let mut b = [[0.0f32; 16]; 16];
    for (i, brow) in b.iter_mut().enumerate() {
        for (j, bv) in brow.iter_mut().enumerate() {
            let mut sum = 0.0f32;
            for k in 0..SIDE {
                sum += t[i][k] * d[j][k];
            }
            *bv = sum;
        }
    }
    b
}

/// Bits set where a coefficient exceeds the median (the 128th smallest of 256).
fn bits_above_median(b: &[[f32; 16]; 16]) -> [u16; 16] {
    let mut sorted: Vec<f32> = b.iter().flatten().copied().collect();
    let (_, median, _) = sorted.select_nth_unstable_by(127, f32::total_cmp);
    let median = *median;
    let mut words = [0u16; 16];
    for (k, &v) in b.iter().flatten().enumerate() {
        if v > median {
            words[k >> 4] |= 1 << (k & 15);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perceptual::RgbBuffer;

    /// The reference's 1D box filter over one contiguous vector, transcribed loop for loop: the
    /// oracle for the interleaved and streaming versions.
    fn box_1d(input: &[f32], out: &mut [f32], shape: BoxShape) {
        let n = input.len();
        let mut sum = 0.0f32;
        let mut size = 0usize;
        let mut ri = 0;
        let mut li = 0;
        let mut oi = 0;
        for _ in 0..shape.lead {
            sum += input[ri];
            size += 1;
            ri += 1;
        }
        for _ in 0..shape.grow {
            sum += input[ri];
            size += 1;
            out[oi] = sum / size as f32;
            ri += 1;
            oi += 1;
        }
        for _ in 0..n - shape.window {
            sum += input[ri];
            sum -= input[li];
            out[oi] = sum / size as f32;
            li += 1;
            ri += 1;
            oi += 1;
        }
        for _ in 0..shape.shrink {
            sum -= input[li];
            size -= 1;
            out[oi] = sum / size as f32;
            li += 1;
            oi += 1;
        }
    }

    /// Straight transcription of the reference's two-buffer filter, as an oracle for the stream.
    fn jarosz_full(luma: &mut [f32], rows: usize, cols: usize) {
        let wr = BoxShape::new(jarosz_window(cols, SIDE));
        let wc = BoxShape::new(jarosz_window(rows, SIDE));
        let mut tmp = vec![0.0f32; luma.len()];
        for _ in 0..2 {
            for r in 0..rows {
                box_1d(
                    &luma[r * cols..(r + 1) * cols],
                    &mut tmp[r * cols..(r + 1) * cols],
                    wr,
                );
            }
            for c in 0..cols {
                let col: Vec<f32> = (0..rows).map(|r| tmp[r * cols + c]).collect();
                let mut out = vec![0.0f32; rows];
                box_1d(&col, &mut out, wc);
                for r in 0..rows {
                    luma[r * cols + c] = out[r];
                }
            }
        }
    }

    fn noise_image(rows: usize, cols: usize, seed: u64) -> Vec<u8> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..rows * cols * 3)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) as u8) / 2 + ((i / 3 % cols) * 255 / cols) as u8 / 2
            })
            .collect()
    }

    #[test]
    fn stream_filter_equals_full_filter() {
        for &(rows, cols) in &[
            (5, 5),
            (7, 300),
            (130, 129),
            (64, 200),
            (200, 64),
            (257, 1000),
            (1000, 9),
        ] {
            let rgb = noise_image(rows, cols, (rows * cols) as u64);
            let src = RgbBuffer::new(&rgb, cols, rows).unwrap();
            let got = downsample(&src);
            let luma = LumaTables::new();
            let mut full = vec![0.0f32; rows * cols];
            for r in 0..rows {
                luma.row(
                    &rgb[r * cols * 3..(r + 1) * cols * 3],
                    &mut full[r * cols..(r + 1) * cols],
                );
            }
            jarosz_full(&mut full, rows, cols);
            let (rp, cp) = (sample_positions(rows), sample_positions(cols));
            for i in 0..SIDE {
                for j in 0..SIDE {
                    let want = full[rp[i] * cols + cp[j]];
                    assert_eq!(got[i][j].to_bits(), want.to_bits(), "{rows}x{cols} at ({i},{j})");
                }
            }
        }
    }

    #[test]
    fn window_sizes_match_the_reference_formula() {
        assert_eq!(jarosz_window(64, 64), 1);
        assert_eq!(jarosz_window(128, 64), 1);
        assert_eq!(jarosz_window(129, 64), 2);
        assert_eq!(jarosz_window(1024, 64), 8);
        assert_eq!(jarosz_window(1025, 64), 9);
        assert_eq!(jarosz_window(5, 64), 1);
    }

    #[test]
    fn box_filter_phases_follow_the_reference_example() {
        // The reference's worked example: window 7 over 0..16 gives these window sums.
        let input: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let mut out = vec![0.0f32; 16];
        box_1d(&input, &mut out, BoxShape::new(7));
        let sums = [6, 10, 15, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 75, 65, 54];
        let sizes = [4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4];
        for k in 0..16 {
            assert_eq!(out[k], sums[k] as f32 / sizes[k] as f32, "output {k}");
        }
    }

    #[test]
    fn dct_matrix_is_orthogonal_rows_of_the_dct_ii() {
        let d = dct_matrix();
        // Hand values: row 0 (frequency 1), sample 0 is sqrt(1/32) * cos(pi/128).
        let want = ((1.0f64 / 32.0).sqrt() * (std::f64::consts::PI / 128.0).cos()) as f32;
        assert!((d[0][0] - want).abs() < 1e-7);
        // Frequency 16 (row 15) at sample 0: cos(16 pi / 128) = cos(pi / 8).
        let want = ((1.0f64 / 32.0).sqrt() * (std::f64::consts::PI / 8.0).cos()) as f32;
        assert!((d[15][0] - want).abs() < 1e-7);
        for a in 0..16 {
            for b in 0..16 {
                let dot: f64 = (0..SIDE).map(|k| d[a][k] as f64 * d[b][k] as f64).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "rows {a} {b}: {dot}");
            }
        }
    }

    #[test]
    fn flat_and_tiny_images() {
        // Under 5 rows or columns: the reference's all-zero hash, quality 0.
        let rgb = vec![200u8; 4 * 100 * 3];
        let h = pdq_hash(&RgbBuffer::new(&rgb, 100, 4).unwrap());
        assert_eq!(h.to_hex(), "0".repeat(64));
        assert_eq!(h.quality, 0);
        // A flat image has no gradients: quality 0; every coefficient equals the median (0 or
        // rounding noise), so nothing is strictly above it for an exactly flat block.
        let rgb = vec![77u8; 100 * 80 * 3];
        let h = pdq_hash(&RgbBuffer::new(&rgb, 80, 100).unwrap());
        assert_eq!(h.quality, 0);
    }

    #[test]
    fn quadrants_hand_computed() {
        // 64x64 (taken unfiltered): white where exactly one of row < 32, column < 32 holds.
        // A = 127.5 (1 - s(k) s(l)) with s = +1 on the first half, -1 on the second. The DCT
        // rows have no DC, so B = -127.5 S S^T with S_u = sqrt(1/32) sum_k s(k) cos(pi u (2k+1)
        // / 128) for frequency u = i + 1: zero for even u; for odd u the sum is
        // sin(pi u / 2) / (2 sin(pi u / 128)) doubled, of sign (-1)^((u - 1) / 2).
        // So for even i, j, B[i][j] is large, positive where exactly one of i, j is a multiple
        // of 4; the other 192 coefficients are zero up to rounding and the median lies among
        // them. Quality: 128 edges of 100 each = 12800 / 90, capped at 100.
        let mut rgb = vec![0u8; 64 * 64 * 3];
        for r in 0..64 {
            for c in 0..64 {
                if (r < 32) != (c < 32) {
                    rgb[(r * 64 + c) * 3..(r * 64 + c) * 3 + 3].fill(255);
                }
            }
        }
        let h = pdq_hash(&RgbBuffer::new(&rgb, 64, 64).unwrap());
        assert_eq!(h.quality, 100);
        for i in (0..16).step_by(2) {
            for j in (0..16).step_by(2) {
                let want = (i % 4 == 0) != (j % 4 == 0);
                assert_eq!(h.bit(i * 16 + j), want, "coefficient ({i}, {j})");
            }
        }
    }
}
