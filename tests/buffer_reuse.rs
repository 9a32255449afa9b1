//! Locals are moved into the operation reading them last, which reuses their
//! buffer (`a - &b`, `a * s`, `component_mul_assign`); a product read by a sum
//! is added onto the other term's buffer (`gemm` with β = 1), and one read by
//! a scaling takes the scale as `gemm`'s α. Each case checks value and
//! gradients, including operands of mixed fixed and dynamic types, where
//! nalgebra's result type is the fixed one and the buffer of a dynamic left
//! operand cannot be reused. (Only some parameters are differentiated, so
//! that the products are read once.)

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, SMatrix, SVector};

/// Every kind of reuse on dynamic locals: the product moved into the
/// Hadamard product, that into the scaling, that into the difference.
#[grad(w)]
fn chain(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let m = ((x * w).component_mul(y) * 2.0 - y) / 3.0;
    (-m).map(|v| v.exp()).sum()
}

/// A dynamic product (`x * w` is a `DVector`) times a fixed vector: the result
/// is an `SVector`, so the dynamic buffer is not reused.
#[grad(w)]
fn dynamic_times_fixed(x: &DMatrix<f64>, w: &DVector<f64>, z: &SVector<f64, 3>) -> f64 {
    (x * w).component_mul(z).sum() + w.norm_squared()
}

/// A fixed product times a dynamic vector: the fixed buffer is reused.
#[grad(a)]
fn fixed_times_dynamic(a: &SMatrix<f64, 3, 2>, v: &SVector<f64, 2>, d: &DVector<f64>) -> f64 {
    (a * v).component_mul(d).sum() + a.norm_squared()
}

/// The gradient `A X + Aᵀ X` adds `Aᵀ X` onto `A X` (read before by the value).
#[grad(x)]
fn quadratic(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x).trace()
}

/// `2X − A B` subtracts the product from `2X` in place, in the forward pass.
#[grad(x, b)]
fn difference(x: &DMatrix<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (x * 2.0 - a * b).norm_squared()
}

/// `∇U = −2 R V` and `∇V = −2 Rᵀ U`: the −2 is `gemm`'s α.
#[grad(u, v)]
fn factorisation(m: &DMatrix<f64>, u: &DMatrix<f64>, v: &DMatrix<f64>) -> f64 {
    (m - u * v.transpose()).norm_squared()
}

/// `∇Σ = (K − K S K)ᵀ` with `K = Σ⁻¹`: `K` is read by the product and by
/// the difference, so it must not be moved into either.
#[grad(sigma)]
fn likelihood(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
}

#[test]
fn a_matrix_read_twice_is_not_moved() {
    for n in [3, 9] {
        let (sigma, s) = (dm_spd(n, 18), dm_spd(n, 19));
        check!(likelihood(&sigma, &s) => likelihood_grad[sigma]);
    }
}

#[test]
fn scalings_folded_into_products() {
    for (rows, cols, rank) in [(4, 3, 2), (9, 8, 6)] {
        let (m, u, v) = (dm(rows, cols, 15), dm(rows, rank, 16), dm(cols, rank, 17));
        check!(factorisation(&m, &u, &v) => factorisation_grad[u, v]);
    }
}

#[test]
fn products_accumulated_in_place() {
    // Below and above the size from which nalgebra's `gemm` is blocked.
    for (n, k) in [(3, 2), (9, 7)] {
        let (x, a) = (dm(n, k, 12), dm(n, n, 13));
        check!(quadratic(&x, &a) => quadratic_grad[x]);
        let b = dm(n, k, 14);
        check!(difference(&x, &a, &b) => difference_grad[x, b]);
    }
}

#[test]
fn chain_of_reuses() {
    let (x, w, y) = (dm(5, 3, 1), dv(3, 2), dv(5, 3));
    check!(chain(&x, &w, &y) => chain_grad[w]);
}

#[test]
fn mixed_fixed_and_dynamic_operands() {
    let (x, w, z) = (dm(3, 4, 4), dv(4, 5), sm(6));
    check!(dynamic_times_fixed(&x, &w, &z) => dynamic_times_fixed_grad[w]);
    let (a, v, d) = (sm(7), sm(8), dv(3, 9));
    check!(fixed_times_dynamic(&a, &v, &d) => fixed_times_dynamic_grad[a]);
}
