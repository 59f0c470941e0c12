//! The one-pass signature scanner against the naive reference (every start, every
//! signature), on random buffers with planted signatures, cut into windows of 1 byte,
//! of each signature's length, and of the whole buffer.

use _native::carve::{naive_candidates, Candidate, Scanner, SIGNATURES};
use _native::noise::noise;

/// Random bytes with every signature planted at odd offsets, some straddling windows.
fn planted_buffer(len: usize, seed: u64) -> Vec<u8> {
    let mut data = noise(len, seed);
    let mut at = 3;
    for (i, s) in SIGNATURES.iter().cycle().enumerate() {
        if at + s.bytes.len() + s.at >= len {
            break;
        }
        data[at + s.at..at + s.at + s.bytes.len()].copy_from_slice(s.bytes);
        at += 97 + (i * 31) % 211;
    }
    data
}

/// Scan `data` window by window as a segment would (owned part plus overlap to the end),
/// collecting absolute candidate starts.
fn windowed(scanner: &Scanner, data: &[u8], window: usize, align: u64) -> Vec<(usize, usize)> {
    let overlap = 64;
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let end = (start + window + overlap).min(data.len());
        let owned = window.min(data.len() - start);
        for c in scanner.candidates(&data[start..end], start as u64, owned, align) {
            out.push((start + c.start, c.signature));
        }
        start += window;
    }
    out.sort_unstable();
    out
}

fn reference(data: &[u8]) -> Vec<(usize, usize)> {
    naive_candidates(data, data.len())
        .into_iter()
        .map(|Candidate { start, signature }| (start, signature))
        .collect()
}

#[test]
fn every_window_size_finds_exactly_what_the_naive_scan_finds() {
    let scanner = Scanner::new();
    let data = planted_buffer(64 << 10, 7);
    let expected = reference(&data);
    assert!(
        expected.len() >= SIGNATURES.len(),
        "planting failed: {}",
        expected.len()
    );
    let mut sizes = vec![1, data.len()];
    sizes.extend(SIGNATURES.iter().map(|s| s.bytes.len()));
    sizes.sort_unstable();
    sizes.dedup();
    for window in sizes {
        assert_eq!(windowed(&scanner, &data, window, 1), expected, "window {window}");
    }
}

#[test]
fn unplanted_random_buffers_agree_too() {
    let scanner = Scanner::new();
    for seed in 0..8 {
        let data = noise(1 << 20, 100 + seed);
        assert_eq!(
            windowed(&scanner, &data, 4096, 1),
            reference(&data),
            "seed {seed}"
        );
    }
}

#[test]
fn aligned_scan_keeps_exactly_the_aligned_starts() {
    let scanner = Scanner::new();
    let data = planted_buffer(64 << 10, 9);
    for align in [2u64, 512, 4096] {
        let expected: Vec<_> = reference(&data)
            .into_iter()
            .filter(|(start, _)| (*start as u64).is_multiple_of(align))
            .collect();
        assert_eq!(windowed(&scanner, &data, 1000, align), expected, "align {align}");
    }
}
