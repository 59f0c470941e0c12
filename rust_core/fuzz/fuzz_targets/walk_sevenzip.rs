#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_core_fuzz::walk(_native::carve::FileType::SevenZip, data));
