//! Generated code under the strictest lints a user might set: `cargo clippy`
//! of this crate (part of the workspace, so CI runs it) fails on any warning
//! from code `#[grad]` emits. `companions` holds annotated items reached only through what the
//! attributes generate, which must not be dead code.
#![deny(warnings)]
#![deny(clippy::all, clippy::pedantic)]
#![forbid(unsafe_code)]

mod companions;
pub mod helpers;
pub use companions::run;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Matrix3, RealField, Vector3};

/// Least squares.
#[grad(w)]
#[must_use]
pub fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.norm_squared()
}

/// A Gaussian negative log-likelihood.
///
/// # Panics
///
/// If `sigma` is singular.
#[grad(sigma)]
#[must_use]
pub fn gauss_nll(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
}

/// Fixed sizes, several parameters, scalars by value.
#[grad(a, v, scale)]
#[must_use]
pub fn fixed(a: Matrix3<f64>, v: &Vector3<f64>, scale: f64) -> f64 {
    let gram = (a.transpose() * a).component_mul(&a.map(|e| (e * 0.5).tanh()));
    (a * v).norm() * scale + gram.sum() + a.pow(3).trace() + a.exp().sum()
}

/// A logistic loss with the stable helpers.
#[grad(w)]
#[must_use]
pub fn logistic(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let z = (x * w).component_mul(y);
    z.map(|v| matgrad::softplus(-v)).sum() + matgrad::log_sum_exp(w) + w.norm_squared() * 1e-3
}

/// Kronecker and cross products, determinant.
#[grad(a, u)]
#[must_use]
pub fn structured(a: &Matrix2<f64>, u: &Vector3<f64>, v: &Vector3<f64>) -> f64 {
    a.kronecker(a).determinant() + u.cross(v).norm_squared() + a.determinant()
}

/// Generic over the scalar.
///
/// # Panics
///
/// If `T` cannot represent 2.
#[grad(w)]
#[must_use]
pub fn generic<T: RealField + Copy>(w: &DVector<T>) -> T {
    w.map(|v| v.sin() * T::from_f64(2.0).unwrap()).sum() + w.norm()
}

/// A model with data in its fields.
pub struct Model {
    pub x: DMatrix<f64>,
    pub y: DVector<f64>,
    pub lambda: f64,
}

impl Model {
    /// Ridge loss.
    #[grad(w)]
    #[must_use]
    pub fn loss(&self, w: &DVector<f64>) -> f64 {
        (&self.x * w - &self.y).norm_squared() + w.norm_squared() * self.lambda
    }
}
