//! Data whose elements are tuples, as recommenders and ranking models keep it: `(user, item,
//! rating)` triplets, `(winner, loser)` pairs. Each field is read where the loop binds it (or
//! where `ratings[k].2` names it); every gradient against central finite differences.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Vector2};

/// Matrix factorisation with user and item biases over observed triplets, L2-regularised.
#[grad(u, v, bu, bi)]
fn factorisation(
    u: &DMatrix<f64>,
    v: &DMatrix<f64>,
    bu: &DVector<f64>,
    bi: &DVector<f64>,
    mu: f64,
    ratings: &[(usize, usize, f64)],
) -> f64 {
    let mut loss = 0.0;
    for &(user, item, r) in ratings {
        let pred = mu + bu[user] + bi[item] + u.row(user).dot(&v.row(item));
        loss += (pred - r).powi(2);
    }
    loss + 0.1 * (u.norm_squared() + v.norm_squared())
}

/// Bradley–Terry: the log-likelihood of the winners, a sum over matches written as a chain.
#[allow(clippy::ptr_arg)] // a `Vec` of tuples, as such data is often passed
#[grad(strength)]
fn bradley_terry(strength: &DVector<f64>, matches: &Vec<(usize, usize)>) -> f64 {
    -matches
        .iter()
        .map(|&(winner, loser)| {
            let d = strength[winner] - strength[loser];
            -(-d).exp().ln_1p()
        })
        .sum::<f64>()
}

/// Fields read by index (`pairs[k].1`), enumerated, and a tuple holding a fixed-size vector.
#[allow(clippy::needless_range_loop)] // the fields read by index are what this tests
#[grad(w)]
fn weighted_pairs(w: &Vector2<f64>, pairs: &[(Vector2<f64>, f64)], scale: &[f64]) -> f64 {
    let mut total = 0.0;
    for (k, (x, y)) in pairs.iter().enumerate() {
        total += scale[k] * (w.dot(x) - y).powi(2);
    }
    for k in 0..pairs.len() {
        total += pairs[k].1 * w.dot(&pairs[k].0);
    }
    total
}

#[test]
fn triplets_of_a_factorisation() {
    let (u, v) = (dm(4, 2, 1), dm(5, 2, 2));
    let (bu, bi) = (dv(4, 3), dv(5, 4));
    let mu = 0.3;
    let ratings = vec![
        (0, 1, 4.0),
        (3, 4, 1.5),
        (2, 0, 3.0),
        (0, 4, 2.0),
        (1, 2, 5.0),
    ];
    check!(factorisation(&u, &v, &bu, &bi, mu, &ratings) => factorisation_grad[u, v, bu, bi]);
    let (value, ..) = factorisation_grad(&u, &v, &bu, &bi, mu, &[]);
    assert_eq!(value, factorisation(&u, &v, &bu, &bi, mu, &[]));
}

#[test]
fn pairs_of_a_ranking() {
    let strength = dv(4, 5);
    let matches = vec![(0, 1), (2, 1), (3, 0), (1, 3), (2, 3)];
    check!(bradley_terry(&strength, &matches) => bradley_terry_grad[strength]);
}

#[test]
fn tuple_fields_by_index_and_enumerated() {
    let w = Vector2::new(0.3, -0.7);
    let pairs = vec![
        (Vector2::new(1.0, 2.0), 0.5),
        (Vector2::new(-0.5, 0.25), -1.0),
        (Vector2::new(0.0, 1.5), 2.0),
    ];
    let scale = [1.0, 0.5, 2.0];
    check!(weighted_pairs(&w, &pairs, &scale) => weighted_pairs_grad[w]);
}

/// A sparse row as `(column, value)` pairs, bound by `let (j, v) = entries[k];`.
#[allow(clippy::needless_range_loop)] // by index, as such code is written
#[grad(w)]
fn sparse_poisson(w: &DVector<f64>, entries: &[(usize, f64)], count: f64) -> f64 {
    let mut eta = 0.0;
    for k in 0..entries.len() {
        let (j, v) = entries[k];
        eta += w[j] * v;
    }
    eta.exp() - count * eta
}

#[test]
fn pairs_bound_by_let() {
    let w = dv(5, 8);
    let entries = [(0, 0.5), (3, -1.0), (4, 2.0)];
    check!(sparse_poisson(&w, &entries, 3.0) => sparse_poisson_grad[w]);
}

/// Sparse rows (compressed rows as `Vec`s of `(column, value)` pairs): Poisson regression.
#[grad(w)]
fn sparse_rows(w: &DVector<f64>, rows: &[Vec<(usize, f64)>], counts: &[f64]) -> f64 {
    let mut total = 0.0;
    for (i, row) in rows.iter().enumerate() {
        let mut eta = 0.0;
        for &(j, v) in row.iter() {
            eta += w[j] * v;
        }
        total += eta.exp() - counts[i] * eta;
    }
    total
}

#[test]
fn rows_of_pairs() {
    let w = dv(4, 9);
    let rows = vec![
        vec![(0, 0.5), (2, 1.0)],
        vec![],
        vec![(3, -0.5), (1, 0.25), (0, 1.0)],
    ];
    let counts = [1.0, 0.0, 2.0];
    check!(sparse_rows(&w, &rows, &counts) => sparse_rows_grad[w]);
}
