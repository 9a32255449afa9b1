//! The special functions of statistics in losses: a probit model through `normal_cdf`, a
//! negative binomial likelihood through `ln_gamma` (its dispersion differentiated), a
//! Dirichlet likelihood's Hessian through `ln_gamma` and `digamma`, a Tobit model through
//! `erfc`; gradients and Hessians against central finite differences.

#![allow(clippy::needless_range_loop)] // losses by sample index, as such code is written

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector};
use matgrad::{digamma, erf, erfc, grad, hessian, ln_gamma, normal_cdf};

/// Probit regression: `−Σ [yᵢ ln Φ(xᵢᵀw) + (1 − yᵢ) ln Φ(−xᵢᵀw)]`.
#[grad(w)]
fn probit(w: &DVector<f64>, x: &DMatrix<f64>, y: &[bool]) -> f64 {
    let z = x * w;
    let mut nll = 0.0;
    for i in 0..y.len() {
        nll -= if y[i] {
            normal_cdf(z[i]).ln()
        } else {
            normal_cdf(-z[i]).ln()
        };
    }
    nll
}

/// Negative binomial regression with log-dispersion `log_r`.
#[grad(w, log_r)]
fn negative_binomial(w: &DVector<f64>, log_r: f64, x: &DMatrix<f64>, counts: &[u32]) -> f64 {
    let r = log_r.exp();
    let mut nll = 0.0;
    for i in 0..counts.len() {
        let y = counts[i] as f64;
        let mu = x.row(i).transpose().dot(w).exp();
        nll -= ln_gamma(y + r) - ln_gamma(r) - matgrad::ln_gamma(y + 1.0)
            + r * (r / (r + mu)).ln()
            + y * (mu / (r + mu)).ln();
    }
    nll
}

/// A Dirichlet log-likelihood's Hessian in its concentrations, plus a term through `digamma`
/// (so the Hessian reads `ψ″`).
#[hessian(alpha)]
fn dirichlet(alpha: &DVector<f64>, log_p: &[f64]) -> f64 {
    let total: f64 = alpha.sum();
    let mut ll = ln_gamma(total);
    for k in 0..alpha.len() {
        ll += (alpha[k] - 1.0) * log_p[k] - ln_gamma(alpha[k]) + 0.1 * digamma(alpha[k]);
    }
    -ll
}

/// A Tobit model censored at 0: `erfc` for the censored samples, `erf` in a penalty.
#[grad(w, log_sigma)]
fn tobit(w: &DVector<f64>, log_sigma: f64, x: &DMatrix<f64>, y: &[f64]) -> f64 {
    let sigma = log_sigma.exp();
    let mut nll = 0.0;
    for i in 0..y.len() {
        let mu = x.row(i).transpose().dot(w);
        if y[i] <= 0.0 {
            nll -= (0.5 * erfc(mu / (sigma * std::f64::consts::SQRT_2))).ln();
        } else {
            let z = (y[i] - mu) / sigma;
            nll += 0.5 * z * z + log_sigma;
        }
    }
    nll + 0.01 * erf(w.norm()).powi(2)
}

/// The same probit in `f32`, generic.
#[grad(w)]
fn probit_generic<T: matgrad::nalgebra::RealField + Copy>(w: &DVector<T>, x: &DMatrix<T>) -> T {
    (x * w).map(|v| normal_cdf(v)).sum()
}

#[test]
fn probit_and_negative_binomial() {
    let (w, x) = (dv(3, 1), dm(8, 3, 2));
    let y = [true, false, false, true, true, false, true, false];
    check!(probit(&w, &x, &y) => probit_grad[w]);
    let w = dv::<f64>(3, 3) * 0.3;
    let log_r = 0.4;
    let counts = [0, 3, 1, 7, 2, 0, 5, 1];
    check!(negative_binomial(&w, log_r, &x, &counts) => negative_binomial_grad[w, log_r]);
}

#[test]
fn a_dirichlet_hessian_through_ln_gamma_and_digamma() {
    let alpha = DVector::from_vec(vec![0.7, 2.5, 1.3, 4.0]);
    let log_p = [0.2f64.ln(), 0.5f64.ln(), 0.1f64.ln(), 0.2f64.ln()];
    let (value, g, h) = dirichlet_hessian(&alpha, &log_p);
    same_value("dirichlet", value, dirichlet(&alpha, &log_p));
    fd(
        "dirichlet gradient",
        |a: &DVector<f64>| dirichlet(a, &log_p),
        &alpha,
        &g,
    );
    let fd_h = fd_hessian(|a| dirichlet_hessian(a, &log_p).1, &alpha);
    assert_close(&h, &fd_h, 1e-6, "dirichlet Hessian");
}

#[test]
fn tobit_through_erfc() {
    let (w, x) = (dv(3, 4), dm(9, 3, 5));
    let y = [0.0, 1.2, -0.3, 0.8, 0.0, 2.1, 0.4, -1.0, 0.9];
    check!(tobit(&w, 0.2, &x, &y) => tobit_grad[w]);
    let log_sigma = 0.2;
    check!(tobit(&w, log_sigma, &x, &y) => tobit_grad[w, log_sigma]);
}

#[test]
fn special_functions_in_f32() {
    let (w, x) = (dv::<f32>(3, 6), dm::<f32>(5, 3, 7));
    check!(probit_generic(&w, &x) => probit_generic_grad[w]);
}

/// `ln Γ` by Lanczos' approximation, its coefficients an array in a helper (read as data).
#[matgrad::differentiable]
fn lanczos_ln_gamma(x: f64) -> f64 {
    let coefficients = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let z = x - 1.0;
    let mut sum = coefficients[0];
    for k in 1..coefficients.len() {
        sum += coefficients[k] / (z + k as f64);
    }
    let t = z + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (z + 0.5) * t.ln() - t + sum.ln()
}

#[grad(a)]
fn gamma_shape(a: f64, ys: &[f64]) -> f64 {
    let mut nll = 0.0;
    for &y in ys {
        nll += lanczos_ln_gamma(a) - (a - 1.0) * y.ln() + y;
    }
    nll
}

#[test]
fn coefficients_in_an_array() {
    let ys = [0.5, 1.7, 2.2, 0.9];
    let a = 2.3;
    check!(gamma_shape(a, &ys) => gamma_shape_grad[a]);
    assert!((lanczos_ln_gamma(a) - ln_gamma(a)).abs() < 1e-12);
    let (_, da) = gamma_shape_grad(a, &ys);
    let want: f64 = ys.iter().map(|y| digamma(a) - y.ln()).sum();
    assert!((da - want).abs() < 1e-9, "{da} against {want}");
}
