#![no_main]
//! The one-pass scanner finds exactly what the naive every-start scan finds.

use _native::carve::{naive_candidates, Scanner};
use std::sync::OnceLock;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    let scanner = SCANNER.get_or_init(Scanner::new);
    let owned = data.first().map_or(0, |b| *b as usize).min(data.len());
    assert_eq!(scanner.candidates(data, 0, owned, 1), naive_candidates(data, owned));
});
