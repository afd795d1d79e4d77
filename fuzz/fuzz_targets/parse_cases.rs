#![no_main]
//! See `fuzz::parse_cases`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::parse_cases(data));
