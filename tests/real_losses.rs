//! Losses as people write them, with loops, branches, indexing and sizes:
//! a GARCH(1, 1) likelihood, an LQR rollout, a softmax cross-entropy with a
//! max shift, the pinball and hinge losses; each against central finite
//! differences.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Matrix2x1, Vector2, Vector3};

/// GARCH(1, 1) negative log-likelihood of returns `r` (Bollerslev 1986).
#[grad(p)]
fn garch_nll(p: &Vector3<f64>, r: &[f64]) -> f64 {
    let (omega, alpha, beta) = (p.x, p.y, p.z);
    let n = r.len();
    let mut var = 0.0;
    for v in r.iter() {
        var += v * v;
    }
    var /= n as f64;
    let mut nll = 0.0;
    for t in 1..n {
        var = omega + alpha * r[t - 1] * r[t - 1] + beta * var;
        nll += 0.5 * (var.ln() + r[t] * r[t] / var + (2.0 * std::f64::consts::PI).ln());
    }
    nll
}

#[test]
fn garch() {
    let p = Vector3::new(0.05, 0.1, 0.8);
    let r: Vec<f64> = (0..30).map(|t| 0.3 * (t as f64 * 1.7).sin()).collect();
    check!(garch_nll(&p, &r) => garch_nll_grad[p]);
}

/// The cost of an LQR rollout under the feedback gain `k`.
#[grad(k)]
fn lqr_cost(
    k: &Matrix2x1<f64>,
    a: &Matrix2<f64>,
    b: &Vector2<f64>,
    x0: &Vector2<f64>,
    steps: usize,
) -> f64 {
    let mut x = *x0;
    let mut cost = 0.0;
    for _ in 0..steps {
        let u = -(k.transpose() * x)[0];
        cost += x.norm_squared() + 0.1 * u * u;
        x = a * x + b * u;
    }
    cost + x.norm_squared()
}

#[test]
fn lqr() {
    let k = Matrix2x1::new(0.4, 0.2);
    let a = Matrix2::new(1.0, 0.1, 0.0, 1.0);
    let b = Vector2::new(0.0, 0.1);
    let x0 = Vector2::new(1.0, -0.5);
    check!(lqr_cost(&k, &a, &b, &x0, 20) => lqr_cost_grad[k]);
}

/// Softmax cross-entropy over samples, written with a max shift per row.
#[grad(w)]
fn softmax_xent(w: &DMatrix<f64>, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let scores = x * w;
    let (n, c) = scores.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut m = scores[(i, 0)];
        for j in 1..c {
            m = m.max(scores[(i, j)]);
        }
        let mut z = 0.0;
        for j in 0..c {
            z += (scores[(i, j)] - m).exp();
        }
        total += z.ln() + m - scores[(i, labels[i])];
    }
    total / n as f64
}

#[test]
fn softmax() {
    let (w, x) = (dm(3, 4, 1), dm(6, 3, 2));
    let labels = [0, 3, 1, 2, 2, 0];
    check!(softmax_xent(&w, &x, &labels) => softmax_xent_grad[w]);
}

/// Pinball (quantile) and hinge losses with branches, f32.
#[grad(w)]
fn quantile_and_hinge(w: &DVector<f32>, x: &DMatrix<f32>, y: &DVector<f32>, tau: f32) -> f32 {
    let pred = x * w;
    let mut total = 0.0;
    for i in 0..y.len() {
        let r = y[i] - pred[i];
        total += if r >= 0.0 { tau * r } else { (tau - 1.0) * r };
        let margin = 1.0 - y[i].signum() * pred[i];
        if margin > 0.0 {
            total += margin;
        }
    }
    total
}

#[test]
fn pinball_and_hinge_f32() {
    let (w, x, y) = (dv(3, 1), dm(7, 3, 2), dv(7, 3));
    check!(quantile_and_hinge(&w, &x, &y, 0.3) => quantile_and_hinge_grad[w]);
}
