//! Assertions among a body's top-level statements: each generated function checks them first,
//! so it panics where the function does, and otherwise computes what the body without them does.

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector};
use matgrad::{grad, hessian};

#[grad(w)]
fn checked(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    assert_eq!(x.ncols(), w.len(), "one weight per feature");
    assert_eq!(x.nrows(), y.len());
    debug_assert!(lambda >= 0.0, "a penalty");
    let r = x * w - y;
    r.norm_squared() + lambda * w.norm_squared()
}

#[hessian(w)]
fn checked_cubic(w: &DVector<f64>) -> f64 {
    assert!(!w.is_empty());
    w.map(|v| v.powi(3)).sum()
}

#[test]
fn assertions_that_hold_change_nothing() {
    let (w, x, y) = (dv(3, 1), dm(5, 3, 2), dv(5, 3));
    check!(checked(&w, &x, &y, 0.3) => checked_grad[w]);
    let (_, g, h) = checked_cubic_hessian(&w);
    assert_close(
        &h,
        &fd_hessian(|w| checked_cubic_hessian(w).1, &w),
        1e-6,
        "Hessian",
    );
    let want = DMatrix::from_iterator(3, 1, w.iter().map(|v| 3.0 * v * v));
    assert_close(
        &DMatrix::from_column_slice(3, 1, g.as_slice()),
        &want,
        1e-14,
        "gradient",
    );
}

#[test]
#[should_panic(expected = "one weight per feature")]
fn a_failing_assertion_panics_as_in_the_function() {
    let (w, x, y) = (dv(4, 1), dm(5, 3, 2), dv(5, 3));
    let _ = checked_grad(&w, &x, &y, 0.3);
}
