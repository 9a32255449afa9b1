//! Arithmetic of the body language against central finite differences:
//! `+`, `-`, unary `-`, `*` (matrix·matrix, matrix·vector, scalar·matrix,
//! matrix·scalar, scalar·scalar) and `/` by a scalar (the divisor
//! differentiated too).
//!
//! Each operation has dynamic (`DMatrix`/`DVector`/`RowDVector`) and static
//! (`Matrix3`, `Matrix2x3`, `Vector3`, `RowVector3`, `SMatrix`, `SVector`)
//! cases in `f64` and `f32`, parameters by reference and by value, scalar
//! parameters among those differentiated. Losses reduce the result with
//! `norm_squared`, `sum` or `dot` against a constant weight so that the
//! incoming adjoint of the operation is not a constant.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{
    DMatrix, DVector, Matrix2x3, Matrix3, RowDVector, RowVector3, SMatrix, SVector, Vector3,
};

mod add {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        (a + b).dot(w) + (a + b + a).norm_squared()
    }

    #[grad(b, a)]
    fn d32(a: DVector<f32>, b: &DVector<f32>) -> f32 {
        (&a + b).norm_squared() + (b + a).sum()
    }

    #[grad(a, b, s)]
    fn s64(a: Matrix2x3<f64>, b: &Matrix2x3<f64>, s: f64) -> f64 {
        (a + b).norm_squared() * (s + 1.0) + (s + s).sin()
    }

    #[grad(a, b, s, t)]
    fn s32(a: &RowVector3<f32>, b: RowVector3<f32>, s: f32, t: &f32) -> f32 {
        (a + b).dot(&(b + a + a)) + s + t + (s + t) * s
    }

    #[grad(r, c)]
    fn drow(r: &RowDVector<f64>, c: RowDVector<f64>) -> f64 {
        (r + c).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, w) = (dm(3, 4, 1), dm(3, 4, 2), dm(3, 4, 3));
        check!(d64(&a, &b, &w) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, b) = (dv(5, 1), dv(5, 2));
        check!(d32(a.clone(), &b) => d32_grad[b, a]);
    }

    #[test]
    fn dynamic_row_f64() {
        let (r, c) = (dr(4, 1), dr(4, 2));
        check!(drow(&r, c.clone()) => drow_grad[r, c]);
    }

    #[test]
    fn static_f64() {
        let (a, b, s) = (sm(1), sm(2), sc(3));
        check!(s64(a, &b, s) => s64_grad[a, b, s]);
    }

    #[test]
    fn static_f32() {
        let (a, b, s, t) = (sm(1), sm(2), sc(3), sc(4));
        check!(s32(&a, b, s, &t) => s32_grad[a, b, s, t]);
    }
}

mod sub {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        (a - &b).dot(w) + (&b - a - a).norm_squared()
    }

    #[grad(x, y, s)]
    fn d32(x: &DVector<f32>, y: &DVector<f32>, s: f32) -> f32 {
        (x - y).norm_squared() * (s - 2.0) + (y - x).sum() - s
    }

    #[allow(clippy::eq_op)] // `a - a` on purpose: its gradient contributions cancel
    #[grad(a, b)]
    fn s64(a: &Matrix3<f64>, b: Matrix3<f64>) -> f64 {
        (a - b).norm_squared() + (b - a).sum() + (a - a).sum()
    }

    #[grad(v, u, s, t)]
    fn s32(v: Vector3<f32>, u: &Vector3<f32>, s: f32, t: f32) -> f32 {
        (v - u).dot(&(u - v * 2.0)) + (s - t) * (t - 1.0)
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, w) = (dm(4, 2, 1), dm(4, 2, 2), dm(4, 2, 3));
        check!(d64(&a, b.clone(), &w) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (x, y, s) = (dv(4, 1), dv(4, 2), sc(3));
        check!(d32(&x, &y, s) => d32_grad[x, y, s]);
    }

    #[test]
    fn static_f64() {
        let (a, b) = (sm(1), sm(2));
        check!(s64(&a, b) => s64_grad[a, b]);
    }

    #[test]
    fn static_f32() {
        let (v, u, s, t) = (sm(1), sm(2), sc(3), sc(4));
        check!(s32(v, &u, s, t) => s32_grad[v, u, s, t]);
    }
}

mod neg {
    use super::*;

    #[grad(a, s)]
    fn d64(a: &DMatrix<f64>, w: &DMatrix<f64>, s: f64) -> f64 {
        (-a).dot(w) + -(a.norm_squared()) * -s + (-(-a)).sum()
    }

    #[grad(a, b)]
    fn d32(a: DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
        (-(&a - b)).component_mul(&a).sum() - (-a).norm_squared()
    }

    #[grad(x, s)]
    fn s64(x: Vector3<f64>, s: f64) -> f64 {
        (-x * s).norm_squared() + (-s).exp()
    }

    #[grad(a, s)]
    fn s32(a: &SMatrix<f32, 2, 4>, w: &SMatrix<f32, 2, 4>, s: &f32) -> f32 {
        (-a).dot(w) - -s * s
    }

    #[test]
    fn dynamic_f64() {
        let (a, w, s) = (dm(3, 2, 1), dm(3, 2, 2), sc(3));
        check!(d64(&a, &w, s) => d64_grad[a, s]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, b) = (dm(2, 3, 1), dm(2, 3, 2));
        check!(d32(a.clone(), &b) => d32_grad[a, b]);
    }

    #[test]
    fn static_f64() {
        let (x, s) = (sm(1), sc(2));
        check!(s64(x, s) => s64_grad[x, s]);
    }

    #[test]
    fn static_f32() {
        let (a, w, s) = (sm(1), sm(2), sc(3));
        check!(s32(&a, &w, &s) => s32_grad[a, s]);
    }
}

/// Matrix · matrix, including non-square and outer products.
mod mul_matrix {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        (a * b).dot(w)
    }

    #[grad(a, b, c)]
    fn d64_chain(a: &DMatrix<f64>, b: DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
        (a * b * c).norm_squared()
    }

    #[grad(a, b)]
    fn d32(a: DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
        (a * b).norm_squared()
    }

    /// Column times row: an outer product.
    #[grad(u, r)]
    fn outer_d64(u: &DVector<f64>, r: &RowDVector<f64>, w: &DMatrix<f64>) -> f64 {
        (u * r).dot(w)
    }

    #[grad(a, b)]
    fn s64(a: Matrix2x3<f64>, b: &SMatrix<f64, 3, 4>, w: &SMatrix<f64, 2, 4>) -> f64 {
        (a * b).dot(w)
    }

    /// `A·A`: the same matrix on both sides.
    #[grad(a)]
    fn square_s64(a: &Matrix3<f64>) -> f64 {
        (a * a).norm_squared()
    }

    #[grad(a, b)]
    fn s32(a: &SMatrix<f32, 4, 2>, b: SMatrix<f32, 2, 3>) -> f32 {
        (a * b).norm_squared()
    }

    #[grad(u, r)]
    fn outer_s32(u: Vector3<f32>, r: RowVector3<f32>) -> f32 {
        (u * r).norm_squared() + (u * r).trace()
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, w) = (dm(3, 4, 1), dm(4, 2, 2), dm(3, 2, 3));
        check!(d64(&a, &b, &w) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_chain_f64() {
        let (a, b, c) = (dm(2, 3, 1), dm(3, 4, 2), dm(4, 2, 3));
        check!(d64_chain(&a, b.clone(), &c) => d64_chain_grad[a, b, c]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, b) = (dm(2, 3, 1), dm(3, 4, 2));
        check!(d32(a.clone(), &b) => d32_grad[a, b]);
    }

    #[test]
    fn dynamic_outer_f64() {
        let (u, r, w) = (dv(3, 1), dr(4, 2), dm(3, 4, 3));
        check!(outer_d64(&u, &r, &w) => outer_d64_grad[u, r]);
    }

    #[test]
    fn static_f64() {
        let (a, b, w) = (sm(1), sm(2), sm(3));
        check!(s64(a, &b, &w) => s64_grad[a, b]);
    }

    #[test]
    fn static_square_f64() {
        let a = sm(1);
        check!(square_s64(&a) => square_s64_grad[a]);
    }

    #[test]
    fn static_f32() {
        let (a, b) = (sm(1), sm(2));
        check!(s32(&a, b) => s32_grad[a, b]);
    }

    #[test]
    fn static_outer_f32() {
        let (u, r) = (sm(1), sm(2));
        check!(outer_s32(u, r) => outer_s32_grad[u, r]);
    }
}

/// Matrix · vector and row vector · matrix.
mod mul_vector {
    use super::*;

    #[grad(a, x)]
    fn d64(a: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
        (a * x).dot(y)
    }

    #[grad(r, a)]
    fn row_d64(r: RowDVector<f64>, a: &DMatrix<f64>) -> f64 {
        (r * a).norm_squared()
    }

    #[grad(a, x)]
    fn d32(a: DMatrix<f32>, x: DVector<f32>) -> f32 {
        (a * x).norm_squared()
    }

    #[grad(a, x)]
    fn s64(a: Matrix3<f64>, x: &Vector3<f64>) -> f64 {
        (a * x).norm_squared() + (a.transpose() * x).sum()
    }

    #[grad(a, x)]
    fn s32(a: &SMatrix<f32, 4, 3>, x: SVector<f32, 3>, y: &SVector<f32, 4>) -> f32 {
        (a * x).dot(y)
    }

    #[grad(r, a)]
    fn row_s32(r: &RowVector3<f32>, a: &Matrix2x3<f32>) -> f32 {
        (r * a.transpose()).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (a, x, y) = (dm(3, 4, 1), dv(4, 2), dv(3, 3));
        check!(d64(&a, &x, &y) => d64_grad[a, x]);
    }

    #[test]
    fn dynamic_row_f64() {
        let (r, a) = (dr(3, 1), dm(3, 4, 2));
        check!(row_d64(r.clone(), &a) => row_d64_grad[r, a]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, x) = (dm(4, 3, 1), dv(3, 2));
        check!(d32(a.clone(), x.clone()) => d32_grad[a, x]);
    }

    #[test]
    fn static_f64() {
        let (a, x) = (sm(1), sm(2));
        check!(s64(a, &x) => s64_grad[a, x]);
    }

    #[test]
    fn static_f32() {
        let (a, x, y) = (sm(1), sm(2), sm(3));
        check!(s32(&a, x, &y) => s32_grad[a, x]);
    }

    #[test]
    fn static_row_f32() {
        let (r, a) = (sm(1), sm(2));
        check!(row_s32(&r, &a) => row_s32_grad[r, a]);
    }
}

/// Scalar · matrix and matrix · scalar, the scalar differentiated too.
mod mul_scalar_matrix {
    use super::*;

    #[grad(a, s)]
    fn d64(s: f64, a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        (s * a).dot(w) + (2.0 * a * s).norm_squared()
    }

    #[grad(s, a)]
    fn right_d64(a: DVector<f64>, s: f64) -> f64 {
        (&a * s).norm_squared()
    }

    #[grad(a, s)]
    fn right_d64_literal(a: &DVector<f64>, s: f64) -> f64 {
        (a * s * 0.5).norm_squared() + (a * 3.0).sum()
    }

    #[grad(a, s)]
    fn d32(a: &DMatrix<f32>, s: f32) -> f32 {
        (a * s).norm_squared() + (s * a * s).sum()
    }

    #[grad(a, s, t)]
    fn s64(a: Matrix2x3<f64>, s: f64, t: f64) -> f64 {
        (s * a).norm_squared() + (a * t).sum() + (s * (a * t)).sum()
    }

    #[grad(x, s)]
    fn s32(x: &SVector<f32, 4>, s: f32) -> f32 {
        (s * x).norm_squared() + (x * s).sum()
    }

    /// A scaled parameter added to or subtracted from a matrix (`K + I σ²`),
    /// on either side, onto a parameter or onto a temporary: one pass each
    /// (`__private::add_scaled`), the gradient as for `+` and `−` apart.
    #[grad(a, s)]
    fn added(a: &DMatrix<f64>, b: &DMatrix<f64>, s: f64) -> f64 {
        (a + b * s).norm_squared()
            + (b * 0.5 + a).sum()
            + (a - b * (s * s)).norm_squared()
            + (a.component_mul(a) - b * 3.0).sum()
    }

    #[test]
    fn dynamic_f64() {
        let (s, a, w) = (sc(1), dm(3, 2, 2), dm(3, 2, 3));
        check!(d64(s, &a, &w) => d64_grad[a, s]);
        let b = dm(3, 2, 4);
        check!(added(&a, &b, s) => added_grad[a, s]);
        let (value, _, _) = added_grad(&a, &b, s);
        assert_eq!(value, added(&a, &b, s));
    }

    #[test]
    fn dynamic_right_f64() {
        let (a, s) = (dv(4, 1), sc(2));
        check!(right_d64(a.clone(), s) => right_d64_grad[s, a]);
        check!(right_d64_literal(&a, s) => right_d64_literal_grad[a, s]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, s) = (dm(2, 4, 1), sc(2));
        check!(d32(&a, s) => d32_grad[a, s]);
    }

    #[test]
    fn static_f64() {
        let (a, s, t) = (sm(1), sc(2), sc(3));
        check!(s64(a, s, t) => s64_grad[a, s, t]);
    }

    #[test]
    fn static_f32() {
        let (x, s) = (sm(1), sc(2));
        check!(s32(&x, s) => s32_grad[x, s]);
    }
}

/// Scalar · scalar, on parameters and on reductions.
mod mul_scalar_scalar {
    use super::*;

    #[grad(s, t)]
    fn f64s(s: f64, t: &f64) -> f64 {
        s * t * s + 3.0 * t
    }

    #[grad(s, t)]
    fn f32s(s: &f32, t: f32) -> f32 {
        s * t * t * 0.5 + t * s
    }

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        a.sum() * b.norm_squared() * a.sum()
    }

    #[grad(a, s)]
    fn d32(a: &DVector<f32>, s: f32) -> f32 {
        a.norm_squared() * s * a.sum()
    }

    #[grad(a, b)]
    fn s64(a: Matrix3<f64>, b: Matrix3<f64>) -> f64 {
        a.trace() * b.sum() + a.norm_squared() * b.trace()
    }

    #[grad(v, s)]
    fn s32(v: &Vector3<f32>, s: &f32) -> f32 {
        v.sum() * v.sum() * s
    }

    #[test]
    fn scalars_f64() {
        let (s, t) = (sc(1), sc(2));
        check!(f64s(s, &t) => f64s_grad[s, t]);
    }

    #[test]
    fn scalars_f32() {
        let (s, t) = (sc(1), sc(2));
        check!(f32s(&s, t) => f32s_grad[s, t]);
    }

    #[test]
    fn dynamic_f64() {
        let (a, b) = (dm(2, 3, 1), dm(3, 3, 2));
        check!(d64(&a, &b) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, s) = (dv(4, 1), sc(2));
        check!(d32(&a, s) => d32_grad[a, s]);
    }

    #[test]
    fn static_f64() {
        let (a, b) = (sm(1), sm(2));
        check!(s64(a, b) => s64_grad[a, b]);
    }

    #[test]
    fn static_f32() {
        let (v, s) = (sm(1), sc(2));
        check!(s32(&v, &s) => s32_grad[v, s]);
    }
}

/// Matrix / scalar, the divisor differentiated too.
mod div_matrix {
    use super::*;

    #[grad(a, s)]
    fn d64(a: &DMatrix<f64>, s: f64, w: &DMatrix<f64>) -> f64 {
        (a / s).dot(w) + (a / 2.0).norm_squared()
    }

    #[grad(s, a)]
    fn d32(a: DVector<f32>, s: f32) -> f32 {
        (&a / s).norm_squared() + (a / (s * s)).sum()
    }

    #[grad(a, s, t)]
    fn s64(a: &Matrix2x3<f64>, s: f64, t: f64) -> f64 {
        (a / s / t).norm_squared() + (a / (s + t)).sum()
    }

    #[grad(r, s)]
    fn s32(r: RowVector3<f32>, s: f32) -> f32 {
        (r / s).dot(&r) + (r * 2.0 / s).sum()
    }

    #[test]
    fn dynamic_f64() {
        let (a, s, w) = (dm(3, 4, 1), sc(2), dm(3, 4, 3));
        check!(d64(&a, s, &w) => d64_grad[a, s]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, s) = (dv(5, 1), sc(2));
        check!(d32(a.clone(), s) => d32_grad[s, a]);
    }

    #[test]
    fn static_f64() {
        let (a, s, t) = (sm(1), sc(2), sc(3));
        check!(s64(&a, s, t) => s64_grad[a, s, t]);
    }

    #[test]
    fn static_f32() {
        let (r, s) = (sm(1), sc(2));
        check!(s32(r, s) => s32_grad[r, s]);
    }
}

/// Scalar / scalar: literals, parameters and reductions on either side.
mod div_scalar {
    use super::*;

    #[grad(s, t)]
    fn f64s(s: f64, t: f64) -> f64 {
        s / t + 1.0 / s + t / 4.0 + (s * t) / (s + t)
    }

    #[grad(t, s)]
    fn f32s(s: &f32, t: &f32) -> f32 {
        s / t / t + 2.0 / (s * t)
    }

    #[grad(a, b, s)]
    fn d64(a: &DMatrix<f64>, b: DMatrix<f64>, s: f64) -> f64 {
        a.norm_squared() / b.norm_squared() + s / a.sum() + a.sum() / s
    }

    #[grad(x, s)]
    fn d32(x: &DVector<f32>, s: f32) -> f32 {
        x.norm_squared() / s + s / (1.0 + x.norm_squared())
    }

    #[grad(a, b)]
    fn s64(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
        a.trace() / b.norm_squared() + 1.0 / a.norm_squared()
    }

    #[grad(x, s)]
    fn s32(x: SVector<f32, 3>, s: f32) -> f32 {
        x.norm_squared() / (s * s) + x.sum() / 3.0
    }

    #[test]
    fn scalars_f64() {
        let (s, t) = (sc(1), sc(2));
        check!(f64s(s, t) => f64s_grad[s, t]);
    }

    #[test]
    fn scalars_f32() {
        let (s, t) = (sc(1), sc(2));
        check!(f32s(&s, &t) => f32s_grad[t, s]);
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, s) = (dm_pos(2, 3, 1), dm(3, 2, 2), sc(3));
        check!(d64(&a, b.clone(), s) => d64_grad[a, b, s]);
    }

    #[test]
    fn dynamic_f32() {
        let (x, s) = (dv(4, 1), sc(2));
        check!(d32(&x, s) => d32_grad[x, s]);
    }

    #[test]
    fn static_f64() {
        let (a, b) = (sm_pos(1), sm(2));
        check!(s64(&a, &b) => s64_grad[a, b]);
    }

    #[test]
    fn static_f32() {
        let (x, s) = (sm(1), sc(2));
        check!(s32(x, s) => s32_grad[x, s]);
    }
}

/// Literal forms (suffixes, exponents, underscores), the precedence of unary
/// minus against methods and `/`, and parameters whose gradients are one and
/// the same value.
mod literals_and_precedence {
    use super::*;

    #[grad(a, s)]
    fn literals_d64(a: &DMatrix<f64>, s: f64) -> f64 {
        (a * 2f64).sum()
            + (a * 2.5e-1).sum() * 1_000.0
            + (a * 0.5_f64).norm()
            + s.powi(2) * 1e0
            + 3.0f64 * s
    }

    #[grad(a)]
    fn literals_s32(a: &Matrix3<f32>) -> f32 {
        (a * 2f32).sum() + (a * 0.5_f32).norm() + 1e-1 * a.sum()
    }

    #[grad(a, s)]
    fn minus_d64(a: &DMatrix<f64>, s: f64) -> f64 {
        -a.norm() * s - -a.sum() + -(a * s).sum() / -s
    }

    /// Both gradients are the same matrix of ones (the dimensions unify).
    #[grad(a, b)]
    fn shared_gradient_d64(a: DMatrix<f64>, b: DMatrix<f64>) -> f64 {
        (&a + &b).sum() + (a - b).sum() * 0.5
    }

    #[grad(a, b)]
    fn shared_gradient_s64(a: Matrix3<f64>, b: Matrix3<f64>) -> f64 {
        (a + b).sum()
    }

    #[test]
    fn literals() {
        let (a, s) = (dm(2, 3, 1), sc(2));
        check!(literals_d64(&a, s) => literals_d64_grad[a, s]);
        let a = sm(1);
        check!(literals_s32(&a) => literals_s32_grad[a]);
    }

    #[test]
    fn minus() {
        let (a, s) = (dm(2, 3, 1), sc(2));
        check!(minus_d64(&a, s) => minus_d64_grad[a, s]);
    }

    #[test]
    fn shared_gradient() {
        let (a, b) = (dm(2, 3, 1), dm(2, 3, 2));
        check!(shared_gradient_d64(a.clone(), b.clone()) => shared_gradient_d64_grad[a, b]);
        let (a, b) = (sm(1), sm(2));
        let (_, ga, gb) = shared_gradient_s64_grad(a, b);
        assert_eq!((ga, gb), (Matrix3::repeat(1.0), Matrix3::repeat(1.0)));
        check!(shared_gradient_s64(a, b) => shared_gradient_s64_grad[a, b]);
    }
}
