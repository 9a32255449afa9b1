//! Softmax cross-entropy of a linear classifier, `Σᵢ −ln softmax(W xᵢ)_{yᵢ}` with respect to `W`
//! (k classes × d features, n samples the columns of `X`), written with a `log_softmax` helper
//! marked `#[matgrad::differentiable]`: the loss of a classifier's last layer, as a user who
//! keeps the softmax in a function writes it.

use std::hint::black_box as bb;

use matgrad::nalgebra::{DMatrix, DVector};
use matgrad::{differentiable, grad};

use crate::data;
use crate::fd;
use crate::harness::{Case, Impl, Sizes};
use crate::linalg::gemm_nt;

/// `ln softmax(z)`, shifted by the largest entry so that `exp` cannot overflow.
#[differentiable]
pub fn log_softmax(z: &DVector<f64>) -> DVector<f64> {
    let m = z.max();
    let total = z.map(|v| (v - m).exp()).sum();
    let log_total = m + total.ln();
    z.map(|v| v - log_total)
}

/// The loss through the helper, one sample (column of `Z = W X`) at a time.
#[allow(clippy::needless_range_loop)]
#[grad(w)]
pub fn softmax_ce(w: &DMatrix<f64>, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let z = w * x;
    let mut total = 0.0;
    for i in 0..x.ncols() {
        total -= log_softmax(&z.column(i).clone_owned())[labels[i]];
    }
    total
}

/// By hand: `Z = W X` (`gemm`), then per column one pass for the maximum, one for
/// `Σ exp(zⱼ − m)` (written into the column), and one turning the column into
/// `softmax(zᵢ) − e_{yᵢ}` in place; `∇W = G Xᵀ` (`gemm` against a transposed view of `X`, no
/// copy: [`gemm_nt`]).
pub fn softmax_ce_hand(
    w: &DMatrix<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
) -> (f64, DMatrix<f64>) {
    let mut g = w * x;
    let mut total = 0.0;
    for (i, mut col) in g.column_iter_mut().enumerate() {
        let m = col.max();
        let mut sum = 0.0;
        for v in col.iter_mut() {
            *v = (*v - m).exp();
            sum += *v;
        }
        let y = labels[i];
        total -= (col[y] / sum).ln();
        col /= sum;
        col[y] -= 1.0;
    }
    let mut grad = DMatrix::zeros(w.nrows(), w.ncols());
    gemm_nt(&mut grad, 1.0, &g, x, 0.0);
    (total, grad)
}

/// By hand, as written: the same per-sample helper (a copy of the column, `ln softmax` into a
/// new vector), then the column of `G = ∂f/∂Z` from the same values (`softmax − e_y`, reusing
/// the helper's result), and `∇W = G Xᵀ` (`gemm`).
pub fn softmax_ce_hand_loop(
    w: &DMatrix<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
) -> (f64, DMatrix<f64>) {
    let z = w * x;
    let mut g = DMatrix::zeros(z.nrows(), z.ncols());
    let mut total = 0.0;
    #[allow(clippy::needless_range_loop)]
    for i in 0..x.ncols() {
        let lp = log_softmax(&z.column(i).clone_owned());
        total -= lp[labels[i]];
        let mut col = g.column_mut(i);
        for (c, l) in col.iter_mut().zip(lp.iter()) {
            *c = l.exp();
        }
        col[labels[i]] -= 1.0;
    }
    let mut grad = DMatrix::zeros(w.nrows(), w.ncols());
    grad.gemm(1.0, &g, &x.transpose(), 0.0);
    (total, grad)
}

/// Central finite differences of [`softmax_ce`].
pub fn softmax_ce_fd(w: &DMatrix<f64>, x: &DMatrix<f64>, labels: &[usize]) -> (f64, DMatrix<f64>) {
    fd::gradient(w, |w| softmax_ce(w, x, labels))
}

/// (classes, features, samples).
pub const SIZES: [(usize, usize, usize); 2] = [(10, 20, 50), (10, 100, 1000)];

pub fn cases(sizes: Sizes) -> Vec<Case> {
    let count = if sizes == Sizes::All { SIZES.len() } else { 1 };
    SIZES[..count]
        .iter()
        .enumerate()
        .map(|(i, &(k, d, n))| {
            let w = data::dmatrix(k, d, 1.0 / (d as f64).sqrt(), 41);
            let x = data::dmatrix(d, n, 1.0, 42);
            let labels: Vec<usize> = (0..n).map(|j| (j * 7 + 3) % k).collect();
            let args = move || (w.clone(), x.clone(), labels.clone());
            let mut case = Case::new("softmax_ce", format!("k={k} d={d} n={n}"));
            let (w, x, y) = args();
            case = case.with(Impl::Value, move || softmax_ce(bb(&w), bb(&x), bb(&y)));
            let (w, x, y) = args();
            case = case.with(Impl::Hand, move || softmax_ce_hand(bb(&w), bb(&x), bb(&y)));
            let (w, x, y) = args();
            case = case.with(Impl::HandLoop, move || {
                softmax_ce_hand_loop(bb(&w), bb(&x), bb(&y))
            });
            let (w, x, y) = args();
            case = case.with(Impl::Matgrad, move || {
                softmax_ce_grad(bb(&w), bb(&x), bb(&y))
            });
            case = case
                .skip(Impl::NumDual, "not written for this case")
                .skip(Impl::AdTrait, "not written for this case");
            if i == 0 {
                let (w, x, y) = args();
                case.with(Impl::FiniteDiff, move || {
                    softmax_ce_fd(bb(&w), bb(&x), bb(&y))
                })
            } else {
                case.skip(Impl::FiniteDiff, "smallest size only")
            }
        })
        .collect()
}
