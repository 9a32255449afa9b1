//! Closures bound by a `let` and called later (`let sq = |v: f64| v * v;`), read at each call
//! as their body written out there; every gradient against central finite differences.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

/// A helper closure called on entries, passed to `map` by name and to an iterator's `map`.
#[grad(w)]
fn squares(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let sq = |v: f64| v * v;
    let r = x * w - y;
    let mut total = 0.0;
    for i in 0..r.len() {
        total += sq(r[i]);
    }
    total + r.map(sq).sum() + w.iter().map(|v| sq(*v)).sum::<f64>()
}

/// A closure of two parameters with a block body, capturing a scalar and a matrix.
#[grad(w, s)]
fn captures(w: &DVector<f64>, s: f64, x: &DMatrix<f64>) -> f64 {
    let scale = s * 2.0;
    let score = |i: usize, b: f64| {
        let z = x.row(i).transpose().dot(w) * scale;
        (z - b).tanh()
    };
    (0..x.nrows()).map(|i| score(i, 0.5)).sum::<f64>() + score(0, s)
}

/// Names the closure captured keep the value they had where it was bound, as in Rust: the
/// `scale` shadowed after it does not reach it.
#[grad(w)]
fn shadowed(w: &DVector<f64>) -> f64 {
    let scale = 3.0;
    let f = |v: f64| v * scale;
    let scale = 100.0;
    w.iter().map(|v| f(*v)).sum::<f64>() + scale
}

/// A closure named as a runtime function is the user's own: a leaky `relu`.
#[grad(w)]
fn leaky(w: &DVector<f64>, x: &DMatrix<f64>) -> f64 {
    let relu = |v: f64| v.max(0.1 * v);
    (x * w).map(relu).sum() + relu(w[0])
}

#[test]
fn a_closure_shadows_a_runtime_function_of_its_name() {
    let (w, x) = (dv(3, 4), dm(6, 3, 5));
    check!(leaky(&w, &x) => leaky_grad[w]);
}

#[test]
fn local_closures_called_and_mapped() {
    let (w, x, y) = (dv(3, 1), dm(7, 3, 2), dv(7, 3));
    check!(squares(&w, &x, &y) => squares_grad[w]);
    let s = 0.7;
    check!(captures(&w, s, &x) => captures_grad[w, s]);
    check!(shadowed(&w) => shadowed_grad[w]);
}
