//! Sizes, integers, casts and element access outside loops: `x.nrows()`,
//! `let (n, d) = x.shape();`, `n as f64`, `x[i]`, `x[(i, j)]`, `v.x`, entries
//! of data slices and integer parameters; against central finite differences,
//! `f64` and `f32`, fixed and dynamic sizes.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2x3, Vector3};

/// Mean of squares with the count from the shape; the corner entries.
#[grad(x)]
fn sizes(x: &DMatrix<f64>) -> f64 {
    let (n, d) = x.shape();
    let count = (n * d) as f64;
    x.norm_squared() / count + x[(0, 0)] * x[(n - 1, d - 1)] + x[n * d - 1]
}

#[test]
fn sizes_and_entries_dynamic() {
    let x = dm(3, 4, 1);
    check!(sizes(&x) => sizes_grad[x]);
}

#[grad(x)]
fn sizes_f32(x: &DVector<f32>) -> f32 {
    let n = x.len();
    x.sum() / n as f32 + x[0] * x[n - 1]
}

#[test]
fn sizes_and_entries_dynamic_f32() {
    let x = dv(5, 2);
    check!(sizes_f32(&x) => sizes_f32_grad[x]);
}

/// Fields of a vector, a tuple `let`, integers from a parameter.
#[grad(v, a)]
fn fields(v: &Vector3<f64>, a: &Matrix2x3<f64>, k: usize) -> f64 {
    let (p, q) = (v.x * v.y, v.z);
    let j = k % 3;
    p * q + a[(1, j)] * v[j] + a.ncols() as f64 * a[(0, 2)]
}

#[test]
fn fields_and_integers_fixed() {
    let (v, a) = (sm(1), sm(2));
    check!(fields(&v, &a, 4) => fields_grad[v, a]);
}

/// Entries of data slices beside a differentiated vector.
#[grad(w)]
fn data_entries(w: &DVector<f64>, xs: &[Vector3<f64>], labels: &[usize], scale: f64) -> f64 {
    let a = xs[0].dot(w) * scale;
    let b = w[labels[1]] * xs[1][2];
    a * a + b
}

#[test]
fn data_entries_dynamic() {
    let w = dv(3, 1);
    let xs = vec![sm::<f64, 3, 1>(2), sm(3)];
    check!(data_entries(&w, &xs, &[2, 0], 0.5) => data_entries_grad[w]);
}

/// An index out of range panics in the generated function as in the original.
#[grad(x)]
fn past_the_end(x: &DVector<f64>, k: usize) -> f64 {
    x[k] * x.sum()
}

#[test]
#[should_panic(expected = "out of bounds")]
fn out_of_range_panics_as_the_original() {
    let x = dv::<f64>(3, 1);
    let _ = past_the_end_grad(&x, 3);
}

#[test]
#[should_panic(expected = "out of bounds")]
fn the_original_panics_the_same_way() {
    let x = dv::<f64>(3, 1);
    let _ = past_the_end(&x, 3);
}
