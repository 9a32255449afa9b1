//! libFuzzer target: `cargo fuzz run expand` (see ../README.md).
//! Input format: `matgrad_fuzz::harness` (kind byte, attribute line, item).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    matgrad_fuzz::harness::check_bytes(data);
});
