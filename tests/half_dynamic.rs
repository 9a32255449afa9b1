//! Parameters whose types mix a fixed and a dynamic dimension, or spell
//! nalgebra's owned types out: `OMatrix<f64, U3, Dyn>`, `Matrix3xX<f64>`,
//! `MatrixXx2<f64>`, `OVector<f64, Const<4>>`, `OMatrix<f64, Dyn, Dyn>`. Each
//! gradient has its parameter's type and matches finite differences.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{Const, DMatrix, Dyn, Matrix3xX, MatrixXx2, OMatrix, OVector, U3, U4};

#[grad(p, q, s)]
fn three_rows(p: &OMatrix<f64, U3, Dyn>, q: &Matrix3xX<f64>, s: &MatrixXx2<f64>) -> f64 {
    p.component_mul(q).sum() + (p.transpose() * q).trace() + (q * s).norm_squared()
}

#[grad(v, a)]
fn four_columns(v: &OVector<f64, Const<4>>, a: &OMatrix<f64, Dyn, U4>) -> f64 {
    (a * v).norm_squared() + v.dot(v) * a.sum()
}

#[grad(x)]
fn spelled_out(x: &OMatrix<f64, Dyn, Dyn>, y: &DMatrix<f64>) -> f64 {
    (x - y).norm() + x.dot(y)
}

fn owned<R: matgrad::nalgebra::Dim, C: matgrad::nalgebra::Dim>(
    r: R,
    c: C,
    seed: u32,
) -> OMatrix<f64, R, C>
where
    matgrad::nalgebra::DefaultAllocator: matgrad::nalgebra::allocator::Allocator<R, C>,
{
    let m = dm::<f64>(r.value(), c.value(), seed);
    OMatrix::from_iterator_generic(r, c, m.iter().copied())
}

#[test]
fn half_dynamic_types() {
    let p = owned(U3, Dyn(5), 1);
    let q = owned(U3, Dyn(5), 2);
    let s = owned(Dyn(5), Const::<2>, 3);
    check!(three_rows(&p, &q, &s) => three_rows_grad[p, q, s]);
    let v = owned(Const::<4>, Const::<1>, 4);
    let a = owned(Dyn(6), U4, 5);
    check!(four_columns(&v, &a) => four_columns_grad[v, a]);
}

#[test]
fn owned_types_spelled_out() {
    let (x, y) = (owned(Dyn(3), Dyn(4), 6), dm(3, 4, 7));
    check!(spelled_out(&x, &y) => spelled_out_grad[x]);
}

/// A fixed `q` plus a product of dynamic rows: in the gradient, a product of
/// fixed and dynamic factors (`Matrix<f64, Dyn, Const<3>>`) has its trace
/// taken, which nalgebra's `trace` refuses for a type that is square only in
/// its sizes (found by the random-program tests).
#[grad(q)]
fn fixed_plus_dynamic_product(
    a: &OMatrix<f64, matgrad::nalgebra::U2, Dyn>,
    q: &matgrad::nalgebra::Matrix3<f64>,
) -> f64 {
    let mut w0 = 1.0;
    for i in 0..5 {
        w0 -= 0.1 * q.trace();
        w0 += a[i % 4];
    }
    let d = DMatrix::from_diagonal_element(3, 3, w0 * w0);
    (q + d.row_sum().tr_mul(&d.map(|v| v / 1.5).row_sum())).determinant()
}

#[test]
fn trace_of_a_product_of_fixed_and_dynamic_factors() {
    for seed in 0..4 {
        let a = OMatrix::<f64, matgrad::nalgebra::U2, Dyn>::from_fn_generic(
            matgrad::nalgebra::U2,
            Dyn(2),
            |i, j| 0.1 * rnd(90 + seed, i, j),
        );
        let q: matgrad::nalgebra::Matrix3<f64> = sm_well(91 + seed);
        let q = q * 0.1;
        check!(fixed_plus_dynamic_product(&a, &q) => fixed_plus_dynamic_product_grad[q]);
    }
}
