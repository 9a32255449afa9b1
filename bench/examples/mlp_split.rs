//! Why matgrad does not split the one-sample mlp 64-128-10 across threads: its gradient split by
//! hand along blocks of hidden units, timed beside the expert gradient and matgrad's (one
//! thread, nothing split), as the table times them, with the thread count the process starts
//! with (by default one per core).
//!
//! The split runs the network in two parallel steps: each block of hidden units forms its rows
//! of `h = tanh.(W₁x)` and its share of `W₂h` (summed across the blocks); then, with
//! `s = 2(W₂h − y)`, each block forms its rows of `δ = (W₂ᵀs) ∘ (1 − h∘h)` and of `∇W₁ = δxᵀ`;
//! `∇W₂ = s hᵀ` last. Two hand-offs per call for about 4 µs of work.
//!
//! `cargo run --release -p matgrad-bench --features parallel --example mlp_split`

use std::hint::black_box as bb;

use matgrad::__private::{mul, mul_tr, sum_blocks, tr_mul, RowsOut};
use matgrad::nalgebra::{DMatrix, DVector, Dyn};
use matgrad_bench::harness::{time_case, Case, Impl, Timing};
use matgrad_bench::{data, mlp};

/// The mlp's value and gradient, the hidden units split in blocks across threads.
fn mlp_split(
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    x: &DVector<f64>,
    y: &DVector<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let hidden = w1.nrows();
    // A work per unit far above the threshold: always split.
    let always = 1 << 30;
    let h_out = RowsOut::new(hidden, Dyn(1));
    let w2h: DVector<f64> = sum_blocks(0..hidden, always, |units| {
        let h = mul(&w1.rows_range(units.clone()), x).map(f64::tanh);
        h_out.put(units.clone(), &h);
        mul(&w2.columns_range(units), &h)
    });
    let h = h_out.into_matrix().column(0).clone_owned();
    let r = w2h - y;
    let s = &r * 2.0;
    let w1_out = RowsOut::new(hidden, Dyn(w1.ncols()));
    let _: f64 = sum_blocks(0..hidden, always, |units| {
        let h = h.rows_range(units.clone());
        let delta =
            tr_mul(&w2.columns_range(units.clone()), &s).zip_map(&h, |g, v| g * (1.0 - v * v));
        w1_out.put(units, &mul_tr(&delta, x));
        0.0
    });
    (r.norm_squared(), w1_out.into_matrix(), mul_tr(&s, &h))
}

fn main() {
    let (d, h, o) = (64, 128, 10);
    let w1 = data::dmatrix(h, d, 1.0 / (d as f64).sqrt(), 65);
    let w2 = data::dmatrix(o, h, 1.0 / (h as f64).sqrt(), 66);
    let x = data::dvector(d, 1.0, 67);
    let y = data::dvector(o, 1.0, 68);
    let (expert, split) = (mlp::mlp_hand(&w1, &w2, &x, &y), mlp_split(&w1, &w2, &x, &y));
    let error = (expert.1 - &split.1).norm() + (expert.2 - &split.2).norm();
    assert!(
        (expert.0 - split.0).abs() < 1e-12 && error < 1e-12,
        "the split agrees"
    );
    let case = Case::new("mlp", "d=64 h=128 o=10")
        .with(Impl::Hand, {
            let (w1, w2, x, y) = (w1.clone(), w2.clone(), x.clone(), y.clone());
            move || mlp::mlp_hand(bb(&w1), bb(&w2), bb(&x), bb(&y))
        })
        .with(Impl::Matgrad, {
            let (w1, w2, x, y) = (w1.clone(), w2.clone(), x.clone(), y.clone());
            move || mlp::mlp_grad(bb(&w1), bb(&w2), bb(&x), bb(&y))
        })
        .with(Impl::Value, move || {
            mlp_split(bb(&w1), bb(&w2), bb(&x), bb(&y))
        });
    let ns = time_case(&case, &Timing::default());
    println!(
        "mlp 64-128-10 on {} threads: expert {:.0} ns, matgrad {:.0} ns ({:.2}×), split by hidden units {:.0} ns ({:.2}×)",
        matgrad::threads(),
        ns[0],
        ns[1],
        ns[1] / ns[0],
        ns[2],
        ns[2] / ns[0]
    );
}
