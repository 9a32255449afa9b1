//! The log-Euclidean mean of symmetric positive definite matrices, by Newton's
//! method on the Hessian `#[hessian]` derives through the matrix logarithm.
//!
//! Run with `cargo run --release --example log_euclidean_mean`.
//!
//! Covariance matrices (diffusion tensors, EEG covariances) are averaged in the
//! log-Euclidean metric: the mean of `A₁ … Aₙ` minimises
//! `f(X) = (1/n) Σᵢ ‖log X − log Aᵢ‖²`, and is `exp((1/n) Σᵢ log Aᵢ)`. Here `X`
//! is found without that closed form: Newton's method, `vec X ← vec X − t H⁻¹ ∇`
//! (the step `t` halved while `f` increases, 1 near the mean),
//! with the value, the gradient (through `logm`'s Fréchet derivative) and the
//! 9 × 9 Hessian (through its second Fréchet derivative) from one call of the
//! generated `spread_hessian`. The program checks the result against the closed
//! form, the quadratic convergence, and the Hessian against finite differences
//! of the gradient, and exits with an error if any check fails.

use matgrad::hessian;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3};

mod support;
use support::Rng;

/// `(1/n) Σᵢ ‖log X − Lᵢ‖²` for the logarithms `Lᵢ = log Aᵢ` of the data.
#[hessian(x)]
fn spread(x: &Matrix3<f64>, logs: &[Matrix3<f64>]) -> f64 {
    let l = matgrad::logm(x);
    let mut total = 0.0;
    for li in logs.iter() {
        total += (l - li).norm_squared();
    }
    total / logs.len() as f64
}

/// A random SPD matrix `B Bᵀ + ½ I` with Gaussian `B`.
fn spd(rng: &mut Rng) -> Matrix3<f64> {
    let b = Matrix3::from_fn(|_, _| rng.gaussian());
    b * b.transpose() + Matrix3::identity() * 0.5
}

fn main() {
    const SAMPLES: usize = 20;
    let mut rng = Rng::new(7);
    let data: Vec<Matrix3<f64>> = (0..SAMPLES).map(|_| spd(&mut rng)).collect();
    let logs: Vec<Matrix3<f64>> = data.iter().map(matgrad::logm).collect();
    let closed_form = (logs.iter().sum::<Matrix3<f64>>() / SAMPLES as f64).exp();

    println!("log-Euclidean mean of {SAMPLES} random 3 × 3 SPD matrices, by Newton's method");
    println!();
    println!("iteration          f(X)          ‖∇X‖   ‖∇X‖ / ‖∇X_prev‖²");
    // Start from the arithmetic mean, SPD and near the answer.
    let mut x = data.iter().sum::<Matrix3<f64>>() / SAMPLES as f64;
    let mut norms: Vec<f64> = Vec::new();
    for iteration in 0..20 {
        let (value, grad, hess) = spread_hessian(&x, &logs);
        let norm = grad.norm();
        let ratio = match norms.last() {
            Some(_) if norm < 1e-13 => format!("{:>14}", "(round-off)"),
            Some(prev) => format!("{:>14.3}", norm / (prev * prev)),
            None => String::new(),
        };
        println!("{iteration:>9} {value:>13.10} {norm:>13.3e} {ratio}");
        norms.push(norm);
        if norm < 1e-12 {
            break;
        }
        let g = DVector::from_column_slice(grad.as_slice());
        let step = hess
            .lu()
            .solve(&g)
            .expect("the Hessian is invertible near the mean");
        let step = Matrix3::from_column_slice(step.as_slice());
        // Far from the mean a full step may leave the SPD matrices (where
        // `logm` is NaN) or go uphill: halve it until `f` does not increase
        // (beyond its rounding, which is all that is left near the mean).
        let worse = |f: f64| f.is_nan() || f > value * (1.0 + 1e-12);
        let mut t = 1.0;
        while worse(spread(&(x - step * t), &logs)) && t > 1e-8 {
            t /= 2.0;
        }
        x -= step * t;
    }
    let iterations = norms.len() - 1;
    assert!(*norms.last().unwrap() < 1e-12, "Newton did not converge");
    assert!(iterations <= 15, "Newton took {iterations} steps");
    let tail: Vec<f64> = norms
        .windows(2)
        .filter(|p| p[0] < 1e-2 && p[1] > 1e-13)
        .map(|p| p[1] / (p[0] * p[0]))
        .collect();
    assert!(tail.iter().all(|&c| c < 100.0), "not quadratic: {tail:?}");
    let error = (x - closed_form).norm() / closed_form.norm();
    println!();
    println!(
        "converged in {iterations} Newton steps; ‖X − exp(mean log Aᵢ)‖ / ‖exp(mean log Aᵢ)‖ = {error:.2e}, ‖X − Xᵀ‖ = {:.2e}",
        (x - x.transpose()).norm()
    );
    assert!(error < 1e-10, "not the closed form");

    // The Hessian against central differences of the gradient, away from the optimum.
    let x0 = data[0];
    let (_, _, hess) = spread_hessian(&x0, &logs);
    let mut fd = DMatrix::zeros(9, 9);
    for k in 0..9 {
        let h = 1e-6;
        let (mut plus, mut minus) = (x0, x0);
        plus[k] += h;
        minus[k] -= h;
        let column = (spread_hessian(&plus, &logs).1 - spread_hessian(&minus, &logs).1) / (2.0 * h);
        fd.set_column(k, &DVector::from_column_slice(column.as_slice()));
    }
    let worst = (&fd - hess).amax() / hess.amax();
    let v = Matrix3::from_fn(|i, j| ((3 * j + i) as f64).sin());
    let (_, _, hv) = spread_hvp(&x0, &logs, &v);
    let hv_expected = hess * DVector::from_column_slice(v.as_slice());
    let hvp_error =
        (DVector::from_column_slice(hv.as_slice()) - hv_expected).norm() / hv_expected.norm();
    println!("Hessian vs central differences of the gradient: max relative error {worst:.2e}; hvp vs H·v: {hvp_error:.2e}");
    assert!(worst < 1e-6 && hvp_error < 1e-10);
}
