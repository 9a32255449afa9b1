//! Data whose elements have a dynamic size (`xs: &[DVector<f64>]`, `Vec<DMatrix<f64>>`):
//! indexed and iterated as data of fixed-size elements is; every gradient against central
//! finite differences.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

/// Logistic regression over samples kept as a slice of vectors.
#[grad(w)]
fn logistic(w: &DVector<f64>, xs: &[DVector<f64>], ys: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (x, &y) in xs.iter().zip(ys.iter()) {
        let z = w.dot(x);
        loss += (1.0 + (-y * z).exp()).ln();
    }
    loss / xs.len() as f64
}

/// Squared distances to a centre, over a `Vec` of vectors, as an iterator chain.
#[allow(clippy::ptr_arg)] // a `&Vec` as users write it
#[grad(mu)]
fn spread(mu: &DVector<f64>, xs: &Vec<DVector<f64>>) -> f64 {
    xs.iter().map(|x| (x - mu).norm_squared()).sum::<f64>()
}

/// A layer applied to each sample, read by index.
#[allow(clippy::needless_range_loop)] // indexing is what this reads
#[grad(w)]
fn layer(w: &DMatrix<f64>, xs: &[DVector<f64>]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let h = (w * &xs[i]).map(|v| v.tanh());
        s += h.norm_squared();
    }
    s
}

/// Matrices as elements: `Σᵢ tr(W Xᵢ)²`.
#[grad(w)]
fn traces(w: &DMatrix<f64>, xs: &[DMatrix<f64>]) -> f64 {
    let mut s = 0.0;
    for x in xs {
        s += (w * x).trace().powi(2);
    }
    s
}

fn samples(n: usize, d: usize, seed: u32) -> Vec<DVector<f64>> {
    (0..n).map(|k| dv(d, seed + k as u32)).collect()
}

#[test]
fn slices_and_vecs_of_dynamic_vectors() {
    let (w, xs) = (dv(4, 1), samples(6, 4, 10));
    let ys: Vec<f64> = (0..6)
        .map(|k| if k % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    check!(logistic(&w, &xs, &ys) => logistic_grad[w]);
    check!(spread(&w, &xs) => spread_grad[w]);
    let m = dm(3, 4, 2);
    check!(layer(&m, &xs) => layer_grad[m]);
}

#[test]
fn slices_of_dynamic_matrices() {
    let w = dm(3, 4, 3);
    let xs: Vec<DMatrix<f64>> = (0..5).map(|k| dm(4, 3, 20 + k)).collect();
    check!(traces(&w, &xs) => traces_grad[w]);
}

/// No element to read a size off: the value is the function's, the gradient zero.
#[test]
fn an_empty_slice() {
    let w = dv(4, 1);
    let (value, grad) = spread_grad(&w, &vec![]);
    assert_eq!(value.to_bits(), spread(&w, &vec![]).to_bits());
    assert_eq!(grad, DVector::zeros(4));
    let m = dm(3, 4, 2);
    let (value, grad) = layer_grad(&m, &[]);
    assert_eq!((value, grad), (layer(&m, &[]), DMatrix::zeros(3, 4)));
}

/// Three samples of length 4 and one of length 5.
fn one_of_another_length() -> (DVector<f64>, Vec<DVector<f64>>) {
    let mut xs = samples(3, 4, 10);
    xs.push(dv(5, 30));
    (dv(4, 1), xs)
}

/// A sample of another length panics, as the function does.
#[test]
#[should_panic]
fn a_sample_of_another_size_panics_as_the_function_does() {
    let (w, xs) = one_of_another_length();
    let _ = spread_grad(&w, &xs);
}

#[test]
#[should_panic]
fn the_function_itself_panics_on_it() {
    let (w, xs) = one_of_another_length();
    let _ = spread(&w, &xs);
}

/// Samples of a length no parameter shares: `Σᵢ sum(tanh.(xᵢ wᵀ))`, whose gradient needs
/// matrices of the samples' length.
#[grad(w)]
fn outer(w: &DVector<f64>, xs: &[DVector<f64>]) -> f64 {
    let mut s = 0.0;
    for x in xs {
        s += (x * w.transpose()).map(|v| v.tanh()).sum();
    }
    s
}

#[test]
fn samples_of_their_own_length() {
    let (w, xs) = (dv(3, 4), samples(5, 6, 40));
    check!(outer(&w, &xs) => outer_grad[w]);
    let (value, grad) = outer_grad(&w, &[]);
    assert_eq!((value, grad), (outer(&w, &[]), DVector::zeros(3)));
}
