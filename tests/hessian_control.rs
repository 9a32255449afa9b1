//! `#[hessian]` and `_hvp` through loops and branches: the Hessian against
//! central differences of the gradient, its symmetry, and `hvp = H vec(V)`,
//! for sums over samples, recurrences (whose reverse loop reads a tape, so
//! the tangent runs through both loops), nested loops and branches; fixed and
//! dynamic sizes, `f64` and `f32`; and `#[jacobian]` of a vector-valued
//! recurrence with a branch.

#[macro_use]
mod common;

use common::*;
use matgrad::hessian;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Vector2, Vector3};

/// A sum over samples with a branch (a Huber loss).
#[hessian(w)]
fn huber(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..x.nrows() {
        let r = x.row(i).transpose().dot(w) - y[i];
        total += if r.abs() < 0.5 {
            0.5 * r * r * r.cos()
        } else {
            0.5 * (r.abs() - 0.125)
        };
    }
    total + w.norm_squared() * w[0]
}

/// A recurrence on a vector state: the reverse loop reads the tape.
#[hessian(w)]
fn recurrence(w: &DVector<f64>, h0: &DVector<f64>, steps: usize) -> f64 {
    let mut h = h0.clone();
    for t in 0..steps {
        h = h.map(|v| v.tanh()) * w[t % w.len()] + h0 * 0.25;
    }
    h.norm_squared()
}

/// Nested loops on a scalar state, in the opposite order.
#[hessian(x)]
fn nested(x: &DVector<f64>) -> f64 {
    let n = x.len();
    let mut s = 1.0;
    for i in (0..n).rev() {
        for j in 0..=i {
            s = s * 0.9 + (x[i] * x[j]).sin();
        }
    }
    s * s
}

fn hessian_checks(
    what: &str,
    x: &DVector<f64>,
    hessian: impl Fn(&DVector<f64>) -> (f64, DVector<f64>, DMatrix<f64>),
    hvp: impl Fn(&DVector<f64>, &DVector<f64>) -> (f64, DVector<f64>, DVector<f64>),
) {
    let (_, _, h) = hessian(x);
    let fd = fd_hessian(|p| hessian(p).1, x);
    assert_close(&h, &fd, 1e-6, what);
    assert_close(&h, &h.transpose(), 1e-10, "symmetry");
    let v = dv(x.len(), 99);
    let (_, _, hv) = hvp(x, &v);
    let as_matrix = |v: &DVector<f64>| DMatrix::from_column_slice(v.len(), 1, v.as_slice());
    assert_close(&as_matrix(&hv), &as_matrix(&(&h * &v)), 1e-10, "hvp");
}

#[test]
fn hessian_of_a_sum_with_a_branch() {
    let (x, y) = (dm(7, 3, 2), dv(7, 3));
    hessian_checks(
        "huber",
        &dv(3, 1),
        |w| huber_hessian(w, &x, &y),
        |w, v| huber_hvp(w, &x, &y, v),
    );
}

#[test]
fn hessian_of_a_recurrence() {
    let h0 = dv(3, 5);
    hessian_checks(
        "recurrence",
        &dv(4, 4),
        |w| recurrence_hessian(w, &h0, 6),
        |w, v| recurrence_hvp(w, &h0, 6, v),
    );
}

#[test]
fn hessian_of_nested_loops() {
    hessian_checks("nested", &dv(4, 6), nested_hessian, nested_hvp);
}

/// A fixed-size recurrence in f32: the Hessian against differences of the
/// gradient, in f32's precision.
#[hessian(w)]
fn rnn32(w: &Matrix3<f32>, xs: &[Vector2<f32>], u: &Vector3<f32>) -> f32 {
    let mut h = *u;
    for x in xs.iter() {
        h = (w * h + u * (x.x - x.y)).map(|v| v.tanh());
    }
    h.norm_squared()
}

#[test]
fn hessian_of_a_fixed_recurrence_f32() {
    let (w, u): (Matrix3<f32>, Vector3<f32>) = (sm(1), sm(2));
    let xs: Vec<Vector2<f32>> = (0..4).map(|t| sm(10 + t)).collect();
    let (_, g, h) = rnn32_hessian(&w, &xs, &u);
    let step = 1e-2f32;
    for k in 0..9 {
        let (mut plus, mut minus) = (w, w);
        plus[k] += step;
        minus[k] -= step;
        let column =
            (rnn32_grad_of(&plus, &xs, &u) - rnn32_grad_of(&minus, &xs, &u)) / (2.0 * step);
        for i in 0..9 {
            let err = (h[(i, k)] - column[i]).abs() / h.amax().max(1.0);
            assert!(err < 2e-2, "H[{i}, {k}] = {} vs {}", h[(i, k)], column[i]);
        }
    }
    let _ = g;
}

fn rnn32_grad_of(w: &Matrix3<f32>, xs: &[Vector2<f32>], u: &Vector3<f32>) -> Matrix3<f32> {
    rnn32_hessian(w, xs, u).1
}

/// A vector-valued recurrence: `#[jacobian]` takes the loop of tangents.
#[matgrad::jacobian(x)]
fn rollout(x: &DVector<f64>, a: &DMatrix<f64>, steps: usize) -> DVector<f64> {
    let mut h = x.clone();
    for t in 0..steps {
        h = (a * &h).map(|v| v.tanh()) + x * (t as f64 * 0.1);
        if h[0] > 0.0 {
            h[1] += h[0] * h[0];
        }
    }
    h
}

#[test]
fn jacobian_of_a_recurrence_with_a_branch() {
    let (x, a) = (dv(3, 7), dm(3, 3, 8));
    let (value, j) = rollout_jacobian(&x, &a, 5);
    assert_close(
        &DMatrix::from_column_slice(3, 1, value.as_slice()),
        &DMatrix::from_column_slice(3, 1, rollout(&x, &a, 5).as_slice()),
        1e-12,
        "value",
    );
    let n = x.len();
    let mut fd = DMatrix::zeros(3, n);
    for k in 0..n {
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[k] += 1e-6;
        minus[k] -= 1e-6;
        fd.set_column(
            k,
            &((rollout(&plus, &a, 5) - rollout(&minus, &a, 5)) / 2e-6),
        );
    }
    assert_close(&j, &fd, 1e-6, "∂h/∂x");
}
