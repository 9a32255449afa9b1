//! Quick start: fit a ridge regression with the gradient `#[grad]` derives.
//!
//! Run with `cargo run --release --example quickstart`.
//!
//! 1. A synthetic regression problem (500 samples × 10 correlated features, Gaussian noise) is
//!    generated from a fixed seed, so every run prints the same numbers.
//! 2. The loss is written once, in plain nalgebra, and `#[grad(w)]` generates `ridge_grad`, which
//!    returns the loss and its exact gradient with respect to `w`.
//! 3. Gradient descent with a fixed step `1 / L` (`L` the Lipschitz constant of the gradient)
//!    fits the weights; the result is compared with the true weights and with the closed-form
//!    ridge solution.
//! 4. The generated gradient is compared with central finite differences by
//!    `matgrad::check_gradient`.
//!
//! The program exits with an error if the loss does not go down or the gradient check fails.

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

mod support;
use support::Rng;

/// Ridge-regularised least squares: `‖x w − y‖² / n + λ ‖w‖²`.
#[grad(w)]
fn ridge(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, n: f64, lambda: f64) -> f64 {
    let r = x * w - y;
    r.norm_squared() / n + lambda * w.norm_squared()
}

fn main() {
    const SAMPLES: usize = 500;
    const FEATURES: usize = 10;
    const NOISE: f64 = 0.1;
    const LAMBDA: f64 = 1e-3;
    const ITERATIONS: usize = 100;
    const TOLERANCE: f64 = 1e-6;

    // --- Data: y = x w_true + noise, with features that share a common factor (correlated).
    let mut rng = Rng::new(42);
    let w_true = DVector::from_fn(FEATURES, |_, _| rng.gaussian());
    let common: Vec<f64> = (0..SAMPLES).map(|_| rng.gaussian()).collect();
    let x = DMatrix::from_fn(SAMPLES, FEATURES, |i, _| rng.gaussian() + 0.5 * common[i]);
    let y = &x * &w_true + DVector::from_fn(SAMPLES, |_, _| NOISE * rng.gaussian());
    let n = SAMPLES as f64;
    println!(
        "ridge regression: {SAMPLES} samples × {FEATURES} features, noise σ = {NOISE}, λ = {LAMBDA}"
    );

    // --- Step size. The Hessian of the loss is 2 (xᵀx / n + λ I), so the gradient is
    // L-Lipschitz with L = 2 (λ_max(xᵀx) / n + λ); gradient descent with step 1/L decreases the
    // loss at every iteration.
    let gram = x.tr_mul(&x) / n;
    let eigenvalues = gram.clone().symmetric_eigenvalues();
    let l = 2.0 * (eigenvalues.max() + LAMBDA);
    let mu = 2.0 * (eigenvalues.min() + LAMBDA);
    let step = 1.0 / l;
    println!("gradient Lipschitz constant L = {l:.4}, strong convexity μ = {mu:.4}, step 1/L\n");

    // --- Gradient descent with the generated `ridge_grad`.
    let mut w = DVector::zeros(FEATURES);
    let (initial_loss, _) = ridge_grad(&w, &x, &y, n, LAMBDA);
    let mut previous = initial_loss;
    // Step 1/L decreases the loss at every iteration in exact arithmetic; near the optimum
    // floating-point rounding can move it by a few ulps either way, so allow for that.
    let mut monotone = true;
    println!("{:>9}  {:>14}  {:>12}", "iteration", "loss", "‖∇w‖");
    for it in 0..=ITERATIONS {
        let (loss, dw) = ridge_grad(&w, &x, &y, n, LAMBDA);
        monotone &= loss <= previous * (1.0 + 1e-12);
        previous = loss;
        if it % 10 == 0 {
            println!("{it:>9}  {loss:>14.10}  {:>12.3e}", dw.norm());
        }
        if it < ITERATIONS {
            w -= step * dw;
        }
    }
    let final_loss = previous;

    // --- How good is the fit?
    // The exact minimiser of the ridge loss solves (xᵀx / n + λ I) w = xᵀy / n.
    let system = gram + DMatrix::identity(FEATURES, FEATURES) * LAMBDA;
    let w_exact = system
        .cholesky()
        .expect("xᵀx / n + λ I is positive definite")
        .solve(&(x.tr_mul(&y) / n));
    println!("\n{:>7}  {:>10}  {:>10}", "weight", "true", "fitted");
    for k in 0..FEATURES {
        println!("{k:>7}  {:>10.5}  {:>10.5}", w_true[k], w[k]);
    }
    println!(
        "\nrelative error of the fitted weights: ‖w − w_true‖ / ‖w_true‖ = {:.3e} (noise and λ \
         keep it above 0)",
        (&w - &w_true).norm() / w_true.norm()
    );
    println!(
        "distance to the closed-form ridge solution:  ‖w − w*‖ / ‖w*‖ = {:.3e}",
        (&w - &w_exact).norm() / w_exact.norm()
    );

    // --- Check the generated gradient against finite differences, at a random point (at the
    // optimum the gradient is ~0 and the check would be trivially satisfied).
    let w_check = DVector::from_fn(FEATURES, |_, _| rng.gaussian());
    let (value, dw) = ridge_grad(&w_check, &x, &y, n, LAMBDA);
    assert_eq!(value, ridge(&w_check, &x, &y, n, LAMBDA));
    let report = matgrad::check_gradient(|w| ridge(w, &x, &y, n, LAMBDA), &w_check, &dw);
    println!(
        "\ngenerated gradient vs central finite differences at a random w: max relative error \
         {:.2e} over {} entries (tolerance {TOLERANCE:e})",
        report.max_rel_error, report.entries
    );

    assert!(
        monotone && final_loss < initial_loss,
        "the loss did not decrease at every iteration: {initial_loss} → {final_loss}"
    );
    report.assert_within(TOLERANCE);
}
