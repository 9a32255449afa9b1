//! matgrad's generated gradients with and without threads (the `parallel` feature), against the
//! single-threaded hand-written gradient.
//!
//! `cargo run --release -p matgrad-bench --features parallel --example parallel [CASE…]`
//!
//! For each row, batches of about 1 ms of the hand-written gradient, of matgrad's with
//! `matgrad::set_threads(1)` and of matgrad's with every thread take turns, 101 rounds, and the
//! medians are compared: a slow drift of a shared machine hits the three alike. That covers the
//! products matgrad splits itself. matrixmultiply's own threads (nalgebra's large products)
//! are set once per process by `MATMUL_NUM_THREADS`, so the last column compares with a copy
//! of this program started with `MATGRAD_THREADS=1 MATMUL_NUM_THREADS=1`.

use std::hint::black_box as bb;
use std::process::Command;
use std::time::Instant;

use matgrad_bench::{all_cases, data, Entry, Impl, Sizes};

const ROUNDS: usize = 101;

/// Calls of `run` that fill a batch of about 1 ms, after a short warm-up.
fn calibrate(run: &dyn Fn(u64) -> f64) -> u64 {
    let mut iters = 1u64;
    while run(iters) < 1e6 {
        iters *= 2;
    }
    let start = Instant::now();
    while start.elapsed().as_millis() < 20 {
        run(iters);
    }
    iters
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The median nanoseconds per call of each of `runs` (each given the number of calls, returning
/// the nanoseconds they took), in rounds of one batch each; `before[i]` runs before `runs[i]`'s
/// batches (the thread setting).
fn interleaved(runs: &[&dyn Fn(u64) -> f64], before: &[&dyn Fn()]) -> Vec<f64> {
    let iters: Vec<u64> = runs
        .iter()
        .zip(before)
        .map(|(r, b)| {
            b();
            calibrate(*r)
        })
        .collect();
    let mut ns = vec![Vec::with_capacity(ROUNDS); runs.len()];
    for _ in 0..ROUNDS {
        for (((r, b), &n), s) in runs.iter().zip(before).zip(&iters).zip(&mut ns) {
            b();
            s.push(r(n) / n as f64);
        }
    }
    ns.into_iter().map(median).collect()
}

fn entry_run(e: &Entry) -> impl Fn(u64) -> f64 + '_ {
    move |n| e.run(n).as_nanos() as f64
}

/// A row: case, size, then nanoseconds per call of the hand-written gradient, of matgrad's on
/// one thread and on every thread.
type Row = (String, String, [f64; 3]);

fn measure(filter: &[String]) -> Vec<Row> {
    let threads = matgrad::threads();
    let (one, all) = (
        move || matgrad::set_threads(1),
        move || matgrad::set_threads(threads),
    );
    let (a, b) = (
        data::dmatrix(2000, 200, 1.0, 1),
        data::dmatrix(200, 200, 1.0, 2),
    );
    let gemm = move |n: u64| {
        let start = Instant::now();
        for _ in 0..n {
            bb(bb(&a) * bb(&b));
        }
        start.elapsed().as_nanos() as f64
    };
    let t = interleaved(&[&gemm], &[&all])[0];
    let mut rows = vec![("gemm".into(), "2000×200 · 200×200".into(), [t, t, t])];
    for case in all_cases(Sizes::All) {
        if !filter.is_empty() && !filter.iter().any(|f| f == case.case) {
            continue;
        }
        let (Some(hand), Some(ours)) = (case.entry(Impl::Hand), case.entry(Impl::Matgrad)) else {
            continue;
        };
        let (hand, ours) = (entry_run(hand), entry_run(ours));
        let t = interleaved(&[&hand, &ours, &ours], &[&one, &one, &all]);
        rows.push((case.case.to_owned(), case.size.clone(), [t[0], t[1], t[2]]));
    }
    matgrad::set_threads(threads);
    rows
}

/// The same measurement in a copy of this program with every thread setting at 1.
fn single_threaded(filter: &[String]) -> Vec<Row> {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .arg("--rows")
        .args(filter)
        .env("MATGRAD_THREADS", "1")
        .env("MATMUL_NUM_THREADS", "1")
        .output()
        .expect("the single-threaded copy starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let t = |i: usize| f.get(i)?.parse::<f64>().ok();
            Some((f[0].into(), f.get(1)?.to_string(), [t(2)?, t(3)?, t(4)?]))
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--rows") {
        for (case, size, [h, o, a]) in measure(&args[1..]) {
            println!("{case}\t{size}\t{h}\t{o}\t{a}");
        }
        return;
    }
    if !cfg!(feature = "parallel") {
        eprintln!("built without the `parallel` feature: every column is single-threaded");
    }
    println!("matgrad::threads() = {}", matgrad::threads());
    let single = single_threaded(&args);
    let rows = measure(&args);
    println!("| case | size | hand (ns) | matgrad, 1 thread (ns) | matgrad, threads (ns) | threads ÷ hand | threads ÷ 1 thread | threads ÷ all at 1 thread (other process) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for ((case, size, [hand, one, all]), (_, _, [_, alone, _])) in rows.iter().zip(&single) {
        println!(
            "| {case} | {size} | {hand:.0} | {one:.0} | {all:.0} | {:.2}× | {:.2}× | {:.2}× |",
            all / hand,
            all / one,
            all / alone
        );
    }
}
