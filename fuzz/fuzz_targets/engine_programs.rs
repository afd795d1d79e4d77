#![no_main]
//! See `fuzz::engine_programs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::engine_programs(data));
