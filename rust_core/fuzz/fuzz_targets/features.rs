#![no_main]
//! The feature scanner never panics on any bytes (every validator sees whatever tokens the
//! bytes make), and every hit lies inside the data it was found in.

use _native::features::{Kind, Scanner};
use std::sync::OnceLock;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    let scanner = SCANNER.get_or_init(|| Scanner::new(&Kind::ALL, true));
    let owned = data.first().map_or(0, |b| *b as usize).min(data.len());
    for hit in scanner.scan(data, 0, 0, owned) {
        assert!(hit.offset < owned as u64 && hit.offset + hit.length <= data.len() as u64);
        assert!(!hit.value.is_empty());
    }
});
