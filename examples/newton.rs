//! Newton's method with the Hessian `#[hessian]` derives.
//!
//! Run with `cargo run --release --example newton`.
//!
//! An L2-regularised logistic regression on seeded synthetic data (2000 samples,
//! 8 features) is fitted by Newton's method, `w ← w − H⁻¹ ∇`, with the value,
//! gradient and Hessian from one call of the generated `logistic_hessian`. The
//! gradient norm falls quadratically: each step roughly squares it. The Hessian
//! is checked against finite differences of the gradient, and `logistic_hvp`
//! against `H v`. The program exits with an error if Newton does not converge
//! quadratically or a check fails.

use matgrad::hessian;
use matgrad::nalgebra::{DMatrix, DVector};

mod support;
use support::Rng;

/// `Σᵢ ln(1 + exp(−yᵢ xᵢᵀ w)) / n + λ ‖w‖²`.
#[hessian(w)]
fn logistic(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, n: f64, lambda: f64) -> f64 {
    let margins = (x * w).component_mul(y);
    margins.map(|m| matgrad::softplus(-m)).sum() / n + w.norm_squared() * lambda
}

fn main() {
    const SAMPLES: usize = 2000;
    const FEATURES: usize = 8;
    let lambda = 1e-3;
    let mut rng = Rng::new(2024);
    let w_true = DVector::from_fn(FEATURES, |_, _| rng.gaussian());
    let x = DMatrix::from_fn(SAMPLES, FEATURES, |_, _| rng.gaussian());
    let y = (&x * &w_true).map(|z| {
        let p = 1.0 / (1.0 + (-z).exp());
        if rng.uniform() < p {
            1.0
        } else {
            -1.0
        }
    });
    let n = SAMPLES as f64;

    println!(
        "L2-regularised logistic regression: {SAMPLES} samples × {FEATURES} features, λ = {lambda}"
    );
    println!();
    println!("iteration            loss          ‖∇w‖   ‖∇w‖ / ‖∇w_prev‖²");
    let mut w = DVector::zeros(FEATURES);
    let mut norms = Vec::new();
    for iteration in 0..20 {
        let (loss, grad, hess) = logistic_hessian(&w, &x, &y, n, lambda);
        let norm = grad.norm();
        let ratio = match norms.last() {
            Some(_) if norm < 1e-14 => format!("{:>14}", "(round-off)"),
            Some(prev) => format!("{:>14.3}", norm / (prev * prev)),
            None => String::new(),
        };
        println!("{iteration:>9} {loss:>15.12} {norm:>13.3e} {ratio}");
        norms.push(norm);
        if norm < 1e-13 {
            break;
        }
        let step = hess
            .cholesky()
            .expect("the regularised Hessian is positive definite")
            .solve(&grad);
        w -= step;
    }
    let iterations = norms.len() - 1;
    assert!(
        (logistic(&w, &x, &y, n, lambda) - logistic_hessian(&w, &x, &y, n, lambda).0).abs() < 1e-15
    );
    assert!(*norms.last().unwrap() < 1e-12, "Newton did not converge");
    assert!(
        iterations <= 10,
        "Newton took {iterations} steps: not quadratic"
    );
    // Quadratic convergence: once close, each gradient norm is about C times the square of the last.
    let tail: Vec<f64> = norms
        .windows(2)
        .filter(|p| p[0] < 1e-2 && p[1] > 1e-14)
        .map(|p| p[1] / (p[0] * p[0]))
        .collect();
    assert!(
        !tail.is_empty() && tail.iter().all(|&c| c < 100.0),
        "not quadratic: {tail:?}"
    );
    println!();
    println!("converged in {iterations} Newton steps; ‖w − w_true‖ / ‖w_true‖ = {:.3e} (finite data and λ keep it above 0)", (&w - &w_true).norm() / w_true.norm());

    // Check the Hessian against finite differences of the gradient at a point away from the optimum.
    let w0 = DVector::from_fn(FEATURES, |i, _| 0.3 - 0.1 * i as f64);
    let (_, _, hess) = logistic_hessian(&w0, &x, &y, n, lambda);
    let mut worst: f64 = 0.0;
    for k in 0..FEATURES {
        let h = 1e-5;
        let (mut plus, mut minus) = (w0.clone(), w0.clone());
        plus[k] += h;
        minus[k] -= h;
        let column = (logistic_hessian(&plus, &x, &y, n, lambda).1
            - logistic_hessian(&minus, &x, &y, n, lambda).1)
            / (2.0 * h);
        worst = worst.max((column - hess.column(k)).amax() / hess.amax());
    }
    let v = DVector::from_fn(FEATURES, |i, _| (i as f64).sin());
    let (_, _, hv) = logistic_hvp(&w0, &x, &y, n, lambda, &v);
    let hvp_error = (&hv - &hess * &v).norm() / hv.norm();
    println!("Hessian vs central differences of the gradient: max relative error {worst:.2e}; hvp vs H·v: {hvp_error:.2e}");
    assert!(worst < 1e-6 && hvp_error < 1e-12);
}
