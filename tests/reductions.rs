//! Axis reductions and broadcasting: `row_sum` (the sum of the rows, a row
//! vector), `column_sum`, `row_mean`, `column_mean`, `mean`, `variance`
//! (nalgebra's divides by n), `add_scalar`, and a hand-written broadcast of a
//! bias (`ones * b.transpose()`); against central finite differences, fixed
//! and dynamic sizes, `f64`, `f32` and a generic scalar, with Hessians.

#![allow(dead_code)]

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2x3, Matrix3, RealField};
use matgrad::{grad, hessian};

/// Each reduction weighted by data, so that every entry of its adjoint shows.
#[grad(a)]
fn axis_reductions(a: &DMatrix<f64>, u: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    let rs = a.row_sum();
    let cs = a.column_sum();
    let rm = a.row_mean();
    let cm = a.column_mean();
    (rs * u).sum() + cs.dot(v) + (rm.component_mul(&rm)).sum() + cm.map(|e| e.sin()).dot(v)
}

#[test]
fn axis_reductions_dynamic_f64() {
    let (a, u, v) = (dm(4, 3, 1), dm(3, 2, 2), dv(4, 3));
    check!(axis_reductions(&a, &u, &v) => axis_reductions_grad[a]);
}

#[test]
fn row_sum_sums_the_rows() {
    // nalgebra's row_sum is 1×ncols; the gradient of its first entry is the
    // first column of ones.
    #[grad(a)]
    fn first_of_row_sum(a: &Matrix2x3<f64>) -> f64 {
        a.row_sum()[0] + 10.0 * a.column_sum()[1]
    }
    let a = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
    let (value, g) = first_of_row_sum_grad(&a);
    assert_eq!(value, 5.0 + 10.0 * 15.0);
    assert_eq!(g, Matrix2x3::new(1.0, 0.0, 0.0, 11.0, 10.0, 10.0));
}

#[grad(a)]
fn axis_reductions_fixed(a: &Matrix2x3<f32>) -> f32 {
    let rs = a.row_sum();
    let cm = a.column_mean();
    rs.norm_squared() + cm.x * cm.y * 3.0 + a.row_mean().sum() * a.column_sum().sum()
}

#[test]
fn axis_reductions_fixed_f32() {
    let a = sm::<f32, 2, 3>(4);
    check!(axis_reductions_fixed(&a) => axis_reductions_fixed_grad[a]);
}

/// Batch normalisation of each column: `(x − mean) / sqrt(variance + eps)`.
#[grad(x, gamma)]
fn batch_norm(x: &DMatrix<f64>, gamma: &DVector<f64>, target: &DMatrix<f64>) -> f64 {
    let mut out = x.clone();
    for j in 0..x.ncols() {
        let c = x.column(j);
        let normed = c.add_scalar(-c.mean()) / (c.variance() + 1e-5).sqrt();
        out.set_column(j, &(normed * gamma[j]));
    }
    (out - target).norm_squared()
}

#[test]
fn batch_norm_dynamic_f64() {
    let (x, gamma, target) = (dm(5, 3, 5), dv_pos(3, 6), dm(5, 3, 7));
    check!(batch_norm(&x, &gamma, &target) => batch_norm_grad[x, gamma]);
}

/// `mean` and `variance` of a whole matrix, in f32 and fixed size.
#[grad(x)]
fn moments(x: &Matrix3<f32>) -> f32 {
    x.variance() * 2.0 + x.mean() * x.mean() + x.add_scalar(x[(0, 0)]).norm()
}

#[test]
fn moments_fixed_f32() {
    let x = sm::<f32, 3, 3>(8);
    check!(moments(&x) => moments_grad[x]);
}

#[test]
fn variance_divides_by_n() {
    #[grad(x)]
    fn var(x: &DVector<f64>) -> f64 {
        x.variance()
    }
    let x = DVector::from_vec(vec![1.0, 2.0, 3.0, 6.0]);
    let (value, g) = var_grad(&x);
    assert_eq!(value, 3.5);
    // 2 (x − 3) / 4
    assert_eq!(g, DVector::from_vec(vec![-1.0, -0.5, 0.0, 1.5]));
}

/// Softmax cross-entropy shifted by the largest logit, with `add_scalar`.
#[grad(w)]
fn softmax_xent(w: &DMatrix<f64>, x: &DVector<f64>, label: usize) -> f64 {
    let z = w * x;
    let shifted = z.add_scalar(-z.max());
    let e = shifted.map(|v| v.exp());
    let p = &e / e.sum();
    -p[label].ln()
}

#[test]
fn softmax_with_add_scalar_dynamic_f64() {
    let (w, x) = (dm(4, 3, 9), dv(3, 10));
    check!(softmax_xent(&w, &x, 2) => softmax_xent_grad[w]);
}

/// A bias broadcast by hand over the rows of a batch, and a per-row scale
/// broadcast over the columns.
#[grad(w, b)]
fn broadcast<T: RealField + Copy>(w: &DMatrix<T>, b: &DVector<T>, x: &DMatrix<T>) -> T {
    let ones = DVector::from_element(x.nrows(), T::one());
    let bias = &ones * b.transpose();
    let h = (x * w + bias).map(|v| v.tanh());
    let scale =
        DVector::repeat(x.nrows(), T::one()) * DVector::repeat(w.ncols(), T::one()).transpose();
    h.component_mul(&scale).column_mean().norm_squared() + h.row_sum().sum()
}

#[test]
fn broadcast_generic_f64_and_f32() {
    let (w, b, x) = (dm::<f64>(3, 2, 11), dv::<f64>(2, 12), dm::<f64>(5, 3, 13));
    check!(broadcast(&w, &b, &x) => broadcast_grad[w, b]);
    let (w, b, x) = (dm::<f32>(3, 2, 11), dv::<f32>(2, 12), dm::<f32>(5, 3, 13));
    check!(broadcast(&w, &b, &x) => broadcast_grad[w, b]);
}

/// Hessians through the reductions.
#[hessian(x)]
fn reductions_hessian(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    let m = a * x;
    let c = m.add_scalar(-m.mean());
    c.variance()
        + (&m * x.transpose()).row_sum().norm_squared() * 0.1
        + (&m * x.transpose()).column_mean().sum()
}

#[test]
fn hessian_through_reductions() {
    let (x, a) = (dv(3, 14), dm(4, 3, 15));
    let (_, g, h) = reductions_hessian_hessian(&x, &a);
    fd(
        "reductions",
        |x: &DVector<f64>| reductions_hessian(x, &a),
        &x,
        &g,
    );
    let fdh = fd_hessian(|p| reductions_hessian_hessian(p, &a).1, &x);
    assert_close(&h, &fdh, 1e-6, "reductions Hessian");
    assert_close(&h, &h.transpose(), 1e-10, "symmetry");
    let v = dv(3, 16);
    let (_, _, hv) = reductions_hessian_hvp(&x, &a, &v);
    let col = |v: &DVector<f64>| DMatrix::from_column_slice(v.len(), 1, v.as_slice());
    assert_close(&col(&hv), &col(&(&h * &v)), 1e-10, "hvp");
}
