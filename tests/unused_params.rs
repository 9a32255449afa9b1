//! A parameter that is not differentiated and feeds only a dead `let` is used
//! by the user's function but not by `<name>_grad`: the generated function must
//! not warn about it, since the user cannot fix that in their code.
#![deny(warnings)]

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, Matrix3};

#[grad(a)]
fn dead_use_dynamic(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let _unused = b.sum();
    a.norm_squared()
}

#[grad(a)]
fn dead_use_static(a: Matrix3<f64>, s: f64) -> f64 {
    let _scaled = a * s;
    a.trace()
}

#[test]
fn no_warning_and_right_gradient() {
    let (a, b) = (dm(3, 2, 1), dm(2, 2, 2));
    check!(dead_use_dynamic(&a, &b) => dead_use_dynamic_grad[a]);
    let (a, s) = (sm(1), sc(2));
    check!(dead_use_static(a, s) => dead_use_static_grad[a]);
}
