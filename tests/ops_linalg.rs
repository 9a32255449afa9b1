//! Linear-algebra methods of the body language against central finite
//! differences: `transpose`, `tr_mul`, `dot`, `tr_dot`, `trace`,
//! `determinant`, `try_inverse().unwrap()` and `try_inverse().expect("…")`.
//!
//! Non-square shapes are used wherever the operation allows, so that a
//! missing or extra transpose in a rule cannot go unnoticed. Matrices that are
//! inverted or whose determinant is taken are `n·I + R/2` (`dm_well`,
//! `sm_well`): condition number about 1.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{
    DMatrix, DVector, Matrix2, Matrix2x3, Matrix3, RowDVector, RowVector3, SMatrix, SVector,
    Vector3,
};

mod transpose {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
        (a.transpose() * b).dot(w) + a.transpose().dot(c)
    }

    #[grad(x, a)]
    fn d32(x: DVector<f32>, a: DMatrix<f32>) -> f32 {
        (x.transpose() * &a).norm_squared() + a.transpose().transpose().sum()
    }

    #[grad(r)]
    fn row_d64(r: &RowDVector<f64>, y: &DVector<f64>) -> f64 {
        (r.transpose() - y).norm_squared()
    }

    #[grad(a, s)]
    fn s64(a: Matrix2x3<f64>, s: f64, w: &Matrix3<f64>) -> f64 {
        (a.transpose() * a * s).dot(w)
    }

    #[grad(m, r)]
    fn s32(m: &Matrix2x3<f32>, r: RowVector3<f32>) -> f32 {
        (m * r.transpose()).norm_squared() + (r.transpose() * r).trace()
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, w, c) = (dm(3, 4, 1), dm(3, 2, 2), dm(4, 2, 3), dm(4, 3, 4));
        check!(d64(&a, &b, &w, &c) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (x, a) = (dv(3, 1), dm(3, 4, 2));
        check!(d32(x.clone(), a.clone()) => d32_grad[x, a]);
    }

    #[test]
    fn dynamic_row_f64() {
        let (r, y) = (dr(4, 1), dv(4, 2));
        check!(row_d64(&r, &y) => row_d64_grad[r]);
    }

    #[test]
    fn static_f64() {
        let (a, s, w) = (sm(1), sc(2), sm(3));
        check!(s64(a, s, &w) => s64_grad[a, s]);
    }

    #[test]
    fn static_f32() {
        let (m, r) = (sm(1), sm(2));
        check!(s32(&m, r) => s32_grad[m, r]);
    }
}

mod tr_mul {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        a.tr_mul(b).dot(w)
    }

    #[grad(x, a)]
    fn vec_d64(x: &DVector<f64>, a: DMatrix<f64>) -> f64 {
        x.tr_mul(&a).norm_squared()
    }

    /// `AᵀA`: the same matrix on both sides.
    #[grad(a)]
    fn gram_d32(a: DMatrix<f32>) -> f32 {
        a.tr_mul(&a).trace() + a.tr_mul(&a).sum()
    }

    #[grad(a, b, s)]
    fn s64(a: Matrix3<f64>, b: &Matrix3<f64>, s: f64) -> f64 {
        a.tr_mul(b).norm_squared() * s
    }

    #[grad(a, x)]
    fn s32(a: &SMatrix<f32, 4, 2>, x: SVector<f32, 4>) -> f32 {
        a.tr_mul(&x).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, w) = (dm(4, 2, 1), dm(4, 3, 2), dm(2, 3, 3));
        check!(d64(&a, &b, &w) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_vector_f64() {
        let (x, a) = (dv(4, 1), dm(4, 3, 2));
        check!(vec_d64(&x, a.clone()) => vec_d64_grad[x, a]);
    }

    #[test]
    fn dynamic_f32() {
        let a = dm(4, 3, 1);
        check!(gram_d32(a.clone()) => gram_d32_grad[a]);
    }

    #[test]
    fn static_f64() {
        let (a, b, s) = (sm(1), sm(2), sc(3));
        check!(s64(a, &b, s) => s64_grad[a, b, s]);
    }

    #[test]
    fn static_f32() {
        let (a, x) = (sm(1), sm(2));
        check!(s32(&a, x) => s32_grad[a, x]);
    }
}

/// `dot`: the Frobenius inner product of matrices, vectors and row vectors.
mod dot {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        a.dot(b) + a.dot(a) * 0.5
    }

    #[grad(x, y)]
    fn d32(x: DVector<f32>, y: &DVector<f32>) -> f32 {
        x.dot(y) * x.dot(&x)
    }

    #[grad(r, q)]
    fn row_d64(r: RowDVector<f64>, q: RowDVector<f64>) -> f64 {
        r.dot(&q) + q.dot(&q)
    }

    #[grad(x, y, s)]
    fn s64(x: &Vector3<f64>, y: Vector3<f64>, s: f64) -> f64 {
        (s * x).dot(&y) + x.dot(&(y * s)) * s
    }

    #[grad(a, b)]
    fn s32(a: Matrix2x3<f32>, b: &Matrix2x3<f32>) -> f32 {
        a.dot(b) + b.dot(&a) + a.dot(&a)
    }

    #[test]
    fn dynamic_f64() {
        let (a, b) = (dm(3, 4, 1), dm(3, 4, 2));
        check!(d64(&a, &b) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (x, y) = (dv(5, 1), dv(5, 2));
        check!(d32(x.clone(), &y) => d32_grad[x, y]);
    }

    #[test]
    fn dynamic_row_f64() {
        let (r, q) = (dr(4, 1), dr(4, 2));
        check!(row_d64(r.clone(), q.clone()) => row_d64_grad[r, q]);
    }

    #[test]
    fn static_f64() {
        let (x, y, s) = (sm(1), sm(2), sc(3));
        check!(s64(&x, y, s) => s64_grad[x, y, s]);
    }

    #[test]
    fn static_f32() {
        let (a, b) = (sm(1), sm(2));
        check!(s32(a, &b) => s32_grad[a, b]);
    }
}

/// `a.tr_dot(b)` = ⟨aᵀ, b⟩ = tr(a b), with `b` of the transposed shape.
mod tr_dot {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        a.tr_dot(b)
    }

    /// tr(A²) for a square A.
    #[grad(a, s)]
    fn d32(a: DMatrix<f32>, s: f32) -> f32 {
        a.tr_dot(&a) * s
    }

    #[grad(a, b)]
    fn s64(a: Matrix2x3<f64>, b: &SMatrix<f64, 3, 2>) -> f64 {
        a.tr_dot(b) + (a * b).tr_dot(&(b.transpose() * b))
    }

    #[grad(x, r)]
    fn s32(x: &Vector3<f32>, r: &RowVector3<f32>) -> f32 {
        x.tr_dot(r) * x.tr_dot(r)
    }

    #[test]
    fn dynamic_f64() {
        let (a, b) = (dm(3, 4, 1), dm(4, 3, 2));
        check!(d64(&a, &b) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, s) = (dm(3, 3, 1), sc(2));
        check!(d32(a.clone(), s) => d32_grad[a, s]);
    }

    #[test]
    fn static_f64() {
        let (a, b) = (sm(1), sm(2));
        check!(s64(a, &b) => s64_grad[a, b]);
    }

    #[test]
    fn static_f32() {
        let (x, r) = (sm(1), sm(2));
        check!(s32(&x, &r) => s32_grad[x, r]);
    }
}

mod trace {
    use super::*;

    #[grad(a, b, c, s)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, s: f64) -> f64 {
        (a * b).trace() + (s * c).trace() * c.trace()
    }

    #[grad(a)]
    fn d32(a: DMatrix<f32>) -> f32 {
        a.trace() * a.trace() + a.transpose().trace()
    }

    #[grad(a, b)]
    fn s64(a: Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
        a.trace() + (a.transpose() * b).trace() * 2.0
    }

    #[grad(a)]
    fn s32(a: &SMatrix<f32, 4, 4>) -> f32 {
        (a * a).trace()
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, c, s) = (dm(3, 4, 1), dm(4, 3, 2), dm(2, 2, 3), sc(4));
        check!(d64(&a, &b, &c, s) => d64_grad[a, b, c, s]);
    }

    #[test]
    fn dynamic_f32() {
        let a = dm(4, 4, 1);
        check!(d32(a.clone()) => d32_grad[a]);
    }

    #[test]
    fn static_f64() {
        let (a, b) = (sm(1), sm(2));
        check!(s64(a, &b) => s64_grad[a, b]);
    }

    #[test]
    fn static_f32() {
        let a = sm(1);
        check!(s32(&a) => s32_grad[a]);
    }
}

mod determinant {
    use super::*;

    #[grad(a)]
    fn d64(a: &DMatrix<f64>) -> f64 {
        a.determinant()
    }

    #[grad(a, b, s)]
    fn product_d64(a: &DMatrix<f64>, b: DMatrix<f64>, s: f64) -> f64 {
        (a * b).determinant() * s + (a * s).determinant()
    }

    #[grad(a, s)]
    fn d32(a: DMatrix<f32>, s: f32) -> f32 {
        a.determinant() * s
    }

    #[grad(a, b)]
    fn s64(a: Matrix3<f64>, b: &Matrix2<f64>) -> f64 {
        a.determinant() + b.determinant() * a.determinant()
    }

    /// 4×4: beyond nalgebra's closed forms for 1×1–3×3.
    #[grad(a)]
    fn s64_4(a: &SMatrix<f64, 4, 4>) -> f64 {
        a.determinant()
    }

    #[grad(a)]
    fn s32(a: &Matrix3<f32>) -> f32 {
        a.determinant() + a.transpose().determinant()
    }

    #[test]
    fn dynamic_f64() {
        for n in 1..=5 {
            let a = dm_well(n, n as u32);
            check!(d64(&a) => d64_grad[a]);
        }
    }

    #[test]
    fn dynamic_product_f64() {
        let (a, b, s) = (dm_well(3, 1), dm_well(3, 2), sc(3));
        check!(product_d64(&a, b.clone(), s) => product_d64_grad[a, b, s]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, s) = (dm_well(3, 1), sc(2));
        check!(d32(a.clone(), s) => d32_grad[a, s]);
    }

    #[test]
    fn static_f64() {
        let (a, b) = (sm_well(1), sm_well(2));
        check!(s64(a, &b) => s64_grad[a, b]);
        let a = sm_well(3);
        check!(s64_4(&a) => s64_4_grad[a]);
    }

    #[test]
    fn static_f32() {
        let a = sm_well(1);
        check!(s32(&a) => s32_grad[a]);
    }
}

mod inverse {
    use super::*;

    #[grad(a)]
    fn d64(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        a.clone().try_inverse().unwrap().dot(w)
    }

    #[grad(a, b)]
    fn expect_d64(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        (a * b).try_inverse().expect("a·b is invertible").trace()
    }

    #[grad(a, x)]
    fn d32(a: DMatrix<f32>, x: &DVector<f32>) -> f32 {
        (a.try_inverse().unwrap() * x).norm_squared()
    }

    #[grad(a, x)]
    fn s64(a: &Matrix3<f64>, x: Vector3<f64>, y: &Vector3<f64>) -> f64 {
        (a.try_inverse().unwrap() * x).dot(y)
    }

    #[grad(a)]
    fn s64_2(a: Matrix2<f64>) -> f64 {
        a.try_inverse().expect("invertible").norm_squared() + a.try_inverse().unwrap().sum()
    }

    #[grad(a, s)]
    fn s32(a: SMatrix<f32, 4, 4>, s: f32) -> f32 {
        (a * s).try_inverse().expect("invertible").sum()
    }

    #[test]
    fn dynamic_f64() {
        for n in 1..=5 {
            let (a, w) = (dm_well(n, n as u32), dm(n, n, 10 + n as u32));
            check!(d64(&a, &w) => d64_grad[a]);
        }
    }

    #[test]
    fn dynamic_expect_f64() {
        let (a, b) = (dm_well(3, 1), dm_well(3, 2));
        check!(expect_d64(&a, &b) => expect_d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, x) = (dm_well(3, 1), dv(3, 2));
        check!(d32(a.clone(), &x) => d32_grad[a, x]);
    }

    #[test]
    fn static_f64() {
        let (a, x, y) = (sm_well(1), sm(2), sm(3));
        check!(s64(&a, x, &y) => s64_grad[a, x]);
        let a = sm_well(4);
        check!(s64_2(a) => s64_2_grad[a]);
    }

    #[test]
    fn static_f32() {
        let (a, s) = (sm_well(1), sc(2));
        check!(s32(a, s) => s32_grad[a, s]);
    }
}

/// Expressions the simplifier is likely to rewrite (trace cyclicity, traces of
/// transposed products as `tr_dot`, one LU shared by inverse and
/// determinant, 1×1 products), checked the same way.
mod rewrites {
    use super::*;

    /// tr(ABC) with A 2×3, B 3×4, C 4×2, and the trace of its transpose.
    #[grad(a, b, c)]
    fn cyclic_d64(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
        (a * b * c).trace() + (a * b * c).transpose().trace() * 0.5
    }

    #[grad(a, b, c)]
    fn tr_dot_of_products_d64(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
        (a * b).tr_dot(c) + a.tr_dot(&(b * c))
    }

    #[grad(a, b)]
    fn transposed_products_s32(a: &SMatrix<f32, 3, 4>, b: SMatrix<f32, 3, 4>) -> f32 {
        (a.transpose() * b).trace() + (b * a.transpose()).trace() + (a * b.transpose()).sum()
    }

    /// ⟨A, Aᵀ⟩ = tr(A²) and the determinant of the symmetric part.
    #[grad(a)]
    fn self_transposed_d64(a: &DMatrix<f64>) -> f64 {
        a.dot(&a.transpose()) + (a + a.transpose()).determinant()
    }

    /// A negative determinant through `abs().ln()`, `recip` and `powi`.
    #[grad(a)]
    fn negative_determinant_s64(a: &Matrix3<f64>) -> f64 {
        a.determinant().abs().ln() + a.determinant().recip() + a.determinant().powi(2)
    }

    /// Determinant, log-determinant and inverse of the same matrix.
    #[grad(a)]
    fn determinant_and_inverse_d64(a: &DMatrix<f64>) -> f64 {
        a.determinant() * a.clone().try_inverse().unwrap().sum() + a.determinant().ln()
    }

    /// 1×1 matrices: row·column, xᵀAx, xᵀx, and the inverse of a 1×1.
    #[grad(x, y, a)]
    fn one_by_one_d64(x: &DVector<f64>, y: &RowDVector<f64>, a: &DMatrix<f64>) -> f64 {
        (y * x).sum()
            + (x.transpose() * a * x).trace()
            + x.tr_mul(x).sum()
            + (y * x).try_inverse().unwrap().sum()
    }

    #[grad(x, a)]
    fn one_by_one_s32(x: Vector3<f32>, a: &Matrix3<f32>) -> f32 {
        (x.transpose() * a * x).trace() + (x.transpose() * x).try_inverse().unwrap().sum()
    }

    /// The largest static aliases.
    #[grad(a)]
    fn six_by_six_s64(a: &SMatrix<f64, 6, 6>) -> f64 {
        (a * a.transpose()).trace() + a.determinant()
    }

    #[test]
    fn cyclic() {
        let (a, b, c) = (dm(2, 3, 1), dm(3, 4, 2), dm(4, 2, 3));
        check!(cyclic_d64(&a, &b, &c) => cyclic_d64_grad[a, b, c]);
        check!(tr_dot_of_products_d64(&a, &b, &c) => tr_dot_of_products_d64_grad[a, b, c]);
    }

    #[test]
    fn transposed_products() {
        let (a, b) = (sm(1), sm(2));
        check!(transposed_products_s32(&a, b) => transposed_products_s32_grad[a, b]);
    }

    #[test]
    fn self_transposed() {
        let a = dm_well(3, 4);
        check!(self_transposed_d64(&a) => self_transposed_d64_grad[a]);
    }

    #[test]
    fn negative_determinant() {
        let a = Matrix3::new(0.1, 2.0, 0.3, 1.5, 0.2, 0.1, 0.3, 0.4, 1.0);
        assert!(a.determinant() < -1.0);
        check!(negative_determinant_s64(&a) => negative_determinant_s64_grad[a]);
    }

    #[test]
    fn determinant_and_inverse() {
        let a = dm_well(4, 3);
        check!(determinant_and_inverse_d64(&a) => determinant_and_inverse_d64_grad[a]);
    }

    #[test]
    fn one_by_one() {
        let (x, y, a) = (dv_pos(3, 1), dr_pos(3, 2), dm(3, 3, 3));
        check!(one_by_one_d64(&x, &y, &a) => one_by_one_d64_grad[x, y, a]);
        let (x, a) = (sm(1), sm(2));
        check!(one_by_one_s32(x, &a) => one_by_one_s32_grad[x, a]);
    }

    #[test]
    fn six_by_six() {
        let a = sm_well(3);
        check!(six_by_six_s64(&a) => six_by_six_s64_grad[a]);
    }
}

/// Products whose output has a few columns past a multiple of 8 (`R V` and `Rᵀ U` of a rank-10
/// factorisation, `X W` with 12 outputs, `Xᵀ G` for 9), which matgrad computes with loops of its
/// own on processors with AVX-512: against finite differences and against the closed form.
mod narrow_products {
    use super::*;

    #[grad(u, v)]
    fn factorisation(m: &DMatrix<f64>, u: &DMatrix<f64>, v: &DMatrix<f64>) -> f64 {
        (m - u * v.transpose()).norm_squared()
    }

    #[grad(w)]
    fn regression(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        (x * w - y).norm_squared()
    }

    #[test]
    fn rank_10_factorisation() {
        let (m, u, v) = (dm(41, 30, 1), dm(41, 10, 2), dm(30, 10, 3));
        check!(factorisation(&m, &u, &v) => factorisation_grad[u, v]);
        let (_, gu, gv) = factorisation_grad(&m, &u, &v);
        let r = &m - &u * v.transpose();
        assert_close(&gu, &(&r * &v * -2.0));
        assert_close(&gv, &(r.transpose() * &u * -2.0));
    }

    #[test]
    fn regressions_with_12_and_9_outputs() {
        for outputs in [12, 9] {
            let (x, w, y) = (dm(50, 20, 4), dm(20, outputs, 5), dm(50, outputs, 6));
            check!(regression(&x, &w, &y) => regression_grad[w]);
            let (_, gw) = regression_grad(&x, &w, &y);
            assert_close(&gw, &(x.transpose() * (&x * &w - &y) * 2.0));
        }
    }

    fn assert_close(x: &DMatrix<f64>, y: &DMatrix<f64>) {
        assert!((x - y).norm() <= 1e-12 * y.norm(), "{x}\n{y}");
    }
}
