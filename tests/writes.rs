//! Writes into locals: `lp[c] = s;`, `g[(i, j)] += t;`,
//! `out.row_mut(i).copy_from(&r);`, `out.set_column(j, &c);`, in straight-line
//! code and in loops (where they are done in place on the carried value);
//! against central finite differences, `f64` and `f32`, fixed and dynamic.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Vector3};

/// Per-class scores written entry by entry, then a log-sum-exp.
#[grad(w)]
fn scores(w: &DMatrix<f64>, x: &DVector<f64>, label: usize) -> f64 {
    let mut lp = w.column(0).clone_owned();
    for c in 0..w.ncols() {
        lp[c] = w.column(c).dot(x);
    }
    let mut total = 0.0;
    for c in 0..lp.len() {
        total += lp[c].exp();
    }
    total.ln() - lp[label]
}

#[test]
fn entry_writes_in_a_loop_dynamic() {
    let (w, x) = (dm(4, 4, 1), dv(4, 2));
    check!(scores(&w, &x, 2) => scores_grad[w]);
}

/// Entries accumulated with `+=` and overwritten, outside loops, fixed f32.
#[grad(a, v)]
fn accumulate(a: &Matrix3<f32>, v: &Vector3<f32>) -> f32 {
    let mut g = a * 2.0;
    g[(0, 1)] += v.x * v.y;
    g[(2, 2)] = v.z;
    let mut u = *v;
    u[1] *= 3.0;
    g.norm_squared() + u.dot(v)
}

#[test]
fn entry_writes_fixed_f32() {
    let (a, v) = (sm(3), sm(4));
    check!(accumulate(&a, &v) => accumulate_grad[a, v]);
}

/// Rows and columns of a local replaced in a loop.
#[grad(x)]
fn blocks(x: &DMatrix<f64>) -> f64 {
    let mut out = x * 0.5;
    for i in 0..x.nrows() {
        let r = x.row(i) * (i as f64 + 1.0);
        out.row_mut(i).copy_from(&r);
    }
    let c = x.column(0) * 2.0;
    out.set_column(1, &c);
    (&out * x.transpose()).trace() + out[(0, 1)]
}

#[test]
fn block_writes_dynamic() {
    let x = dm(3, 3, 5);
    check!(blocks(&x) => blocks_grad[x]);
}
