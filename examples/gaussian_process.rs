//! A Gaussian process fitted by its marginal likelihood: the length scale and the noise of a
//! squared-exponential kernel, by Newton's method on the `#[hessian]`-generated 2×2 Hessian.
//!
//! Run with `cargo run --release --example gaussian_process`.
//!
//! 1. Data: 40 seeded points `xᵢ` on [−4, 4], `yᵢ = sin(xᵢ) + 0.1 εᵢ` with `εᵢ` standard normal.
//! 2. The negative log marginal likelihood `½ yᵀK⁻¹y + ½ ln det K + (n/2) ln 2π`, `K = k(θ) + σ²I`,
//!    written as scikit-learn's users port it: the kernel built by a helper marked
//!    `#[matgrad::differentiable]` with `from_fn`, one Cholesky factorisation serving the solve
//!    and the log-determinant. The parameters are the logarithms of the length scale and of
//!    the noise's standard deviation, so any step keeps them positive.
//! 3. Newton's method with a backtracking line search, from length 2 and noise 0.5, until the
//!    gradient's norm is below 1e-8; the gradient and the Hessian are checked against finite
//!    differences first.
//!
//! The program exits with an error if a check fails, Newton does not converge in 30 steps, or the
//! fitted noise is not within a factor 2 of the true 0.1.

use std::error::Error;

use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Vector2};
use matgrad::{differentiable, hessian};

mod support;
use support::Rng;

/// The squared-exponential kernel matrix of the points `xs`.
#[differentiable]
fn squared_exponential(xs: &DVector<f64>, length: f64) -> DMatrix<f64> {
    let n = xs.len();
    DMatrix::from_fn(n, n, |i, j| {
        let d = (xs[i] - xs[j]) / length;
        (-0.5 * d * d).exp()
    })
}

/// The negative log marginal likelihood in `θ = (ln ℓ, ln σ)`.
#[hessian(theta)]
fn nlml(theta: &Vector2<f64>, xs: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let n = y.len();
    let (length, sigma) = (theta[0].exp(), theta[1].exp());
    let k = squared_exponential(xs, length) + DMatrix::identity(n, n) * (sigma * sigma);
    let chol = k.clone().cholesky().unwrap();
    let alpha = chol.solve(y);
    0.5 * y.dot(&alpha)
        + chol.l().diagonal().map(|v| v.ln()).sum()
        + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

fn main() -> Result<(), Box<dyn Error>> {
    let n = 40;
    let mut rng = Rng::new(11);
    let xs = DVector::from_fn(n, |_, _| 4.0 * rng.symmetric());
    let y = DVector::from_fn(n, |i, _| xs[i].sin() + 0.1 * rng.gaussian());
    println!("{n} points of sin(x) + 0.1 ε on [−4, 4]; fitting (ln ℓ, ln σ) by Newton's method\n");

    let mut theta = Vector2::new(2.0f64.ln(), 0.5f64.ln());
    let (_, g, h) = nlml_hessian(&theta, &xs, &y);
    let grad_check = matgrad::check_gradient(|t| nlml(t, &xs, &y), &theta, &g);
    let hessian_check = matgrad::check_gradient(
        |t| nlml_hessian(t, &xs, &y).1[0],
        &theta,
        &h.column(0).into_owned(),
    );
    println!("gradient check: {grad_check}");
    println!("Hessian check (first column): {hessian_check}\n");
    if !grad_check.is_within(1e-6) || !hessian_check.is_within(1e-5) {
        return Err("a derivative check failed".into());
    }

    for step in 0..30 {
        let (value, g, h) = nlml_hessian(&theta, &xs, &y);
        println!(
            "step {step:2}: −ln p(y) = {value:.6}, ℓ = {:.4}, σ = {:.4}, ‖∇‖ = {:.2e}",
            theta[0].exp(),
            theta[1].exp(),
            g.norm()
        );
        if g.norm() < 1e-8 {
            let sigma = theta[1].exp();
            if !(0.05..=0.2).contains(&sigma) {
                return Err(
                    format!("fitted noise {sigma:.3} is not within a factor 2 of 0.1").into(),
                );
            }
            return Ok(());
        }
        // Newton's direction where the Hessian is positive definite, else the gradient's.
        let h = Matrix2::from_column_slice(h.as_slice());
        let direction = match h.cholesky() {
            Some(c) => -c.solve(&g),
            None => -g,
        };
        let mut t = 1.0;
        while nlml(&(theta + direction * t), &xs, &y) > value + 1e-4 * t * g.dot(&direction) {
            t *= 0.5;
        }
        theta += direction * t;
    }
    Err("Newton's method did not converge in 30 steps".into())
}
