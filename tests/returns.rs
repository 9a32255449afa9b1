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

/// Second derivatives through a guard: the Hessian, and `H v`, of both sides.
#[matgrad::hessian(w)]
fn guarded_cubic(w: &DVector<f64>, flat: bool) -> f64 {
    if flat {
        return w.norm_squared();
    }
    w.map(|v| v.powi(3)).sum() + w[0] * w[1]
}

/// A Jacobian through a guard.
#[matgrad::jacobian(w)]
fn guarded_map(w: &DVector<f64>, flat: bool) -> DVector<f64> {
    if flat {
        return w * 2.0;
    }
    w.map(|v| v.sin()) * w[0]
}

#[test]
fn second_derivatives_and_jacobians_through_a_guard() {
    let w = dv(3, 7);
    for flat in [true, false] {
        let (value, g, h) = guarded_cubic_hessian(&w, flat);
        same_value("guarded_cubic", value, guarded_cubic(&w, flat));
        let fd = fd_hessian(|w| guarded_cubic_hessian(w, flat).1, &w);
        assert_close(&h, &fd, 1e-6, "Hessian through a guard");
        let v = dv(3, 8);
        let (_, g2, hv) = guarded_cubic_hvp(&w, flat, &v);
        assert_eq!(g, g2);
        let hv = DMatrix::from_column_slice(3, 1, hv.as_slice());
        let want = DMatrix::from_column_slice(3, 1, (&h * &v).as_slice());
        assert_close(&hv, &want, 1e-12, "H v through a guard");
        let (value, j) = guarded_map_jacobian(&w, flat);
        assert_close(
            &DMatrix::from_column_slice(3, 1, value.as_slice()),
            &DMatrix::from_column_slice(3, 1, guarded_map(&w, flat).as_slice()),
            1e-14,
            "guarded_map's value",
        );
        // (Central differences of a map of 3 entries to 3: its Jacobian.)
        let fd = fd_hessian(|w| guarded_map(w, flat), &w);
        assert_close(&j, &fd, 1e-8, "Jacobian through a guard");
    }
}
