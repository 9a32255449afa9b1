//! Views — `row`, `column`, `rows`, `columns`, `fixed_rows`, `fixed_columns`,
//! `fixed_view`, `view`, `diagonal` — and loops over `column_iter()` and
//! `row_iter()`, against central finite differences, `f64` and `f32`, fixed
//! and dynamic sizes. Inside loops their adjoints are added in place.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix4, Matrix4x3, Vector3};

/// Logistic regression written over the rows of the data.
#[grad(w)]
fn logreg_rows(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let n = x.nrows();
    let mut total = 0.0;
    for i in 0..n {
        let z = x.row(i).transpose().dot(w);
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    total / n as f64
}

#[test]
fn rows_in_a_loop_dynamic() {
    let (w, x, y) = (dv(4, 1), dm(6, 4, 2), dv(6, 3));
    check!(logreg_rows(&w, &x, &y) => logreg_rows_grad[w]);
}

/// Every view outside a loop, of a differentiated matrix.
#[grad(a)]
fn blocks(a: &DMatrix<f64>) -> f64 {
    let r = a.row(1);
    let c = a.column(2);
    let top = a.rows(0, 2);
    let left = a.columns(1, 2);
    let f = a.fixed_rows::<2>(1);
    let g = a.fixed_columns::<1>(0);
    let v = a.fixed_view::<2, 2>(1, 1);
    let w = a.view((0, 1), (3, 2));
    r.norm_squared()
        + c.sum() * top.sum()
        + left.norm()
        + f.sum() * g.sum()
        + v.determinant()
        + w.sum() * a.diagonal().sum()
}

#[test]
fn views_dynamic() {
    let a = dm(4, 4, 5);
    check!(blocks(&a) => blocks_grad[a]);
}

/// Columns and rows of a fixed-size matrix by iteration, in f32, with a
/// block of a carried state.
#[grad(a, m)]
fn columns(a: &Matrix4x3<f32>, m: &Matrix4<f32>, h0: &Vector3<f32>) -> f32 {
    let mut total = 0.0;
    for (j, c) in a.column_iter().enumerate() {
        total += c.dot(&m.column(j)) * (j as f32 + 1.0);
    }
    let mut h = *h0;
    for r in m.row_iter() {
        h = (h * 0.5 + r.fixed_columns::<3>(1).transpose()).map(|v| v.tanh());
    }
    total + h.norm_squared()
}

#[test]
fn iterating_columns_and_rows_fixed_f32() {
    let (a, m, h0) = (sm(6), sm(7), sm(8));
    check!(columns(&a, &m, &h0) => columns_grad[a, m]);
}
