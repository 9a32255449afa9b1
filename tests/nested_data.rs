//! Data kept as rows of `Vec`s (`&[Vec<f64>]`, `&Vec<Vec<f64>>`), as code that does not use
//! nalgebra for its inputs keeps it: indexed twice, iterated, measured; every gradient against
//! central finite differences.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::DVector;

/// The negative Sharpe ratio of a portfolio, its returns a `Vec` per period.
#[allow(clippy::needless_range_loop)] // by period, as such code is written
#[grad(weights)]
fn negative_sharpe(weights: &DVector<f64>, returns: &[Vec<f64>]) -> f64 {
    let n = returns.len();
    let mut sum = 0.0;
    let mut sum_sq = 0.0;
    for t in 0..n {
        let r_t: f64 = returns[t]
            .iter()
            .zip(weights.iter())
            .map(|(r, w)| r * w)
            .sum();
        sum += r_t;
        sum_sq += r_t * r_t;
    }
    let mean = sum / n as f64;
    let var = (sum_sq / n as f64 - mean * mean) * n as f64 / (n - 1) as f64;
    -mean / var.sqrt()
}

/// Least squares over rows indexed twice, `xs[i][j]`, their lengths read by `len()`.
#[allow(clippy::ptr_arg, clippy::needless_range_loop)] // written as such code is
#[grad(w)]
fn rows_indexed(w: &DVector<f64>, xs: &Vec<Vec<f64>>, ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let mut z = 0.0;
        for j in 0..xs[i].len() {
            z += xs[i][j] * w[j];
        }
        total += (z - ys[i]).powi(2);
    }
    total
}

/// Rows bound by a loop, their entries iterated.
#[grad(w)]
fn rows_iterated(w: &DVector<f64>, xs: &[Vec<f64>]) -> f64 {
    let mut total = 0.0;
    for row in xs {
        for (j, x) in row.iter().enumerate() {
            total += (x * w[j]).tanh();
        }
    }
    total
}

fn rows(n: usize, d: usize, seed: u32) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..d).map(|j| rnd(seed, i, j)).collect())
        .collect()
}

#[test]
fn a_portfolio_over_rows_of_returns() {
    let weights = dv(4, 1);
    let returns = rows(7, 4, 2);
    check!(negative_sharpe(&weights, &returns) => negative_sharpe_grad[weights]);
}

#[test]
fn rows_indexed_twice_and_iterated() {
    let w = dv(3, 3);
    let (xs, ys) = (rows(5, 3, 4), vec![0.5, -0.2, 1.0, 0.3, 0.0]);
    check!(rows_indexed(&w, &xs, &ys) => rows_indexed_grad[w]);
    check!(rows_iterated(&w, &xs) => rows_iterated_grad[w]);
}
