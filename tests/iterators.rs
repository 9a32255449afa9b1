//! Iterator chains folded to a scalar (`iter().map(…).sum()`, `product()`, `fold`), read as
//! the loops they stand for: every gradient against central finite differences, the value
//! the same bits as the function's own.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, RealField, Vector3};

/// Least squares as a chain over the residuals' entries.
#[grad(w)]
fn squares(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.iter().map(|v| v * v).sum::<f64>()
}

/// The same over the samples' indices, each a row times `w`.
#[grad(w)]
fn squares_by_index(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    (0..x.nrows())
        .map(|i| (x.row(i).dot(&w.transpose()) - y[i]).powi(2))
        .sum::<f64>()
}

#[test]
fn a_mapped_sum_is_the_sum_loop() {
    let (w, x, y) = (dv(4, 1), dm(9, 4, 2), dv(9, 3));
    check!(squares(&w, &x, &y) => squares_grad[w]);
    check!(squares_by_index(&w, &x, &y) => squares_by_index_grad[w]);
    let (value, _) = squares_grad(&w, &x, &y);
    if sums_in_order() {
        assert_eq!(value.to_bits(), squares(&w, &x, &y).to_bits());
    }
}

/// A `fold` over pairs of data, the closure's pattern destructuring them.
#[grad(w)]
fn zipped(w: &Vector3<f64>, xs: &[Vector3<f64>], ys: &[f64]) -> f64 {
    xs.iter()
        .zip(ys.iter())
        .fold(0.0, |acc, (x, y)| acc + (w.dot(x) - y).powi(2))
}

#[test]
fn a_fold_over_zipped_data() {
    let w = Vector3::new(0.3, -0.2, 0.5);
    let xs: Vec<Vector3<f64>> = (0..5)
        .map(|k| Vector3::new(k as f64, 1.0, -0.5 * k as f64))
        .collect();
    let ys: Vec<f64> = (0..5).map(|k| (k as f64).sin()).collect();
    check!(zipped(&w, &xs, &ys) => zipped_grad[w]);
}

/// A closure with statements, over `enumerate`d data, its sum typed by the `let`.
#[grad(w)]
fn with_statements(w: &DVector<f64>, xs: &[f64]) -> f64 {
    let total: f64 = xs
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let z = w[i % w.len()] * x;
            z.tanh() + 0.5 * z * z
        })
        .sum();
    total
}

#[test]
fn a_closure_with_statements() {
    let w = dv(3, 4);
    let xs: Vec<f64> = (0..8).map(|k| 0.3 * k as f64 - 1.0).collect();
    check!(with_statements(&w, &xs) => with_statements_grad[w]);
}

/// `product()`, `sum()` of the items themselves, a function mapped by path over `copied()`.
#[grad(w)]
fn products_and_plain_sums(w: &DVector<f64>) -> f64 {
    let p: f64 = w.iter().map(|v| 1.0 + v * v).product();
    let s: f64 = w.iter().sum();
    let c: f64 = w.iter().copied().map(f64::sin).sum();
    p + s * s + c
}

/// `fold` with a function by path (a running maximum) and with a closure.
#[grad(w)]
fn folds(w: &DVector<f64>) -> f64 {
    w.iter().copied().fold(f64::NEG_INFINITY, f64::max) + w.iter().fold(0.0, |a, &v| a + v.abs())
}

#[test]
fn products_plain_sums_and_folds_by_path() {
    let w = dv(5, 5);
    check!(products_and_plain_sums(&w) => products_and_plain_sums_grad[w]);
    check!(folds(&w) => folds_grad[w]);
}

/// Over the columns of a matrix, and one chain inside another's closure.
#[grad(w)]
fn columns(w: &DVector<f64>, x: &DMatrix<f64>) -> f64 {
    x.column_iter().map(|c| c.dot(w).powi(2)).sum::<f64>()
}

#[grad(w)]
fn nested(w: &DMatrix<f64>) -> f64 {
    (0..w.nrows())
        .map(|i| {
            (0..w.ncols())
                .map(|j| w[(i, j)] * (i + j) as f64)
                .sum::<f64>()
                .powi(2)
        })
        .sum::<f64>()
}

#[test]
fn over_columns_and_nested() {
    let (w, x) = (dv(6, 6), dm(6, 4, 7));
    check!(columns(&w, &x) => columns_grad[w]);
    let m = dm(3, 4, 8);
    check!(nested(&m) => nested_grad[m]);
}

/// A generic scalar folds from `T::zero()` (`RealField` has no `Sum`).
#[grad(w)]
fn generic<T: RealField + Copy>(w: &DVector<T>) -> T {
    w.iter().fold(T::zero(), |a, v| a + *v * *v * *v)
}

/// `f32`, the sum's type named.
#[grad(w)]
fn single(w: &DVector<f32>) -> f32 {
    w.iter().map(|v| v.exp()).sum::<f32>().ln()
}

#[test]
fn generic_and_single_precision() {
    let w64 = dv::<f64>(4, 9);
    check!(generic(&w64) => generic_grad[w64]);
    let w32 = dv::<f32>(4, 9);
    check!(generic(&w32) => generic_grad[w32]);
    check!(single(&w32) => single_grad[w32]);
}

/// Rust's `f64: Sum` starts from `−0.0`: an empty sum is `−0.0`, and so is matgrad's.
#[grad(w)]
fn maybe_empty(w: &DVector<f64>, n: usize) -> f64 {
    (0..n).map(|i| w[i] * w[i]).sum::<f64>() * w[0]
}

#[test]
fn an_empty_sum_is_negative_zero_as_in_rust() {
    let w = dv(3, 10);
    let (value, grad) = maybe_empty_grad(&w, 0);
    assert_eq!(value.to_bits(), maybe_empty(&w, 0).to_bits());
    assert!(grad.iter().all(|&g| g == 0.0), "{grad}");
    check!(maybe_empty(&w, 2) => maybe_empty_grad[w]);
}

/// A sum of fixed-size matrices, typed by the turbofish or by the `let`: the scatter matrix of
/// samples about a mean, in a Gaussian's negative log-likelihood.
#[grad(mu, l)]
fn scatter(mu: &Vector3<f64>, l: &Matrix3<f64>, xs: &[Vector3<f64>]) -> f64 {
    let s = xs
        .iter()
        .map(|x| (x - mu) * (x - mu).transpose())
        .sum::<Matrix3<f64>>();
    let t: Matrix3<f64> = xs.iter().map(|x| x * x.transpose()).sum();
    let sigma = l * l.transpose() + Matrix3::identity();
    let inv = sigma.try_inverse().unwrap();
    sigma.determinant().ln() * xs.len() as f64 + (inv * s).trace() + 1e-3 * t.tr_dot(&sigma)
}

#[test]
fn sums_of_fixed_size_matrices() {
    let mu = Vector3::new(0.1, -0.3, 0.2);
    let l = Matrix3::new(1.0, 0.0, 0.0, 0.3, 0.8, 0.0, -0.2, 0.1, 1.2);
    let xs: Vec<Vector3<f64>> = (0..6)
        .map(|k| Vector3::new((k as f64).sin(), (2.0 * k as f64).cos(), 0.1 * k as f64))
        .collect();
    check!(scatter(&mu, &l, &xs) => scatter_grad[mu, l]);
}

/// A `filter` before the `map`: hinge terms of the samples of one class, and a fold over the
/// positive entries.
#[grad(w)]
fn filtered(w: &DVector<f64>, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let z = x * w;
    let hinge = z
        .iter()
        .zip(labels.iter())
        .filter(|(_, &c)| c == 1)
        .map(|(zi, _)| (1.0 - zi).max(0.0))
        .sum::<f64>();
    let positive = w.iter().filter(|&&v| v > 0.0).fold(0.0, |a, v| a + v * v);
    let counted: f64 = w
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, v)| v.exp())
        .sum();
    hinge + positive + counted
}

#[test]
fn a_filter_before_the_map_or_the_fold() {
    let (w, x) = (dv(4, 11), dm(7, 4, 12));
    let labels = [1, 0, 1, 1, 0, 0, 1];
    check!(filtered(&w, &x, &labels) => filtered_grad[w]);
    let (value, _) = filtered_grad(&w, &x, &labels);
    if sums_in_order() {
        assert_eq!(value.to_bits(), filtered(&w, &x, &labels).to_bits());
    }
}

/// Windows of a vector's entries: a smoothness penalty as a chain and as a loop, a window of
/// three, and a vector shorter than its window (no windows, as in Rust).
#[grad(w)]
fn smooth(w: &DVector<f64>, k: usize) -> f64 {
    let first = w
        .as_slice()
        .windows(2)
        .map(|p| (p[1] - p[0]).powi(2))
        .sum::<f64>();
    let mut second = 0.0;
    for (i, p) in w.as_slice().windows(3).enumerate() {
        second += (p[2] - 2.0 * p[1] + p[0]).powi(2) * (i + 1) as f64;
    }
    let wide: f64 = w
        .as_slice()
        .windows(k)
        .map(|p| p.iter().sum::<f64>().tanh())
        .sum();
    first + second + wide
}

#[test]
fn windows_of_a_vector() {
    let w = dv(6, 13);
    check!(smooth(&w, 4) => smooth_grad[w]);
    check!(smooth(&w, 7) => smooth_grad[w]);
    let short = dv(2, 14);
    check!(smooth(&short, 3) => smooth_grad[short]);
}

#[test]
#[should_panic]
fn a_window_of_none_panics_as_in_rust() {
    let w = dv(6, 13);
    let _ = smooth_grad(&w, 0);
}

/// An AR(2) model's squared errors from the third sample, `skip` after `enumerate`; a sum of
/// the first `k` entries by `take`; `skip` on a range and on a chain.
#[grad(phi)]
fn autoregressive(phi: &DVector<f64>, y: &[f64], k: usize) -> f64 {
    let p = phi.len();
    let mut sse = 0.0;
    for (t, &yt) in y.iter().enumerate().skip(p) {
        let mut pred = 0.0;
        for j in 0..p {
            pred += phi[j] * y[t - 1 - j];
        }
        sse += (yt - pred).powi(2);
    }
    let head: f64 = phi.iter().take(k).map(|v| v * v).sum();
    let tail: f64 = (0..p).skip(1).map(|j| phi[j].tanh()).sum();
    let late: f64 = y.iter().skip(p).take(k).map(|v| v * phi[0]).sum();
    sse + head + tail + late
}

#[test]
fn skip_and_take() {
    let phi = dv(2, 15);
    let y: Vec<f64> = (0..7).map(|i| rnd(16, i, 0)).collect();
    for k in [0, 1, 3, 10] {
        check!(autoregressive(&phi, &y, k) => autoregressive_grad[phi]);
    }
    let short = [0.5];
    check!(autoregressive(&phi, &short, 3) => autoregressive_grad[phi]);
}

/// Lags and counts from a skipped start: `y.iter().zip(y.iter().skip(1))` (differences of
/// neighbours), `skip(k).enumerate()` counting from 0, and a zip whose skipped side is past
/// its end (no items, as in Rust).
#[grad(w)]
fn lagged(w: &DVector<f64>, y: &[f64], k: usize) -> f64 {
    let mut total = 0.0;
    for (a, b) in y.iter().zip(y.iter().skip(1)) {
        total += (b - w[0] * a).powi(2);
    }
    for (t, v) in y.iter().skip(k).enumerate() {
        total += v * w[t % 2];
    }
    let tail: f64 = w.iter().skip(1).zip(y.iter()).map(|(a, b)| a * b).sum();
    total + tail
}

#[test]
fn lags_and_counts_from_a_skipped_start() {
    let w = dv(3, 17);
    let y: Vec<f64> = (0..6).map(|i| rnd(18, i, 0)).collect();
    for k in [0, 2, 9] {
        check!(lagged(&w, &y, k) => lagged_grad[w]);
    }
    let one = [0.4];
    check!(lagged(&w, &one, 1) => lagged_grad[w]);
}
