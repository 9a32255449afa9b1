//! A `match` on a label, a count or a flag, read as the `if`s it stands for, and values chosen
//! together (`let (a, b) = if … { (…, …) } else { … };`); every gradient
//! against central finite differences, with every arm taken.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

/// A per-sample loss chosen by the sample's label: literals, alternatives, a range with a
/// guard, a name read by its guard, and a name binding the rest.
#[allow(clippy::needless_range_loop)] // rows and labels by one index, as such losses are written
#[grad(w)]
fn by_label(w: &DVector<f64>, x: &DMatrix<f64>, labels: &[usize], robust: bool) -> f64 {
    let mut total = 0.0;
    for i in 0..x.nrows() {
        let z = x.row(i).transpose().dot(w);
        total += match labels[i] {
            0 => z * z,
            1 | 2 => (z - 1.0).powi(2),
            3..=5 if robust => (1.0 + (z - 3.0).powi(2)).ln(),
            k if k >= 7 && robust => 0.5 * (z + 1.0).powi(2),
            k => (z - k as f64).abs(),
        };
    }
    total
}

/// A `match` as a statement: each arm adds to a different total.
#[grad(w)]
fn split_totals(w: &DVector<f64>, kinds: &[u8]) -> f64 {
    let mut squares = 0.0;
    let mut cubes = 0.0;
    for (i, &kind) in kinds.iter().enumerate() {
        let v = w[i % w.len()];
        match kind {
            0 => squares += v * v,
            1 => {
                cubes += v * v * v;
            }
            _ => {}
        }
    }
    squares + 0.5 * cubes
}

/// A `match` on a `bool`.
#[grad(w)]
fn flagged(w: &DVector<f64>, flat: bool) -> f64 {
    match flat {
        true => w.norm_squared(),
        false => w.map(|v| v.exp()).sum(),
    }
}

#[test]
fn every_arm_of_a_match_on_labels() {
    let (w, x) = (dv(3, 1), dm(8, 3, 2));
    let labels = [0, 1, 2, 3, 4, 5, 6, 7];
    for robust in [true, false] {
        check!(by_label(&w, &x, &labels, robust) => by_label_grad[w]);
    }
}

#[test]
fn a_match_as_a_statement() {
    let w = dv(4, 3);
    let kinds = [0, 1, 2, 1, 0, 0, 1];
    check!(split_totals(&w, &kinds) => split_totals_grad[w]);
}

#[test]
fn a_match_on_a_flag() {
    let w = dv(4, 4);
    for flat in [true, false] {
        check!(flagged(&w, flat) => flagged_grad[w]);
    }
}

/// Focal loss: two values chosen together by one `if`, and a pair chosen by a `match`.
#[grad(w)]
fn focal(w: &DVector<f64>, x: &DMatrix<f64>, labels: &[u8], alpha: f64, gamma: f64) -> f64 {
    let mut total = 0.0;
    for (i, &label) in labels.iter().enumerate() {
        let p = 1.0 / (1.0 + (-x.row(i).transpose().dot(w)).exp());
        let (p_t, alpha_t) = if label == 1 {
            (p, alpha)
        } else {
            let q = 1.0 - p;
            (q, 1.0 - alpha)
        };
        let (scale, shift) = match label {
            0 => (1.0, 0.0),
            _ => (0.5, 0.1),
        };
        total -= scale * alpha_t * (1.0 - p_t).powf(gamma) * (p_t + shift).ln();
    }
    total
}

#[test]
fn values_chosen_together() {
    let (w, x) = (dv(3, 5), dm(6, 3, 6));
    let labels = [1, 0, 0, 1, 1, 0];
    check!(focal(&w, &x, &labels, 0.25, 2.0) => focal_grad[w]);
}
