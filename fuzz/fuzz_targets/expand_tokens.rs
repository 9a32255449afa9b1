//! libFuzzer target with a structure-aware mutator: `cargo fuzz run
//! expand_tokens seeds` (see ../README.md). Same input format and checks as
//! `expand`, but mutants are made by `matgrad_fuzz::mutate` (token-tree edits
//! with the body language's words, splices of the seed corpus' subtrees) four
//! times in five, and by libFuzzer's byte mutations otherwise, so the search
//! stays near valid functions while keeping coverage feedback.
#![no_main]

use std::cell::RefCell;
use std::path::Path;

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use matgrad_fuzz::harness::Input;
use matgrad_fuzz::mutate::{self, Pool};
use matgrad_fuzz::rng::Rng;

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    matgrad_fuzz::harness::check_bytes(data);
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let mut rng = Rng::new(u64::from(seed));
    let parent = Input::decode(&data[..size]);
    let Some(parent) = parent.filter(|_| !rng.chance(1, 5)) else {
        return fuzzer_mutate(data, size, max_size);
    };
    let child = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let pool = p.get_or_insert_with(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
            let seeds: Vec<Input> = mutate::load_dir(&dir).into_iter().map(|(_, i)| i).collect();
            Pool::new(&seeds)
        });
        mutate::mutate(&parent, None, pool, &mut rng)
    });
    let bytes = child.encode();
    if bytes.len() > max_size {
        return fuzzer_mutate(data, size, max_size);
    }
    data[..bytes.len()].copy_from_slice(&bytes);
    bytes.len()
});
