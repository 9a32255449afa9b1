//! `for` loops: sums over samples and recurrences, nested loops, reversed and
//! inclusive ranges, iteration over entries and data, with indexing and sizes;
//! every gradient against central finite differences, `f64` and `f32`, fixed
//! and dynamic sizes.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Matrix3x2, Vector2, Vector3};

/// Logistic regression as a double loop over samples and features.
#[grad(w)]
fn logreg_loop(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let n = x.nrows();
    let d = x.ncols();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    total / n as f64
}

#[test]
fn sum_over_samples_dynamic() {
    let (w, x, y) = (dv(4, 1), dm(6, 4, 2), dv(6, 3));
    check!(logreg_loop(&w, &x, &y) => logreg_loop_grad[w]);
}

/// `w` longer than the features read (`w[j]` for `j < d`): its last entries
/// get a zero gradient, the others the gradient of `w` read whole.
#[test]
fn sum_over_samples_reads_part_of_a_parameter() {
    let (w, x, y) = (dv(6, 1), dm(6, 4, 2), dv(6, 3));
    check!(logreg_loop(&w, &x, &y) => logreg_loop_grad[w]);
    let (_, whole) = logreg_loop_grad(&w.rows(0, 4).into_owned(), &x, &y);
    let (_, part) = logreg_loop_grad(&w, &x, &y);
    assert_eq!(part.rows(0, 4), whole);
    assert!(part.rows(4, 2).iter().all(|&g| g == 0.0), "{part}");
}

/// A loop over part of the samples reading `z = X w` at its index: the adjoint
/// of `z` is written over `z`'s own buffer (`Indexed`), and the entries the
/// loop skips get a zero gradient.
#[grad(w)]
fn tail_residuals(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, skip: usize) -> f64 {
    let z = x * w;
    let mut total = 0.0;
    for i in skip..z.len() {
        let r = z[i] - y[i];
        total += r * r * r.abs();
    }
    total
}

/// The same over an inclusive range run backwards, stopping short of the end.
#[grad(w)]
fn tail_residuals_rev(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, skip: usize) -> f64 {
    let z = x * w;
    let mut total = 0.0;
    for i in (skip..=z.len() - 2).rev() {
        total += (z[i] - y[i]).powi(2) * (i as f64);
    }
    total
}

#[test]
fn sum_over_part_of_the_samples_writes_its_adjoint_over_the_values_read() {
    let (w, x, y) = (dv(4, 1), dm(7, 4, 2), dv(7, 3));
    for skip in [0, 2, 6, 7] {
        check!(tail_residuals(&w, &x, &y, skip) => tail_residuals_grad[w]);
        check!(tail_residuals_rev(&w, &x, &y, skip.min(5)) => tail_residuals_rev_grad[w]);
    }
    // Only the samples from `skip` on move the gradient.
    let (_, g) = tail_residuals_grad(&w, &x, &y, 7);
    assert!(g.iter().all(|&v| v == 0.0), "{g}");
}

/// An RNN over a slice of inputs: a recurrence on a fixed-size state.
#[grad(w, u, h0)]
fn rnn(w: &Matrix3<f64>, u: &Matrix3x2<f64>, h0: &Vector3<f64>, xs: &[Vector2<f64>]) -> f64 {
    let mut h = *h0;
    for x in xs.iter() {
        h = (w * h + u * x).map(|v| v.tanh());
    }
    h.norm_squared()
}

#[test]
fn recurrence_fixed() {
    let (w, u, h0) = (sm::<f64, 3, 3>(1), sm::<f64, 3, 2>(2), sm::<f64, 3, 1>(3));
    let xs: Vec<Vector2<f64>> = (0..5).map(|t| sm(10 + t)).collect();
    check!(rnn(&w, &u, &h0, &xs) => rnn_grad[w, u, h0]);
}

/// A scalar recurrence in f32 over a reversed, inclusive range.
#[grad(a)]
fn decay(a: f32, x: &DVector<f32>) -> f32 {
    let n = x.len();
    let mut s = 0.0;
    for t in (1..=n).rev() {
        s = a * s + x[t - 1] * (t as f32);
    }
    s * s
}

#[test]
fn recurrence_reversed_f32() {
    let (a, x) = (sc::<f32>(1) * 0.5, dv(5, 2));
    check!(decay(a, &x) => decay_grad[a]);
}

/// Entries by iteration, enumerate and zip; several carried values.
#[grad(x, y)]
fn weighted(x: &DVector<f64>, y: &DVector<f64>, c: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for (i, (a, b)) in x.iter().zip(y.iter()).enumerate() {
        s += c[i] * a * b;
        p *= 1.0 + a * a;
    }
    s + p.ln()
}

#[test]
fn iterators_and_several_carried() {
    let (x, y) = (dv(5, 1), dv(5, 2));
    let c = vec![0.5, -1.0, 2.0, 0.25, 1.5];
    check!(weighted(&x, &y, &c) => weighted_grad[x, y]);
}

/// A loop carrying a matrix, with a matrix-valued captured parameter.
#[grad(a)]
fn power_sum(a: &DMatrix<f64>, steps: usize) -> f64 {
    let mut m = a.clone();
    let mut total = 0.0;
    for _ in 0..steps {
        m = a * &m * 0.5;
        total += m.trace();
    }
    total
}

#[test]
fn matrix_recurrence_dynamic() {
    let a = dm(3, 3, 4);
    check!(power_sum(&a, 4) => power_sum_grad[a]);
}

/// A dynamic parameter times fixed-size data inside a loop: the sum keeps the
/// carried value's type (`+=` on a `DMatrix` by a `Dyn × Const` product).
#[grad(u)]
fn mixed_types(u: &DMatrix<f64>, xs: &[Vector2<f64>]) -> f64 {
    let mut s = 0.0;
    let mut acc = u * 0.0;
    for x in xs.iter() {
        s += (u * x).norm_squared();
        acc += u * 0.5;
    }
    s + acc.sum()
}

#[test]
fn dynamic_times_fixed_in_a_loop() {
    let u = dm(3, 2, 7);
    let xs: Vec<Vector2<f64>> = (0..4).map(|t| sm(20 + t)).collect();
    check!(mixed_types(&u, &xs) => mixed_types_grad[u]);
}

/// Logistic regression as a double loop: the inner loop's gradient adds into
/// the outer accumulator.
#[grad(w)]
fn nested_sum(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let (n, d) = x.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    total / n as f64 + w.norm_squared()
}

#[test]
fn nested_sums_chain_accumulators() {
    let (w, x, y) = (dv(4, 1), dm(6, 4, 2), dv(6, 3));
    check!(nested_sum(&w, &x, &y) => nested_sum_grad[w]);
}

/// A carried value the loss does not read, which overflows: its adjoint is
/// zero and stays out of the reverse loop (a zero times ∞ would be NaN).
#[grad(s, t)]
fn unread_carried(s: f64, t: f64) -> f64 {
    let mut a = s;
    let mut b = t;
    for _ in 0..40 {
        a = a * 0.5 + s;
        b += b * b;
    }
    a
}

fn unread_carried_plain_b(t: f64) -> f64 {
    let mut b = t;
    for _ in 0..40 {
        b += b * b;
    }
    b
}

#[test]
fn unread_carried_value_has_no_adjoint() {
    let (_, ds, dt) = unread_carried_grad(0.3, 2.0);
    assert!(!unread_carried_plain_b(2.0).is_finite(), "b overflows");
    assert!(ds.is_finite());
    assert_eq!(dt, 0.0);
    let (s, t) = (0.3, 2.0);
    check!(unread_carried(s, t) => unread_carried_grad[s]);
}

/// An RNN with dynamic sizes: the reverse loop reads each new state off the
/// tape (the next entry, or the loop's result) instead of computing it again.
#[grad(w, u, h0)]
fn rnn_dynamic(w: &DMatrix<f64>, u: &DMatrix<f64>, h0: &DVector<f64>, xs: &[Vector2<f64>]) -> f64 {
    let mut h = h0.clone();
    let mut total = 0.0;
    for x in xs.iter() {
        h = (w * &h + u * x).map(|v| v.tanh());
        total += h.sum();
    }
    total + h.norm_squared()
}

#[test]
fn recurrence_dynamic() {
    let (w, u, h0) = (dm(3, 3, 1), dm(3, 2, 2), dv(3, 3));
    let xs: Vec<Vector2<f64>> = (0..6).map(|t| sm(30 + t)).collect();
    check!(rnn_dynamic(&w, &u, &h0, &xs) => rnn_dynamic_grad[w, u, h0]);
}

/// A value carried at a size computed by the same expression before the loop and in it.
#[grad(w)]
fn carried_at_a_computed_size(w: &DVector<f64>, n: usize) -> f64 {
    let mut h = w.rows(0, n) * 0.5;
    let mut total = 0.0;
    for k in 0..3 {
        total += h.norm_squared() / h.len() as f64;
        h = w.rows(0, n).map(|v| (v * k as f64).sin()) + &h;
    }
    total
}

/// An accumulator set back to zeros of the size it was made with, every iteration.
#[grad(w)]
fn accumulator_reset(w: &DVector<f64>, n: usize) -> f64 {
    let mut acc = DVector::zeros(n);
    let mut total = 0.0;
    for k in 0..3 {
        acc += w.rows(k, n) * 2.0;
        total += acc.norm_squared() / acc.len() as f64;
        acc = DVector::zeros(n);
    }
    total
}

/// Sizes computed by the user keep working where they cannot change (the
/// sizes that can are compile errors: `tests/ui/loop-size-*.rs`).
#[test]
fn sizes_computed_the_same_way() {
    let w = DVector::from_fn(6, |i, _| 0.3 * i as f64 - 0.5);
    check!(carried_at_a_computed_size(&w, 3) => carried_at_a_computed_size_grad[w]);
    check!(accumulator_reset(&w, 3) => accumulator_reset_grad[w]);
}
