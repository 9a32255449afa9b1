//! Maximum-likelihood covariance of a Gaussian, by gradient descent on the negative
//! log-likelihood, compared with the closed form.
//!
//! Run with `cargo run --release --example gaussian_mle`.
//!
//! For samples `x₁ … xₙ` with mean `x̄` and sample covariance `S = Σᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ / n`,
//! the Gaussian negative log-likelihood in the covariance `Σ` is, up to constants and a factor
//! `n / 2`,
//!
//! ```text
//! f(Σ) = ln det Σ + tr(Σ⁻¹ S),        ∇f = Σ⁻¹ − Σ⁻¹ S Σ⁻¹  (Σ, S symmetric),
//! ```
//!
//! which is minimised by `Σ = S`. This example
//!
//! 1. draws 400 samples from a 4-dimensional Gaussian with a known covariance (fixed seed);
//! 2. writes `f` once, for fixed-size `Matrix4<f64>` parameters (no heap allocation), and lets
//!    `#[grad(sigma)]` derive the gradient;
//! 3. minimises `f` by gradient descent from `Σ = I`, with Barzilai–Borwein step sizes and a
//!    backtracking (Armijo) line search that also rejects steps leaving the symmetric
//!    positive-definite matrices;
//! 4. compares the result with the closed-form `S`, and the generated gradient with central
//!    finite differences.
//!
//! The program exits with an error if gradient descent does not reach `S` or the gradient check
//! fails.

use matgrad::grad;
use matgrad::nalgebra::{Matrix4, Vector4};

mod support;
use support::Rng;

/// Gaussian negative log-likelihood of the covariance (up to constants and a factor `n / 2`).
#[grad(sigma)]
fn nll(sigma: &Matrix4<f64>, s: &Matrix4<f64>) -> f64 {
    sigma.determinant().ln() + (sigma.try_inverse().unwrap() * s).trace()
}

fn is_positive_definite(m: &Matrix4<f64>) -> bool {
    m.cholesky().is_some()
}

fn print_matrix(name: &str, m: &Matrix4<f64>) {
    for i in 0..4 {
        let label = if i == 0 { name } else { "" };
        println!(
            "  {label:>10}  [{:>8.4} {:>8.4} {:>8.4} {:>8.4}]",
            m[(i, 0)],
            m[(i, 1)],
            m[(i, 2)],
            m[(i, 3)]
        );
    }
}

fn main() {
    const SAMPLES: usize = 400;
    const MAX_ITERATIONS: usize = 200;
    const GRADIENT_TOLERANCE: f64 = 1e-10;

    // --- Data: x = μ + A g with g standard normal, so Cov(x) = A Aᵀ.
    let mut rng = Rng::new(2024);
    let a = Matrix4::new(
        1.5, 0.0, 0.0, 0.0, //
        0.6, 1.0, 0.0, 0.0, //
        -0.4, 0.3, 0.8, 0.0, //
        0.2, -0.5, 0.4, 0.6,
    );
    let sigma_true = a * a.transpose();
    let mu = Vector4::new(1.0, -2.0, 0.5, 3.0);
    let samples: Vec<Vector4<f64>> = (0..SAMPLES)
        .map(|_| mu + a * Vector4::from_fn(|_, _| rng.gaussian()))
        .collect();
    let mean = samples.iter().sum::<Vector4<f64>>() / SAMPLES as f64;
    let s = samples
        .iter()
        .map(|x| (x - mean) * (x - mean).transpose())
        .sum::<Matrix4<f64>>()
        / SAMPLES as f64;
    println!(
        "{SAMPLES} samples of a 4-dimensional Gaussian; minimising ln det Σ + tr(Σ⁻¹S) over Σ by \
         gradient descent (Barzilai–Borwein steps, non-monotone line search: the loss may rise for \
         a step)\n"
    );

    // --- Gradient descent from Σ = I. The step is the Barzilai–Borwein step `⟨ΔΣ, ΔΣ⟩ / ⟨ΔΣ, Δ∇⟩`
    // (the inverse of the curvature seen along the last step), halved until Σ stays positive
    // definite and the loss is below the largest of the last 10 losses by a fraction of the
    // first-order prediction (a non-monotone Armijo rule, which lets the Barzilai–Borwein steps
    // work).
    let mut sigma = Matrix4::identity();
    let (mut loss, mut grad) = nll_grad(&sigma, &s);
    let initial_loss = loss;
    let mut step = 0.1;
    let mut iterations = 0;
    let mut recent = std::collections::VecDeque::from([loss]);
    println!(
        "{:>9}  {:>14}  {:>10}  {:>8}",
        "iteration", "loss", "‖∇Σ‖", "step"
    );
    println!("{:>9}  {loss:>14.10}  {:>10.3e}  {:>8}", 0, grad.norm(), "");
    while grad.norm() > GRADIENT_TOLERANCE && iterations < MAX_ITERATIONS {
        iterations += 1;
        let (next, next_loss, next_grad) = loop {
            let candidate = sigma - grad * step;
            // Σ and S are symmetric, so is the gradient; symmetrise away rounding.
            let candidate = (candidate + candidate.transpose()) * 0.5;
            if is_positive_definite(&candidate) {
                let (l, g) = nll_grad(&candidate, &s);
                let reference = recent.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if l <= reference - 1e-4 * step * grad.norm_squared() {
                    break (candidate, l, g);
                }
            }
            step *= 0.5;
            assert!(
                step > 1e-20,
                "the line search failed at iteration {iterations}"
            );
        };
        let (ds, dg) = (next - sigma, next_grad - grad);
        let taken = step;
        if ds.dot(&dg) > 0.0 {
            step = ds.norm_squared() / ds.dot(&dg);
        }
        (sigma, loss, grad) = (next, next_loss, next_grad);
        if recent.len() == 10 {
            recent.pop_front();
        }
        recent.push_back(loss);
        if iterations <= 20 || iterations % 10 == 0 || grad.norm() <= GRADIENT_TOLERANCE {
            println!(
                "{iterations:>9}  {loss:>14.10}  {:>10.3e}  {taken:>8.3}",
                grad.norm()
            );
        }
    }

    // --- Compare with the closed form.
    let closed_form_loss = s.determinant().ln() + 4.0;
    let error = (sigma - s).norm() / s.norm();
    println!("\nafter {iterations} iterations:");
    print_matrix("Σ (GD)", &sigma);
    print_matrix("S", &s);
    print_matrix("Σ (true)", &sigma_true);
    println!("relative distance to the closed form S:   ‖Σ − S‖ / ‖S‖ = {error:.3e}");
    println!(
        "loss at Σ = {loss:.12}, at S (ln det S + 4) = {closed_form_loss:.12}, difference {:.1e}",
        loss - closed_form_loss
    );
    println!(
        "sampling error of S itself (n = {SAMPLES}):  ‖S − Σ_true‖ / ‖Σ_true‖ = {:.3e}",
        (s - sigma_true).norm() / sigma_true.norm()
    );

    // --- Generated gradient against finite differences, at a random positive-definite Σ away
    // from the optimum, and against the formula Σ⁻¹ − Σ⁻¹ S Σ⁻¹.
    let b = Matrix4::from_fn(|_, _| rng.gaussian());
    let sigma_check = b * b.transpose() + Matrix4::identity();
    let (_, g) = nll_grad(&sigma_check, &s);
    let inverse = sigma_check.try_inverse().unwrap();
    let formula_error = (g - (inverse - inverse * s * inverse)).norm() / g.norm();
    let report = matgrad::check_gradient(|sigma| nll(sigma, &s), &sigma_check, &g);
    println!(
        "\ngenerated gradient vs central finite differences at a random Σ: max relative error \
         {:.2e} over {} entries (tolerance 1e-6); vs Σ⁻¹ − Σ⁻¹SΣ⁻¹: {formula_error:.1e}",
        report.max_rel_error, report.entries
    );

    assert!(loss < initial_loss, "the loss did not decrease");
    assert!(
        error < 1e-8,
        "gradient descent did not reach S: relative error {error:e}"
    );
    assert!(formula_error < 1e-10);
    report.assert_within(1e-6);
}
