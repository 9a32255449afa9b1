//! Loops over samples whose products of a sample's data with the parameters matgrad computes for
//! all the samples at once before the loop (`X w` for `xᵢ · w`, `X W` for `xᵢ W`, a dot product
//! written as an inner loop read as a `dot` first): the value equals the loop's and the gradient
//! finite differences, `f64` and `f32`, fixed and dynamic sizes, whole matrices and the first rows
//! of longer ones, with branches, sums added to and subtracted from. Which products are computed
//! so is checked on the expansion (`a_sum_over_samples_is_matrix_products` in the macro crate).

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Dyn, OMatrix, SMatrix, SVector, Vector2, Vector3, U2};

/// Least squares by rows: `Σᵢ (xᵢ · w − yᵢ)²`.
#[grad(w)]
fn lsq_rows(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        let r = x.row(i).transpose().dot(w) - y[i];
        s += r * r;
    }
    s
}

#[test]
fn rows_dot_a_parameter() {
    let (w, x, y) = (dv(5, 1), dm(9, 5, 2), dv(9, 3));
    check!(lsq_rows(&w, &x, &y) => lsq_rows_grad[w]);
}

/// Fixed sizes in `f32`; the product written `(xᵢ w)[0]`, a scalar function of it, a parameter
/// scaling every term.
#[grad(w, c)]
fn fixed_rows(w: &Vector3<f32>, c: f32, x: &SMatrix<f32, 64, 3>, y: &SVector<f32, 64>) -> f32 {
    let mut s = 0.0;
    for i in 0..64 {
        s += c * ((x.row(i) * w)[0] - y[i]).tanh();
    }
    s
}

#[test]
fn fixed_sizes_f32() {
    let (w, c) = (sm::<f32, 3, 1>(4) * 0.2, sc::<f32>(5));
    let (x, y) = (sm::<f32, 64, 3>(6), sm::<f32, 64, 1>(7));
    check!(fixed_rows(&w, c, &x, &y) => fixed_rows_grad[w, c]);
}

/// Columns, a subtraction, and a quotient by a term of the sample.
#[grad(w)]
fn columns(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let mut s = 1.0;
    for j in 0..x.ncols() {
        s -= x.column(j).dot(w).sin() / (2.0 + y[j] * y[j]);
    }
    s
}

#[test]
fn columns_and_quotients() {
    let (w, x, y) = (dv(6, 8), dm(6, 7, 9), dv(7, 10));
    check!(columns(&w, &x, &y) => columns_grad[w]);
}

/// One column of the data per sample (`x[(i, 1)]`), entries of a parameter, and data longer than
/// the loop (only its first `n` entries are read): no product to compute before the loop, which
/// runs as written.
#[grad(w)]
fn entries(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let n = w.len();
    let mut s = 0.0;
    for i in 0..n {
        s += x[(i, 1)] * w[i] * w[i] - (1.0 + y[i] * w[i]).ln();
    }
    s
}

#[test]
fn entries_and_longer_data() {
    let (w, x) = (dv::<f64>(6, 11).map(|v| 0.3 * v), dm(9, 3, 12));
    let y = dv::<f64>(9, 13).map(|v| 0.5 * v);
    check!(entries(&w, &x, &y) => entries_grad[w]);
}

/// A dot product written as a loop inside the loop over samples.
#[grad(w)]
fn double_loop(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    let (n, d) = x.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    total + lambda * w.norm_squared()
}

#[test]
fn a_loop_inside_the_loop_over_samples() {
    let (w, x) = (dv(4, 14), dm(11, 4, 15));
    let y = dv::<f64>(11, 16).map(|v| v.signum());
    check!(double_loop(&w, &x, &y, 0.1) => double_loop_grad[w]);
}

/// A Huber loss with its branch as a value.
#[grad(w)]
fn huber_value(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
    let n = x.nrows();
    let mut total = 0.0;
    for i in 0..n {
        let r = x.row(i).transpose().dot(w) - y[i];
        total += if r.abs() <= delta {
            0.5 * r * r
        } else {
            delta * (r.abs() - 0.5 * delta)
        };
    }
    total / n as f64
}

/// The branch as statements: a sum added to on one side, subtracted from on the other, and a
/// side that leaves a second sum as it is.
#[grad(w)]
fn branch_statements(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    let mut above = 0.0;
    for i in 0..x.nrows() {
        let r = x.row(i).transpose().dot(w) - y[i];
        if r > 0.1 {
            total += r.powi(3);
            above += r.tanh();
        } else {
            total -= r.sin();
        }
    }
    total + above * above
}

/// A side guarding a logarithm, computed only for the samples that take it.
#[grad(w)]
fn guarded_log(w: &DVector<f64>, x: &DMatrix<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..x.nrows() {
        let z = x.row(i).transpose().dot(w);
        total += if z > 0.0 { z.ln() } else { z };
    }
    total
}

#[test]
fn branches_in_the_loop() {
    // Residuals on both sides of δ and of 0.1.
    let (w, x, y) = (dv::<f64>(4, 17), dm::<f64>(12, 4, 18), dv::<f64>(12, 19));
    let r = &x * &w - &y;
    assert!(r.iter().any(|r| r.abs() <= 0.3) && r.iter().any(|r| r.abs() > 0.3));
    assert!(r.iter().any(|&r| r > 0.1) && r.iter().any(|&r| r <= 0.1));
    check!(huber_value(&w, &x, &y, 0.3) => huber_value_grad[w]);
    check!(branch_statements(&w, &x, &y) => branch_statements_grad[w]);
    let z = &x * &w;
    assert!(z.iter().any(|&z| z > 0.0) && z.iter().any(|&z| z <= 0.0));
    check!(guarded_log(&w, &x) => guarded_log_grad[w]);
}

/// A recurrence over a slice of inputs: `U xₜ` for every step is one product before the loop (the
/// inputs as the rows of one matrix), and `Ū` one product after the reverse loop.
#[grad(w, u, h0)]
fn rnn(w: &DMatrix<f64>, u: &OMatrix<f64, Dyn, U2>, h0: &DVector<f64>, xs: &[Vector2<f64>]) -> f64 {
    let mut h = h0.clone();
    for x in xs.iter() {
        h = (w * &h + u * x).map(|v| v.tanh());
    }
    h.norm_squared()
}

#[test]
fn a_recurrence_over_a_slice() {
    let (w, h0) = (dm::<f64>(4, 4, 20) * 0.5, dv::<f64>(4, 21));
    let u = OMatrix::<f64, Dyn, U2>::from_iterator(4, dm::<f64>(4, 2, 22).iter().copied());
    let xs: Vec<Vector2<f64>> = (0..7).map(|t| sm(23 + t)).collect();
    check!(rnn(&w, &u, &h0, &xs) => rnn_grad[w, u, h0]);
}

/// A row of a matrix built in the body times a carried value: the product reads a value that
/// changes from one index to the next, so it is not computed for all the indices before the loop
/// (that product read the loop's carried input outside the loop, and the expansion panicked).
#[grad(x)]
fn rows_times_a_carried_value(x: &DVector<f64>) -> f64 {
    let m = DMatrix::from_fn(3, 3, |i, j| (i + 2 * j) as f64 * 0.1);
    let mut s = 0.0;
    let mut h = x.clone();
    for i in 0..3 {
        s += (m.row(i) * &h)[0];
        h = h.map(|v| v.tanh()) + x * (i as f64);
    }
    s + h.sum()
}

#[test]
fn a_product_with_a_carried_value_stays_in_the_loop() {
    let x = dv::<f64>(3, 24);
    check!(rows_times_a_carried_value(&x) => rows_times_a_carried_value_grad[x]);
}
