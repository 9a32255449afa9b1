//! Matrix parameters taken by value whose gradient goes through
//! `zeros_like` (the value does not depend on them) or `conform` (fixed-size
//! and dynamic shapes meet, so nalgebra's type of the gradient differs from the
//! parameter's): the generated code must pass them by reference.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Vector3};

/// `zeros_like(_b)` with `_b: Matrix3<f64>`.
#[grad(a, _b)]
fn unused_static(a: Matrix3<f64>, _b: Matrix3<f64>) -> f64 {
    a.trace()
}

/// `zeros_like(_b)` with `_b: DMatrix<f64>`.
#[grad(a, _b)]
fn unused_dynamic(a: &DMatrix<f64>, _b: DMatrix<f64>) -> f64 {
    a.norm_squared()
}

/// `zeros_like(b)`: `b` only feeds a dead binding.
#[grad(b, a)]
fn dead_binding(a: Matrix3<f64>, b: Matrix3<f64>) -> f64 {
    let _unused = b.determinant() * 2.0;
    a.trace()
}

/// `conform(…, a)` and `conform(…, b)`: the product is `Dyn × U3`.
#[grad(a, b)]
fn mixed_product(a: DMatrix<f64>, b: Matrix3<f64>) -> f64 {
    (a * b).norm_squared()
}

/// `conform(…, a)`: the gradient of the `DVector` is computed as a `U3` vector.
#[grad(a, b)]
fn mixed_dot(a: DVector<f64>, b: &Vector3<f64>) -> f64 {
    a.dot(b)
}

#[test]
fn zero_gradients_by_value() {
    let (a, _b) = (sm(1), sm(2));
    let (_, _, gb) = unused_static_grad(a, _b);
    assert_eq!(gb, Matrix3::zeros());
    check!(unused_static(a, _b) => unused_static_grad[a, _b]);

    let (a, _b) = (dm(2, 3, 1), dm(4, 5, 2));
    let (_, _, gb) = unused_dynamic_grad(&a, _b.clone());
    assert_eq!(gb, DMatrix::zeros(4, 5));
    check!(unused_dynamic(&a, _b.clone()) => unused_dynamic_grad[a, _b]);

    let (a, b) = (sm_well(1), sm_well(2));
    let (_, gb, _) = dead_binding_grad(a, b);
    assert_eq!(gb, Matrix3::zeros());
    check!(dead_binding(a, b) => dead_binding_grad[b, a]);
}

#[test]
fn mixed_static_dynamic_by_value() {
    let (a, b) = (dm(4, 3, 1), sm(2));
    check!(mixed_product(a.clone(), b) => mixed_product_grad[a, b]);

    let (a, b) = (dv(3, 1), sm(2));
    check!(mixed_dot(a.clone(), &b) => mixed_dot_grad[a, b]);
}
