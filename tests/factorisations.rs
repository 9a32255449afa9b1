#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Vector3};

#[grad(k)]
fn gp(k: &DMatrix<f64>, y: &DVector<f64>, eye: &DMatrix<f64>, noise: f64) -> f64 {
    let n = y.len();
    let kn = k + eye * noise;
    let chol = kn.clone().cholesky().unwrap();
    let alpha = chol.solve(y);
    0.5 * y.dot(&alpha) + chol.l().diagonal().map(|v| v.ln()).sum() + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

#[grad(a, b)]
fn s3(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let chol = a.clone().cholesky().unwrap();
    chol.solve(b).norm_squared() + chol.ln_determinant() + chol.l().norm_squared() * 0.1
}

#[test]
fn smoke() {
    let (k, y) = (dm_spd::<f64>(5, 1), dv::<f64>(5, 2));
    let noise = 0.1;
    let eye = DMatrix::identity(5, 5);
    check!(gp(&k, &y, &eye, noise) => gp_grad[k]);
    let (a, b) = (sm_spd::<f64, 3>(3), sm::<f64, 3, 1>(4));
    check!(s3(&a, &b) => s3_grad[a, b]);
}
