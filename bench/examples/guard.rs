//! What a guard clause costs: least squares at 2000 × 200 with and without
//! `if x.nrows() == 0 { return 0.0; }` in front, the gradient of each timed
//! as the median of 9 rounds of 50 calls.
//!
//! `cargo run --release -p matgrad-bench --example guard` (add `--features parallel` for every
//! core).

use std::hint::black_box as bb;
use std::time::Instant;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};
use matgrad_bench::data;

#[grad(w)]
fn plain(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.norm_squared() / x.nrows() as f64
}

#[grad(w)]
fn guarded(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    if x.nrows() == 0 {
        return 0.0;
    }
    let r = x * w - y;
    r.norm_squared() / x.nrows() as f64
}

/// The median time of one call of `f`, in µs.
fn median_us(mut f: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..9)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..50 {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / 50.0
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[4]
}

fn main() {
    let (n, d) = (2000, 200);
    let x = data::dmatrix(n, d, 1.0, 11);
    let y = data::dvector(n, 1.0, 13);
    let w = data::dvector(d, 1.0, 12);
    // (Equal bit for bit on one thread; across threads a split sums in blocks.)
    let ((a, ga), (b, gb)) = (plain_grad(&w, &x, &y), guarded_grad(&w, &x, &y));
    assert!((a - b).abs() <= 1e-12 * a.abs() && (ga - gb).amax() <= 1e-12);
    let plain_us = median_us(|| {
        bb(plain_grad(bb(&w), bb(&x), bb(&y)));
    });
    let guarded_us = median_us(|| {
        bb(guarded_grad(bb(&w), bb(&x), bb(&y)));
    });
    println!(
        "least squares {n} × {d}: plain {plain_us:.1} µs, guarded {guarded_us:.1} µs ({:.2}×)",
        guarded_us / plain_us
    );
}
