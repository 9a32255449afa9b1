//! Guard clauses and a final `return`, read as the `if`s and the value they stand for; every
//! gradient against central finite differences, on both sides of each guard.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

/// An empty batch guarded at the top, then a loop; the value returned at the end.
#[allow(clippy::needless_return)] // the final `return` is what this reads
#[grad(w)]
fn guarded(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, use_prior: bool) -> f64 {
    let n = x.nrows();
    if n == 0 {
        return 0.0;
    }
    if !use_prior {
        let r = x * w - y;
        return r.norm_squared() / n as f64;
    }
    let mut total = 0.0;
    for i in 0..n {
        total += (x.row(i).transpose().dot(w) - y[i]).powi(2);
    }
    return total / n as f64 + 0.1 * w.norm_squared();
}

/// A guard on a value the loss computes: the other side's gradient where it does not hold.
#[grad(w)]
fn clipped(w: &DVector<f64>, limit: f64) -> f64 {
    let s = w.norm_squared();
    if s > limit {
        return limit + (s - limit).ln_1p();
    }
    s
}

#[matgrad::differentiable]
fn safe_ratio(a: f64, b: f64) -> f64 {
    if b.abs() < 1e-12 {
        return 0.0;
    }
    a / b
}

#[grad(w)]
fn through_a_helper(w: &DVector<f64>) -> f64 {
    safe_ratio(w[0], w[1]) + safe_ratio(w[2], 0.0)
}

#[test]
fn guard_clauses_and_a_final_return() {
    let (w, x, y) = (dv(3, 1), dm(6, 3, 2), dv(6, 3));
    check!(guarded(&w, &x, &y, true) => guarded_grad[w]);
    check!(guarded(&w, &x, &y, false) => guarded_grad[w]);
    let (x0, y0) = (DMatrix::zeros(0, 3), DVector::zeros(0));
    let (value, grad) = guarded_grad(&w, &x0, &y0, true);
    assert_eq!((value, grad), (0.0, DVector::zeros(3)));
    let big = w.norm_squared();
    check!(clipped(&w, 0.5 * big) => clipped_grad[w]);
    check!(clipped(&w, 2.0 * big) => clipped_grad[w]);
    check!(through_a_helper(&w) => through_a_helper_grad[w]);
}
