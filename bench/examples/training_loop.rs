//! matgrad's gradients called back to back, as a training loop calls them, on one thread and on
//! every core (the `parallel` feature): the rows of the table's every-core goal. The table
//! interleaves every implementation of a case batch by batch, so matgrad's worker threads sleep
//! between its batches and each batch starts by waking them; here the calls follow each other,
//! in batches of about 5 ms, alternating one thread and every core, 31 of each.
//!
//! `cargo run --release -p matgrad-bench --features parallel --example training_loop`

use std::hint::black_box as bb;
use std::time::{Duration, Instant};

use matgrad_bench::{data, logreg, lsq, mf, mlp};

const BATCHES: usize = 31;
const BATCH: Duration = Duration::from_millis(5);

/// Nanoseconds per call of `f`, median of [`BATCHES`] batches, with one thread and with every
/// core, the batches alternating (each started by an untimed call).
fn one_and_every(f: &dyn Fn()) -> (f64, f64) {
    let every = matgrad::threads();
    f();
    let start = Instant::now();
    f();
    let calls = (BATCH.as_nanos() / start.elapsed().as_nanos().max(1)).max(1) as usize;
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..BATCHES {
        for (side, threads) in [1, every].into_iter().enumerate() {
            matgrad::set_threads(threads);
            f();
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            times[side].push(start.elapsed().as_nanos() as f64 / calls as f64);
        }
    }
    matgrad::set_threads(every);
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let [mut one, mut all] = times;
    (median(&mut one), median(&mut all))
}

fn main() {
    let (x, y, w) = (
        data::dmatrix(2000, 200, 1.0, 1),
        data::dvector(2000, 1.0, 2),
        data::dvector(200, 0.1, 3),
    );
    let labels = data::labels(2000, 4);
    let (m, u, v) = (
        data::dmatrix(200, 150, 1.0, 5),
        data::dmatrix(200, 10, 1.0, 6),
        data::dmatrix(150, 10, 1.0, 7),
    );
    let (w1, w2, xs, ys) = (
        data::dmatrix(128, 64, 0.2, 8),
        data::dmatrix(10, 128, 0.2, 9),
        data::dvector(64, 1.0, 10),
        data::dvector(10, 1.0, 11),
    );
    let cases: [(&str, &dyn Fn()); 4] = [
        ("lsq 2000 × 200", &|| {
            bb(lsq::lsq_grad(bb(&w), bb(&x), bb(&y)));
        }),
        ("logreg 2000 × 200", &|| {
            bb(logreg::logreg_grad(bb(&w), bb(&x), bb(&labels), 0.1));
        }),
        ("mf 200 × 150, rank 10", &|| {
            bb(mf::mf_grad(bb(&m), bb(&u), bb(&v)));
        }),
        ("mlp 64-128-10", &|| {
            bb(mlp::mlp_grad(bb(&w1), bb(&w2), bb(&xs), bb(&ys)));
        }),
    ];
    println!(
        "{} threads; nanoseconds per call, median of {BATCHES} batches",
        matgrad::threads()
    );
    for (name, f) in cases {
        let (one, every) = one_and_every(f);
        println!(
            "{name:24} one thread {one:>9.0}   every core {every:>9.0}   ratio {:.2}",
            every / one
        );
    }
}
