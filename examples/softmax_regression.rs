//! Multinomial logistic regression on Fisher's iris data, its loss written one
//! sample at a time around a `log_softmax` helper marked
//! `#[matgrad::differentiable]`.
//!
//! Run with `cargo run --release --example softmax_regression`.
//!
//! 1. `examples/data/iris.csv` (150 flowers × 4 measurements, 3 classes; source and licence
//!    in `examples/data/README.md`) is split 80 % / 20 % by a seeded shuffle, stratified by
//!    class, and standardised with the training statistics.
//! 2. The loss is the mean negative log-likelihood of the labels under
//!    `softmax(W xᵢ + b)`, plus `λ‖W‖²`: a `for` loop over the samples calling the helper
//!    `log_softmax`, which shifts by the largest entry (a closure reading `m` from around
//!    it) so that `exp` cannot overflow. `W` is a `Matrix3x4`, `b` a `Vector3`: the
//!    per-sample work stays on the stack.
//! 3. The generated gradients are compared with central finite differences, then plain
//!    gradient descent runs for 300 steps, printing the loss and the accuracies.
//!
//! The program exits with an error if the test accuracy is below 90 % or the gradient
//! check fails.

use std::error::Error;

use matgrad::nalgebra::{DMatrix, Matrix3x4, Vector3};
use matgrad::{differentiable, grad};

mod support;
use support::{read_csv, Rng, IRIS};

/// `ln softmax(z)`, shifted by the largest entry.
#[differentiable]
fn log_softmax(z: &Vector3<f64>) -> Vector3<f64> {
    let m = z.max();
    let total = z.map(|v| (v - m).exp()).sum();
    let log_total = m + total.ln();
    z.map(|v| v - log_total)
}

/// Mean negative log-likelihood of `labels` (one per column of `x`), plus `λ‖W‖²`.
#[allow(clippy::needless_range_loop)]
#[grad(w, b)]
fn nll(
    w: &Matrix3x4<f64>,
    b: &Vector3<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
    lambda: f64,
) -> f64 {
    let n = x.ncols();
    let mut total = 0.0;
    for i in 0..n {
        let z = w * x.column(i) + b;
        total -= log_softmax(&z)[labels[i]];
    }
    total / n as f64 + lambda * w.norm_squared()
}

/// The fraction of columns of `x` whose largest score `W x + b` is at the label.
fn accuracy(w: &Matrix3x4<f64>, b: &Vector3<f64>, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let correct = (0..x.ncols())
        .filter(|&i| (w * x.column(i) + b).argmax().0 == labels[i])
        .count();
    correct as f64 / labels.len() as f64
}

fn main() -> Result<(), Box<dyn Error>> {
    const STEPS: usize = 300;
    const LEARNING_RATE: f64 = 0.5;
    const LAMBDA: f64 = 1e-3;

    // --- Data: stratified seeded split, standardised with the training statistics.
    let (x_all, labels_all) = read_csv(IRIS)?;
    let mut rng = Rng::new(7);
    let order = rng.permutation(x_all.ncols());
    let (mut test_idx, mut train_idx) = (Vec::new(), Vec::new());
    for class in 0..3 {
        let members: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| labels_all[i] == class)
            .collect();
        let k = (members.len() as f64 * 0.2).round() as usize;
        test_idx.extend_from_slice(&members[..k]);
        train_idx.extend_from_slice(&members[k..]);
    }
    let (x_train, x_test) = (
        x_all.select_columns(&train_idx),
        x_all.select_columns(&test_idx),
    );
    let labels = |idx: &[usize]| idx.iter().map(|&i| labels_all[i]).collect::<Vec<_>>();
    let (y_train, y_test) = (labels(&train_idx), labels(&test_idx));
    let mean = x_train.column_mean();
    let std = x_train.column_variance().map(f64::sqrt);
    let standardise = |x: &DMatrix<f64>| {
        DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| (x[(i, j)] - mean[i]) / std[i])
    };
    let (x_train, x_test) = (standardise(&x_train), standardise(&x_test));
    println!(
        "iris: training set {}, test set {}; softmax regression 4 → 3, λ = {LAMBDA}\n",
        y_train.len(),
        y_test.len()
    );

    // --- The generated gradients against finite differences, at a random point.
    let mut w = Matrix3x4::from_fn(|_, _| 0.3 * rng.gaussian());
    let mut b = Vector3::from_fn(|_, _| 0.1 * rng.gaussian());
    let (_, dw, db) = nll_grad(&w, &b, &x_train, &y_train, LAMBDA);
    let checks = [
        matgrad::check_gradient(|w| nll(w, &b, &x_train, &y_train, LAMBDA), &w, &dw),
        matgrad::check_gradient(|b| nll(&w, b, &x_train, &y_train, LAMBDA), &b, &db),
    ];
    for (name, report) in ["W", "b"].iter().zip(&checks) {
        println!("gradient check, ∇{name}: {report}");
    }
    println!();

    // --- Gradient descent.
    for step in 0..=STEPS {
        let (loss, dw, db) = nll_grad(&w, &b, &x_train, &y_train, LAMBDA);
        if step % 50 == 0 {
            println!(
                "step {step:3}: loss {loss:.4}, train accuracy {:.1} %, test accuracy {:.1} %",
                100.0 * accuracy(&w, &b, &x_train, &y_train),
                100.0 * accuracy(&w, &b, &x_test, &y_test)
            );
        }
        w -= LEARNING_RATE * dw;
        b -= LEARNING_RATE * db;
    }
    let test = accuracy(&w, &b, &x_test, &y_test);
    if test < 0.9 {
        return Err(format!("test accuracy {:.1} % is below 90 %", 100.0 * test).into());
    }
    if checks.iter().any(|r| !r.is_within(1e-6)) {
        return Err("a gradient check failed".into());
    }
    Ok(())
}
