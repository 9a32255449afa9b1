//! Reductions of the body language against central finite differences:
//! `norm` (Frobenius for matrices), `norm_squared` and `sum`, on matrices,
//! column vectors and row vectors, static and dynamic, `f64` and `f32`.
//! (`trace`, `dot` and `tr_dot` are in `ops_linalg.rs`.)

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{
    DMatrix, DVector, Matrix2x3, Matrix3, RowDVector, RowVector3, SMatrix, SVector, Vector3,
};

mod norm {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        a.norm() + (a - b).norm() * a.norm()
    }

    #[grad(x, s)]
    fn d32(x: DVector<f32>, s: f32) -> f32 {
        (x * s).norm()
    }

    #[grad(r)]
    fn row_d64(r: RowDVector<f64>) -> f64 {
        r.norm() * r.norm() * r.norm()
    }

    #[grad(a, s)]
    fn s64(a: Matrix2x3<f64>, s: &f64) -> f64 {
        a.norm() * s + (a.transpose() * a).norm()
    }

    #[grad(x, r)]
    fn s32(x: &Vector3<f32>, r: RowVector3<f32>) -> f32 {
        x.norm() + r.norm() + (x * r).norm()
    }

    #[test]
    fn dynamic_f64() {
        let (a, b) = (dm(3, 4, 1), dm(3, 4, 2));
        check!(d64(&a, &b) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (x, s) = (dv(5, 1), sc(2));
        check!(d32(x.clone(), s) => d32_grad[x, s]);
    }

    #[test]
    fn dynamic_row_f64() {
        let r = dr(4, 1);
        check!(row_d64(r.clone()) => row_d64_grad[r]);
    }

    #[test]
    fn static_f64() {
        let (a, s) = (sm(1), sc(2));
        check!(s64(a, &s) => s64_grad[a, s]);
    }

    #[test]
    fn static_f32() {
        let (x, r) = (sm(1), sm(2));
        check!(s32(&x, r) => s32_grad[x, r]);
    }
}

mod norm_squared {
    use super::*;

    #[grad(a, s)]
    fn d64(a: &DMatrix<f64>, s: f64) -> f64 {
        a.norm_squared() * s + (a * s).norm_squared()
    }

    #[grad(x)]
    fn d32(x: &DVector<f32>) -> f32 {
        x.norm_squared() * x.norm_squared()
    }

    #[grad(r, q)]
    fn row_d32(r: RowDVector<f32>, q: &RowDVector<f32>) -> f32 {
        (&r - q).norm_squared() + r.norm_squared()
    }

    #[grad(a)]
    fn s64(a: Matrix3<f64>) -> f64 {
        a.norm_squared() + a.transpose().norm_squared()
    }

    #[grad(x, y)]
    fn s32(x: SVector<f32, 5>, y: &SVector<f32, 5>) -> f32 {
        (x - y).norm_squared() / 2.0
    }

    #[test]
    fn dynamic_f64() {
        let (a, s) = (dm(4, 3, 1), sc(2));
        check!(d64(&a, s) => d64_grad[a, s]);
    }

    #[test]
    fn dynamic_f32() {
        let x = dv(6, 1);
        check!(d32(&x) => d32_grad[x]);
    }

    #[test]
    fn dynamic_row_f32() {
        let (r, q) = (dr(4, 1), dr(4, 2));
        check!(row_d32(r.clone(), &q) => row_d32_grad[r, q]);
    }

    #[test]
    fn static_f64() {
        let a = sm(1);
        check!(s64(a) => s64_grad[a]);
    }

    #[test]
    fn static_f32() {
        let (x, y) = (sm(1), sm(2));
        check!(s32(x, &y) => s32_grad[x, y]);
    }
}

mod sum {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: DMatrix<f64>) -> f64 {
        (a * b).sum() + a.sum()
    }

    #[grad(x, r)]
    fn d32(x: &DVector<f32>, r: &RowDVector<f32>) -> f32 {
        x.sum() * r.sum() + (x * r).sum()
    }

    #[grad(a, s)]
    fn s64(a: &Matrix2x3<f64>, s: f64) -> f64 {
        a.sum() * a.sum() * s + (a * s).sum()
    }

    #[grad(a)]
    fn s32(a: SMatrix<f32, 3, 5>) -> f32 {
        a.sum() + a.transpose().sum() * 2.0
    }

    #[test]
    fn dynamic_f64() {
        let (a, b) = (dm(2, 3, 1), dm(3, 4, 2));
        check!(d64(&a, b.clone()) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (x, r) = (dv(3, 1), dr(4, 2));
        check!(d32(&x, &r) => d32_grad[x, r]);
    }

    #[test]
    fn static_f64() {
        let (a, s) = (sm(1), sc(2));
        check!(s64(&a, s) => s64_grad[a, s]);
    }

    #[test]
    fn static_f32() {
        let a = sm(1);
        check!(s32(a) => s32_grad[a]);
    }
}

/// Dividing by a reduction of the same matrix (normalisation).
mod normalised {
    use super::*;

    #[grad(a)]
    fn d64(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        (a / a.norm()).dot(w) + (a / a.sum()).norm_squared()
    }

    #[grad(x)]
    fn s32(x: Vector3<f32>, y: &Vector3<f32>) -> f32 {
        (x / x.norm() - y).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (a, w) = (dm_pos(2, 3, 1), dm(2, 3, 2));
        check!(d64(&a, &w) => d64_grad[a]);
    }

    #[test]
    fn static_f32() {
        let (x, y) = (sm(1), sm(2));
        check!(s32(x, &y) => s32_grad[x]);
    }
}
