//! Losses calling helpers marked `#[matgrad::differentiable]` (whose generated
//! functions are written over several expansion steps), a closure reading a
//! value from around it, and a private helper reached only through a loss.

use matgrad::nalgebra::{DVector, Vector3};
use matgrad::{differentiable, grad, hessian};

/// `ln softmax(z)`, shifted by its largest entry.
#[differentiable]
#[must_use]
pub fn log_softmax(z: &DVector<f64>) -> DVector<f64> {
    let m = z.max();
    let total = z.map(|v| (v - m).exp()).sum();
    let log_total = m + total.ln();
    z.map(|v| v - log_total)
}

#[differentiable]
fn cube(s: f64) -> f64 {
    s * s * s
}

/// The cross-entropy of `softmax(z)` against `target`.
#[grad(z)]
#[must_use]
pub fn cross_entropy(z: &DVector<f64>, target: usize) -> f64 {
    -log_softmax(z)[target]
}

/// A Hessian through a private helper.
#[hessian(x)]
#[must_use]
pub fn cubic(x: &Vector3<f64>) -> f64 {
    cube(x[0]) + cube(x.dot(x))
}
