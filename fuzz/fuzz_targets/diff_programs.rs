#![no_main]
//! See `fuzz::diff_programs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::diff_programs(data));
