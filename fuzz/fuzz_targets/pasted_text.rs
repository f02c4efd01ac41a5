#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| doctor::fuzzing::pasted_text(data));
