//! `if`/`else if`/`else`, as statements and as expressions, on conditions
//! of data and of differentiated values, inside and outside loops: the
//! gradient is the gradient of the branch taken. Against central finite
//! differences (away from the switching points), `f64` and `f32`, fixed and
//! dynamic sizes.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Vector3};

/// Huber regression: a loop over samples with a branch on the residual.
#[grad(w)]
fn huber(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
    let r = x * w - y;
    let mut total = 0.0;
    for i in 0..r.len() {
        let a = r[i];
        let l = if a * a <= delta * delta {
            0.5 * a * a
        } else if a > 0.0 {
            delta * (a - 0.5 * delta)
        } else {
            delta * (-a - 0.5 * delta)
        };
        total += l;
    }
    total / r.len() as f64
}

#[test]
fn huber_loop_dynamic() {
    let (w, x, y) = (dv(3, 1), dm(8, 3, 2), dv(8, 3));
    // Residuals on both sides of ±δ.
    check!(huber(&w, &x, &y, 0.3) => huber_grad[w]);
}

/// A statement `if` assigning a matrix on one side only.
#[grad(a)]
fn clip(a: &Matrix2<f64>, limit: f64) -> f64 {
    let mut m = a * a;
    if m.norm() > limit {
        m = m * (limit / m.norm());
    }
    m.trace() + m[(0, 1)]
}

#[test]
fn statement_if_fixed() {
    let a = sm(4);
    check!(clip(&a, 0.1) => clip_grad[a]);
    check!(clip(&a, 100.0) => clip_grad[a]);
}

/// A branch on data (an integer parameter) choosing between expressions, in
/// f32.
#[grad(v)]
fn choose(v: &Vector3<f32>, k: usize) -> f32 {
    let s = if k % 3 == 1 {
        v.norm_squared()
    } else {
        v.x * v.y - v.z
    };
    s * 2.0
}

#[test]
fn branch_on_data_f32() {
    let v = sm(5);
    check!(choose(&v, 4) => choose_grad[v]);
    check!(choose(&v, 3) => choose_grad[v]);
}

/// A branch whose untaken side would be NaN: its adjoint must not leak in.
#[grad(x)]
fn guarded(x: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for &v in x.iter() {
        total += if v > 0.0 { v.sqrt() } else { -v };
    }
    total
}

#[test]
fn untaken_side_does_not_leak() {
    let x = DVector::from_vec(vec![0.5, -0.25, 1.5, -2.0]);
    check!(guarded(&x) => guarded_grad[x]);
    let (_, g) = guarded_grad(&x);
    assert!(g.iter().all(|d| d.is_finite()));
}

/// `&&` and `||` evaluate their right side only when the left does not
/// decide, as in Rust: `x[i - 1]` is never read at `i = 0`.
#[grad(x)]
fn lazy_conditions(x: &DVector<f64>, flags: &[bool]) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() {
        if i > 0 && x[i - 1] > 0.0 {
            total += x[i] * x[i - 1];
        }
        if flags[i] || x[i] < -0.5 {
            total -= x[i];
        }
    }
    total
}

#[test]
fn lazy_and_or() {
    let x = DVector::from_vec(vec![0.5, -0.75, 1.25, 0.3, -0.2]);
    let flags = [false, true, false, false, true];
    check!(lazy_conditions(&x, &flags) => lazy_conditions_grad[x]);
}

/// A sum assigned on both sides of an `if`: its adjoint passes through the
/// branch unchanged, so the loop is differentiated inside itself.
#[grad(w)]
fn huber_statements(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..x.nrows() {
        let r = x.row(i).transpose().dot(w) - y[i];
        if r.abs() <= delta {
            total += 0.5 * r * r;
        } else {
            total += delta * (r.abs() - 0.5 * delta);
        }
    }
    total
}

#[test]
fn sum_assigned_in_both_sides() {
    let (w, x, y) = (dv(3, 4), dm(8, 3, 5), dv(8, 6));
    check!(huber_statements(&w, &x, &y, 0.3) => huber_statements_grad[w]);
}

/// A name given a computed size by the same expression before an `if` and in it, where the size
/// is used in arithmetic after it (a size computed apart is a compile error:
/// `tests/ui/if-size-changes.rs`).
#[grad(w)]
fn computed_size_in_a_branch(w: &DVector<f64>, n: usize, c: bool) -> f64 {
    let mut h = w.rows(0, n) * 1.0;
    if c {
        h = w.rows(1, n).map(|v| v.sin());
    }
    h.norm_squared() / h.len() as f64
}

/// An `if` yielding values of a size computed by the same expression on both sides (sides
/// computed apart are a compile error: `tests/ui/if-value-sizes.rs`).
#[grad(w)]
fn computed_size_of_a_branch_value(w: &DVector<f64>, n: usize, c: bool) -> f64 {
    let v = if c {
        w.rows(0, n) * 2.0
    } else {
        w.rows(1, n).map(|v| v.cos())
    };
    v.norm_squared() / v.len() as f64
}

#[test]
fn a_computed_size_kept_by_a_branch() {
    let w = DVector::from_fn(6, |i, _| 0.3 * i as f64 - 0.5);
    for c in [false, true] {
        check!(computed_size_in_a_branch(&w, 4, c) => computed_size_in_a_branch_grad[w]);
        check!(computed_size_of_a_branch_value(&w, 4, c) => computed_size_of_a_branch_value_grad[w]);
    }
}

/// An `if` (and a `match`) used as a value whose side assigns a variable the loop carries:
/// the assignment is seen inside the `let`, so `phi` is carried (it was read as its value
/// before the loop: a wrong value and gradient), and read after the loop.
#[grad(q)]
fn assigned_inside_a_value(q: &DVector<f64>, kinds: &[u8]) -> f64 {
    let mut phi = 0.0;
    let mut total = 0.0;
    for i in 0..q.len() {
        let len = if kinds[i] == 0 {
            phi += q[i];
            1.0
        } else {
            2.0
        };
        let scale = match kinds[i] {
            1 => {
                phi *= 0.5;
                3.0
            }
            _ => 1.0,
        };
        total += len * scale * phi;
    }
    total + phi
}

#[test]
fn an_if_as_a_value_assigns_a_carried_variable() {
    let q = dv(5, 21);
    let kinds = [0, 1, 0, 0, 1];
    check!(assigned_inside_a_value(&q, &kinds) => assigned_inside_a_value_grad[q]);
}
