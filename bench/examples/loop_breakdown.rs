//! Where the time goes in the loop cases (`logreg_loop`, `rnn`): each generated function beside
//! copies of its expansion with one emitted pattern changed at a time, timed like the table.
//!
//! `cargo run --release -p matgrad-bench --example loop_breakdown`
//!
//! The copies are the code `#[grad]` emits for the losses of `src/logreg_loop.rs` and
//! `src/rnn.rs` (read with `-Zunpretty=expanded`), with the generated names shortened.

use std::hint::black_box as bb;

use matgrad::nalgebra::{DMatrix, DVector};
use matgrad_bench::harness::{time_case, Case, Impl, Timing};
use matgrad_bench::rnn::{Hs, Ud, Us, Ws, Xd, Xs};
use matgrad_bench::{data, logreg, logreg_loop, rnn};

/// A named operation on the inputs.
type Part<T> = (&'static str, fn(&T) -> f64);

/// Times each part on `input`, round-robin like the table, and prints the medians.
fn show<T: 'static>(title: &str, input: T, parts: &[Part<T>]) {
    let input = std::rc::Rc::new(input);
    let mut case = Case::new("breakdown", title);
    for &(_, f) in parts {
        let input = std::rc::Rc::clone(&input);
        case = case.with(Impl::Value, move || f(bb(&*input)));
    }
    let ns = time_case(&case, &Timing::default());
    println!("{title}");
    for ((name, _), t) in parts.iter().zip(ns) {
        println!("  {name:72} {t:>10.0} ns");
    }
}

/// `logreg_loop_grad` as emitted: the reverse loop over the samples recomputes each margin with
/// the inner loop and adds the sample's gradient into a fresh zero vector of length d
/// (`from_element_generic(w.shape_generic().0, Const::<1>, 0.0)`), then adds that vector onto
/// the accumulator (`c += &b`).
fn logreg_loop_emitted(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let (n, d) = x.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    let t28 = w.norm_squared();
    let t33 = w * (2.0 * lambda);
    let mut acc = DVector::zeros(d);
    for i in (0..n).rev() {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        let b48 = -y[i];
        let b50 = (b48 * z).exp();
        let zbar = ((1.0 / (1.0 + b50)) * b50) * b48;
        let mut row = DVector::zeros(d);
        for j in (0..d).rev() {
            row[j] += zbar * x[(i, j)];
        }
        acc += &row;
    }
    (total + lambda * t28, t33 + acc)
}

/// The same, the sample's gradient added straight into the accumulator (`acc[j] += …`): no
/// vector per sample.
fn logreg_loop_in_place(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let (n, d) = x.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    let mut acc = w * (2.0 * lambda);
    for i in (0..n).rev() {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        let b48 = -y[i];
        let b50 = (b48 * z).exp();
        let zbar = ((1.0 / (1.0 + b50)) * b50) * b48;
        for j in (0..d).rev() {
            acc[j] += zbar * x[(i, j)];
        }
    }
    (total + lambda * w.norm_squared(), acc)
}

/// The same, the margins stored by the forward loop (one `Vec`) instead of recomputed.
fn logreg_loop_in_place_stored(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let (n, d) = x.shape();
    let mut total = 0.0;
    let mut zs = Vec::with_capacity(n);
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        zs.push(z);
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    let mut acc = w * (2.0 * lambda);
    for i in (0..n).rev() {
        let b48 = -y[i];
        let b50 = (b48 * zs[i]).exp();
        let zbar = ((1.0 / (1.0 + b50)) * b50) * b48;
        for j in (0..d).rev() {
            acc[j] += zbar * x[(i, j)];
        }
    }
    (total + lambda * w.norm_squared(), acc)
}

/// `rnn_s_grad` as emitted, reduced to its reverse loop's choice: the tape holds the state
/// carried into each step, and the reverse loop recomputes `tanh.(W hₜ + U xₜ)` from it.
fn rnn_s_emitted(w: &Ws, u: &Us, h0: &Hs, xs: &[Xs]) -> (f64, Ws, Us, Hs) {
    let mut h = *h0;
    let mut tape = Vec::with_capacity(xs.len());
    for x in xs {
        tape.push(h);
        h = (w * h + u * x).map(|v| v.tanh());
    }
    let value = h.norm_squared();
    let mut hbar = h * 2.0;
    let (mut gw, mut gu) = (Ws::zeros(), Us::zeros());
    for t in (0..xs.len()).rev() {
        let (prev, x) = (&tape[t], &xs[t]);
        let next = (w * prev + u * x).map(|v| v.tanh());
        let delta = hbar.zip_map(&next, |g, y| g * (1.0 - y * y));
        let b37 = delta * x.transpose();
        let b40 = delta * prev.transpose();
        hbar = w.tr_mul(&delta);
        gw += &b40;
        gu += &b37;
    }
    (value, gw, gu, hbar)
}

/// The same, the tape also holding each step's result (`tanh.(…)`, the next state), which the
/// reverse loop reads instead of recomputing it.
fn rnn_s_stored(w: &Ws, u: &Us, h0: &Hs, xs: &[Xs]) -> (f64, Ws, Us, Hs) {
    let mut h = *h0;
    let mut tape = Vec::with_capacity(xs.len() + 1);
    tape.push(h);
    for x in xs {
        h = (w * h + u * x).map(|v| v.tanh());
        tape.push(h);
    }
    let value = h.norm_squared();
    let mut hbar = h * 2.0;
    let (mut gw, mut gu) = (Ws::zeros(), Us::zeros());
    for t in (0..xs.len()).rev() {
        let (prev, next, x) = (&tape[t], &tape[t + 1], &xs[t]);
        let delta = hbar.zip_map(next, |g, y| g * (1.0 - y * y));
        let b37 = delta * x.transpose();
        let b40 = delta * prev.transpose();
        hbar = w.tr_mul(&delta);
        gw += &b40;
        gu += &b37;
    }
    (value, gw, gu, hbar)
}

/// `rnn_grad` (dynamic) as emitted: per reverse step, `W hₜ` and `mul_add` recomputed, `map`,
/// `zip_map`, two outer products materialised (`&δ * &xᵀ`, `&δ * &hₜᵀ`), `tr_mul`, and `Ū` by
/// `&Ū + outer` (a new matrix) — each a heap allocation.
fn rnn_emitted(w: &DMatrix<f64>, u: &Ud, h0: &DVector<f64>, xs: &[Xd]) -> f64 {
    matgrad_bench::rnn::rnn_grad(w, u, h0, xs).0
}

/// The dynamic reverse loop with the allocations removed (buffers reused, `gemv`, `ger` in
/// place) but still recomputing each step's forward product and `tanh`.
fn rnn_in_place_recomputed(w: &DMatrix<f64>, u: &Ud, h0: &DVector<f64>, xs: &[Xd]) -> f64 {
    let (n, steps) = (h0.len(), xs.len());
    let mut hs = DMatrix::zeros(n, steps);
    let mut h = h0.clone();
    let mut z = DVector::zeros(n);
    for (t, x) in xs.iter().enumerate() {
        hs.set_column(t, &h);
        z.gemv(1.0, u, x, 0.0);
        z.gemv(1.0, w, &h, 1.0);
        h.zip_apply(&z, |h, z| *h = z.tanh());
    }
    let value = h.norm_squared();
    let mut hbar = &h * 2.0;
    let mut delta = DVector::zeros(n);
    let mut gw = DMatrix::zeros(n, n);
    let mut gu = Ud::zeros(n);
    for t in (0..steps).rev() {
        z.gemv(1.0, u, &xs[t], 0.0);
        z.gemv(1.0, w, &hs.column(t), 1.0);
        delta.zip_zip_apply(&hbar, &z, |d, g, z| {
            let y = z.tanh();
            *d = g * (1.0 - y * y)
        });
        gw.ger(1.0, &delta, &hs.column(t), 1.0);
        gu.ger(1.0, &delta, &xs[t], 1.0);
        hbar.gemv_tr(1.0, w, &delta, 0.0);
    }
    bb((gw, gu, hbar));
    value
}

fn main() {
    type Lr = (DVector<f64>, DMatrix<f64>, DVector<f64>);
    for (n, d) in [(200, 50), (2000, 200)] {
        let input: Lr = (
            data::dvector(d, 1.0, 22),
            data::dmatrix(n, d, 2.0 / (d as f64).sqrt(), 21),
            data::labels(n, 23),
        );
        let check = (
            logreg_loop_emitted(&input.0, &input.1, &input.2, 0.1).1,
            logreg_loop_in_place_stored(&input.0, &input.1, &input.2, 0.1).1,
            logreg_loop::logreg_loop_grad(&input.0, &input.1, &input.2, 0.1).1,
        );
        assert!((&check.0 - &check.2).norm() < 1e-9 * check.2.norm());
        assert!((&check.1 - &check.2).norm() < 1e-9 * check.2.norm());
        show(
            &format!("logreg_loop, n = {n}, d = {d}"),
            input,
            &[
                ("logreg_loop_grad (matgrad)", |(w, x, y): &Lr| {
                    logreg_loop::logreg_loop_grad(w, x, y, 0.1).0
                }),
                ("the emitted code, compiled here", |(w, x, y)| {
                    logreg_loop_emitted(w, x, y, 0.1).0
                }),
                (
                    "… the per-sample gradient added in place (no vector per sample)",
                    |(w, x, y)| logreg_loop_in_place(w, x, y, 0.1).0,
                ),
                ("… and the margins stored, not recomputed", |(w, x, y)| {
                    logreg_loop_in_place_stored(w, x, y, 0.1).0
                }),
                ("logreg_loop (value only, the same loops)", |(w, x, y)| {
                    logreg_loop::logreg_loop(w, x, y, 0.1)
                }),
                ("hand: gemv, one pass, gemv_tr", |(w, x, y)| {
                    logreg::logreg_hand(w, x, y, 0.1).0
                }),
                ("hand: fused single pass, blocks of 8 rows", |(w, x, y)| {
                    logreg_loop::logreg_loop_fused(w, x, y, 0.1).0
                }),
            ],
        );
    }

    type Rs = (Ws, Us, Hs, Vec<Xs>);
    let xs: Vec<Xs> = (0..rnn::STEPS)
        .map(|t| data::smatrix(1.0, 100 + t as u64))
        .collect();
    let input: Rs = (
        data::smatrix(1.5 / 8f64.sqrt(), 71),
        data::smatrix(0.5, 72),
        data::smatrix(0.5, 73),
        xs,
    );
    let (a, b) = (
        rnn_s_emitted(&input.0, &input.1, &input.2, &input.3),
        rnn::rnn_s_grad(&input.0, &input.1, &input.2, &input.3),
    );
    assert!((a.1 - b.1).norm() < 1e-9 * b.1.norm());
    show(
        "rnn, h = 8, x = 4, T = 50 (SMatrix)",
        input,
        &[
            ("rnn_s_grad (matgrad)", |(w, u, h, xs): &Rs| {
                rnn::rnn_s_grad(w, u, h, xs).0
            }),
            ("the emitted code, compiled here", |(w, u, h, xs)| {
                rnn_s_emitted(w, u, h, xs).0
            }),
            (
                "… each step's result stored too, not recomputed",
                |(w, u, h, xs)| rnn_s_stored(w, u, h, xs).0,
            ),
            ("hand (stored states)", |(w, u, h, xs)| {
                rnn::rnn_s_hand(w, u, h, xs).0
            }),
            ("rnn_s (value only)", |(w, u, h, xs)| {
                rnn::rnn_s(w, u, h, xs)
            }),
        ],
    );

    type Rd = (DMatrix<f64>, Ud, DVector<f64>, Vec<Xd>);
    let n = rnn::SIZES[0];
    let xs: Vec<Xd> = (0..rnn::STEPS)
        .map(|t| data::smatrix(1.0, 200 + t as u64))
        .collect();
    let u = data::dmatrix(n, 16, 0.25, 76);
    let input: Rd = (
        data::dmatrix(n, n, 1.5 / (n as f64).sqrt(), 75),
        Ud::from_column_slice(u.as_slice()),
        data::dvector(n, 0.5, 77),
        xs,
    );
    show(
        &format!("rnn, h = {n}, x = 16, T = {}", rnn::STEPS),
        input,
        &[
            ("rnn_grad (matgrad)", |(w, u, h, xs): &Rd| {
                rnn_emitted(w, u, h, xs)
            }),
            (
                "in place (gemv, ger, buffers reused), forward recomputed",
                |(w, u, h, xs)| rnn_in_place_recomputed(w, u, h, xs),
            ),
            (
                "hand: in place, states stored, ger per step",
                |(w, u, h, xs)| rnn::rnn_hand_ger(w, u, h, xs).0,
            ),
            (
                "hand: states stored, two gemm at the end",
                |(w, u, h, xs)| rnn::rnn_hand(w, u, h, xs).0,
            ),
            ("rnn (value only)", |(w, u, h, xs)| rnn::rnn(w, u, h, xs)),
        ],
    );
}
