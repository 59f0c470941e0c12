//! What the carving tests share: the public test data, and scanning an image window by
//! window as a segment does (re-reading a file that runs past its window from its header).
#![allow(dead_code)] // each test file uses part of it

use _native::carve::{Carver, FileType, Found, Probe};
use std::path::PathBuf;

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata")
        .join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(testdata(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e} (is ../shared beside the repository?)"))
}

/// Scan `image` in windows of `window` owned bytes plus `overlap`, re-reading NeedMore
/// hits from their header up to the type's cap as a caller would: (offset, type, find).
pub fn scan_windowed(
    carver: &Carver,
    image: &[u8],
    window: usize,
    overlap: usize,
) -> Vec<(usize, FileType, Found)> {
    let mut found = Vec::new();
    let mut start = 0;
    while start < image.len() {
        let end = (start + window + overlap).min(image.len());
        let owned = window.min(image.len() - start);
        for hit in carver.scan(&image[start..end], start as u64, owned, end == image.len()) {
            let at = hit.offset as usize;
            let outcome = match hit.outcome {
                Probe::NeedMore => {
                    let stop = (at + carver.max_len(hit.kind)).min(image.len());
                    carver.carve_at(&image[at..stop], hit.kind, stop == image.len())
                }
                other => other,
            };
            if let Probe::Found(f) = outcome {
                found.push((at, hit.kind, f));
            }
        }
        start += window;
    }
    found
}
