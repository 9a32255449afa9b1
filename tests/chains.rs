//! Chains of five or more operations, with values used several times
//! (fan-out), checked against central finite differences: a residual used in
//! four places, a two-layer tanh network, a Gaussian negative log-likelihood,
//! a quadratic form, matrix factorisation, logistic and softmax losses, a
//! ridge solve through an inverse; `let` bindings (typed, untyped, shadowed),
//! `&x` and `.clone()`; and parameters the value does not depend on, whose
//! gradient must be exactly zero.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{
    DMatrix, DVector, Matrix2, Matrix3, SMatrix, SVector, Vector2, Vector3, Vector4,
};

/// `r = Xw − y` used four times: `Σ (r∘r) + ⟨r, r⟩ ‖r‖`.
mod residual_fan_out {
    use super::*;

    #[grad(w, x, y)]
    fn d64(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
        let r = x * w - y;
        let s = r.component_mul(&r);
        s.sum() + r.dot(&r) * r.norm()
    }

    #[grad(w, x, y)]
    fn d32(w: DVector<f32>, x: &DMatrix<f32>, y: DVector<f32>) -> f32 {
        let r = x * w - y;
        let s = r.component_mul(&r);
        s.sum() + r.dot(&r) * r.norm()
    }

    #[grad(w, x, y)]
    fn s64(w: Vector3<f64>, x: &SMatrix<f64, 4, 3>, y: &Vector4<f64>) -> f64 {
        let r = x * w - y;
        let s = r.component_mul(&r);
        s.sum() + r.dot(&r) * r.norm()
    }

    #[grad(x, w)]
    fn s32(w: &Vector3<f32>, x: SMatrix<f32, 4, 3>, y: &SVector<f32, 4>) -> f32 {
        let r = x * w - y;
        let s = r.component_mul(&r);
        s.sum() + r.dot(&r) * r.norm()
    }

    #[test]
    fn dynamic_f64() {
        let (w, x, y) = (dv(3, 1), dm(5, 3, 2), dv(5, 3));
        check!(d64(&w, &x, &y) => d64_grad[w, x, y]);
        // By hand: f = ρ + ρ^{3/2} with ρ = ‖r‖², so ∇_w f = (2 + 3‖r‖) Xᵀr.
        let r = &x * &w - &y;
        let expected = x.tr_mul(&r) * (2.0 + 3.0 * r.norm());
        let (_, dw, _, _) = d64_grad(&w, &x, &y);
        assert!((dw - expected).norm() < 1e-12);
    }

    #[test]
    fn dynamic_f32() {
        let (w, x, y) = (dv(3, 1), dm(5, 3, 2), dv(5, 3));
        check!(d32(w.clone(), &x, y.clone()) => d32_grad[w, x, y]);
    }

    #[test]
    fn static_f64() {
        let (w, x, y) = (sm(1), sm(2), sm(3));
        check!(s64(w, &x, &y) => s64_grad[w, x, y]);
    }

    #[test]
    fn static_f32() {
        let (w, x, y) = (sm(1), sm(2), sm(3));
        check!(s32(&w, x, &y) => s32_grad[x, w]);
    }
}

/// `‖W₂ tanh.(W₁x + b) − y‖²`, all weights and the input differentiated.
mod mlp {
    use super::*;

    #[grad(w1, b, w2, x)]
    fn d64(
        w1: &DMatrix<f64>,
        b: &DVector<f64>,
        w2: &DMatrix<f64>,
        x: &DVector<f64>,
        y: &DVector<f64>,
    ) -> f64 {
        let h = (w1 * x + b).map(|v| v.tanh());
        let o = w2 * h - y;
        o.norm_squared()
    }

    #[grad(w1, w2)]
    fn d32(w1: DMatrix<f32>, w2: DMatrix<f32>, x: &DVector<f32>, y: &DVector<f32>) -> f32 {
        let h = (w1 * x).map(|v| v.tanh());
        let o = w2 * h - y;
        o.norm_squared()
    }

    #[grad(w1, b, w2, x)]
    fn s64(
        w1: SMatrix<f64, 4, 3>,
        b: &Vector4<f64>,
        w2: &SMatrix<f64, 2, 4>,
        x: Vector3<f64>,
        y: &Vector2<f64>,
    ) -> f64 {
        let h = (w1 * x + b).map(|v| v.tanh());
        let o = w2 * h - y;
        o.norm_squared()
    }

    /// Two hidden layers, a sigmoid and a squared-error output.
    #[grad(w1, w2, w3)]
    fn s32(
        w1: &SMatrix<f32, 4, 3>,
        w2: &SMatrix<f32, 4, 4>,
        w3: SMatrix<f32, 2, 4>,
        x: &Vector3<f32>,
        y: &Vector2<f32>,
    ) -> f32 {
        let h1 = (w1 * x).map(|v| v.tanh());
        let h2 = (w2 * h1).map(|v| 1.0 / (1.0 + (-v).exp()));
        (w3 * h2 - y).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (w1, b, w2, x, y) = (dm(4, 3, 1), dv(4, 2), dm(2, 4, 3), dv(3, 4), dv(2, 5));
        check!(d64(&w1, &b, &w2, &x, &y) => d64_grad[w1, b, w2, x]);
    }

    #[test]
    fn dynamic_f32() {
        let (w1, w2, x, y) = (dm(5, 3, 1), dm(2, 5, 2), dv(3, 3), dv(2, 4));
        check!(d32(w1.clone(), w2.clone(), &x, &y) => d32_grad[w1, w2]);
    }

    #[test]
    fn static_f64() {
        let (w1, b, w2, x, y) = (sm(1), sm(2), sm(3), sm(4), sm(5));
        check!(s64(w1, &b, &w2, x, &y) => s64_grad[w1, b, w2, x]);
    }

    #[test]
    fn static_f32() {
        let (w1, w2, w3, x, y) = (sm(1), sm(2), sm(3), sm(4), sm(5));
        check!(s32(&w1, &w2, w3, &x, &y) => s32_grad[w1, w2, w3]);
    }
}

/// Gaussian negative log-likelihood: `ln det S + tr(S⁻¹A) + xᵀS⁻¹x`, S
/// symmetric positive definite, the inverse used twice.
mod gaussian_nll {
    use super::*;

    #[grad(s, a, x)]
    fn d64(s: &DMatrix<f64>, a: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
        let si = s.clone().try_inverse().unwrap();
        s.determinant().ln() + (&si * a).trace() + x.dot(&(&si * x))
    }

    #[grad(s, a)]
    fn d32(s: DMatrix<f32>, a: &DMatrix<f32>) -> f32 {
        s.determinant().ln() + (s.try_inverse().unwrap() * a).trace()
    }

    #[grad(s, a, x)]
    fn s64(s: Matrix3<f64>, a: &Matrix3<f64>, x: &Vector3<f64>) -> f64 {
        let si = s.try_inverse().expect("S is positive definite");
        (s.determinant().ln() + (si * a).trace() + x.dot(&(si * x))) * 0.5
    }

    #[grad(s, a)]
    fn s32(s: &SMatrix<f32, 4, 4>, a: &SMatrix<f32, 4, 4>) -> f32 {
        s.determinant().ln() + (s.try_inverse().unwrap() * a).trace()
    }

    #[test]
    fn dynamic_f64() {
        let (s, a, x) = (dm_spd(4, 1), dm_spd(4, 2), dv(4, 3));
        check!(d64(&s, &a, &x) => d64_grad[s, a, x]);
        // By hand (S symmetric): ∇_S = S⁻¹ − S⁻¹AᵀS⁻¹ − S⁻¹xxᵀS⁻¹, ∇_A = S⁻¹.
        let si = s.clone().try_inverse().unwrap();
        let sx = &si * &x;
        let expected_s = &si - &si * a.transpose() * &si - &sx * sx.transpose();
        let (_, ds, da, _) = d64_grad(&s, &a, &x);
        assert!((ds - expected_s).norm() < 1e-12);
        assert!((da - si).norm() < 1e-12);
    }

    #[test]
    fn dynamic_f32() {
        let (s, a) = (dm_spd(3, 1), dm_spd(3, 2));
        check!(d32(s.clone(), &a) => d32_grad[s, a]);
    }

    #[test]
    fn static_f64() {
        let (s, a, x) = (sm_spd(1), sm_spd(2), sm(3));
        check!(s64(s, &a, &x) => s64_grad[s, a, x]);
    }

    #[test]
    fn static_f32() {
        let (s, a) = (sm_spd(1), sm_spd(2));
        check!(s32(&s, &a) => s32_grad[s, a]);
    }
}

/// `tr(XᵀAX)`: ∇_X = (A + Aᵀ)X, ∇_A = XXᵀ.
mod quadratic_form {
    use super::*;

    #[grad(x, a)]
    fn d64(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
        (x.transpose() * a * x).trace()
    }

    #[grad(x, a)]
    fn d32(x: DMatrix<f32>, a: DMatrix<f32>) -> f32 {
        (x.transpose() * a * &x).trace()
    }

    #[grad(x, a)]
    fn s64(x: &SMatrix<f64, 4, 2>, a: SMatrix<f64, 4, 4>) -> f64 {
        (x.transpose() * a * x).trace()
    }

    #[grad(x, a)]
    fn s32(x: Matrix3<f32>, a: &Matrix3<f32>) -> f32 {
        (x.transpose() * a * x).trace()
    }

    #[test]
    fn dynamic_f64() {
        let (x, a) = (dm(4, 2, 1), dm(4, 4, 2));
        check!(d64(&x, &a) => d64_grad[x, a]);
        let (_, dx, da) = d64_grad(&x, &a);
        assert!((dx - (&a + a.transpose()) * &x).norm() < 1e-12);
        assert!((da - &x * x.transpose()).norm() < 1e-12);
    }

    #[test]
    fn dynamic_f32() {
        let (x, a) = (dm(4, 3, 1), dm(4, 4, 2));
        check!(d32(x.clone(), a.clone()) => d32_grad[x, a]);
    }

    #[test]
    fn static_f64() {
        let (x, a) = (sm(1), sm(2));
        check!(s64(&x, a) => s64_grad[x, a]);
    }

    #[test]
    fn static_f32() {
        let (x, a) = (sm(1), sm(2));
        check!(s32(x, &a) => s32_grad[x, a]);
    }
}

/// `‖M − UVᵀ‖² + λ(‖U‖² + ‖V‖²)`.
mod matrix_factorisation {
    use super::*;

    #[grad(u, v, lambda, m)]
    fn d64(m: &DMatrix<f64>, u: &DMatrix<f64>, v: &DMatrix<f64>, lambda: f64) -> f64 {
        (m - u * v.transpose()).norm_squared() + lambda * (u.norm_squared() + v.norm_squared())
    }

    #[grad(u, v)]
    fn d32(m: &DMatrix<f32>, u: DMatrix<f32>, v: DMatrix<f32>) -> f32 {
        (m - u * v.transpose()).norm_squared()
    }

    #[grad(u, v, lambda)]
    fn s64(
        m: &SMatrix<f64, 4, 3>,
        u: SMatrix<f64, 4, 2>,
        v: &SMatrix<f64, 3, 2>,
        lambda: f64,
    ) -> f64 {
        (m - u * v.transpose()).norm_squared() + lambda * (u.norm_squared() + v.norm_squared())
    }

    #[grad(v, u)]
    fn s32(m: SMatrix<f32, 3, 4>, u: &SMatrix<f32, 3, 2>, v: &SMatrix<f32, 4, 2>) -> f32 {
        (m - u * v.transpose()).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (m, u, v, lambda) = (dm(5, 4, 1), dm(5, 2, 2), dm(4, 2, 3), sc(4));
        check!(d64(&m, &u, &v, lambda) => d64_grad[u, v, lambda, m]);
    }

    #[test]
    fn dynamic_f32() {
        let (m, u, v) = (dm(4, 3, 1), dm(4, 2, 2), dm(3, 2, 3));
        check!(d32(&m, u.clone(), v.clone()) => d32_grad[u, v]);
    }

    #[test]
    fn static_f64() {
        let (m, u, v, lambda) = (sm(1), sm(2), sm(3), sc(4));
        check!(s64(&m, u, &v, lambda) => s64_grad[u, v, lambda]);
    }

    #[test]
    fn static_f32() {
        let (m, u, v) = (sm(1), sm(2), sm(3));
        check!(s32(m, &u, &v) => s32_grad[v, u]);
    }
}

/// Logistic regression with L2 penalty, and softmax cross-entropy through a
/// log-sum-exp.
mod classification {
    use super::*;

    #[grad(w, lambda)]
    fn logistic_d64(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
        let z = x * w;
        z.map(|v| (1.0 + v.exp()).ln()).sum() - z.dot(y) + 0.5 * lambda * w.norm_squared()
    }

    #[grad(w)]
    fn logistic_s32(w: &Vector3<f32>, x: &SMatrix<f32, 5, 3>, y: &SVector<f32, 5>) -> f32 {
        let z = x * w;
        z.map(|v| (1.0 + v.exp()).ln()).sum() - z.dot(y)
    }

    #[grad(w, x)]
    fn softmax_d32(w: &DMatrix<f32>, x: &DVector<f32>, y: &DVector<f32>) -> f32 {
        let z = w * x;
        let e = z.map(|v| v.exp());
        let p = &e / e.sum();
        -(p.map(|v| v.ln()).dot(y))
    }

    #[grad(w, x)]
    fn softmax_s64(w: SMatrix<f64, 4, 3>, x: Vector3<f64>, y: &Vector4<f64>) -> f64 {
        let z = w * x;
        z.map(|v| v.exp()).sum().ln() - z.dot(y)
    }

    #[test]
    fn logistic_dynamic_f64() {
        let (w, x, lambda) = (dv(3, 1), dm(6, 3, 2), sc(3));
        let y = DVector::from_fn(6, |i, _| (i % 2) as f64);
        check!(logistic_d64(&w, &x, &y, lambda) => logistic_d64_grad[w, lambda]);
    }

    #[test]
    fn logistic_static_f32() {
        let (w, x, y) = (sm(1), sm(2), sm_pos(3));
        check!(logistic_s32(&w, &x, &y) => logistic_s32_grad[w]);
    }

    #[test]
    fn softmax_dynamic_f32() {
        let (w, x, y) = (dm(4, 3, 1), dv(3, 2), dv_pos(4, 3));
        check!(softmax_d32(&w, &x, &y) => softmax_d32_grad[w, x]);
    }

    #[test]
    fn softmax_static_f64() {
        let (w, x, y) = (sm(1), sm(2), sm_pos(3));
        check!(softmax_s64(w, x, &y) => softmax_s64_grad[w, x]);
    }
}

/// Ridge regression solved in closed form, then its training error:
/// `β = (XᵀX + λI)⁻¹Xᵀy`, `‖Xβ − y‖²`; X appears four times.
mod ridge_solve {
    use super::*;

    #[grad(x, y, lambda)]
    fn d64(x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64, eye: &DMatrix<f64>) -> f64 {
        let g = x.tr_mul(x) + eye * lambda;
        let beta = g.try_inverse().unwrap() * x.tr_mul(y);
        (x * beta - y).norm_squared()
    }

    #[grad(x, lambda)]
    fn s32(x: SMatrix<f32, 5, 2>, y: &SVector<f32, 5>, lambda: f32, eye: &Matrix2<f32>) -> f32 {
        let g = x.tr_mul(&x) + eye * lambda;
        let beta = g.try_inverse().unwrap() * x.tr_mul(y);
        (x * beta - y).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (x, y, lambda) = (dm(6, 3, 1), dv(6, 2), sc(3));
        let eye = DMatrix::identity(3, 3);
        check!(d64(&x, &y, lambda, &eye) => d64_grad[x, y, lambda]);
    }

    #[test]
    fn static_f32() {
        let (x, y, lambda) = (sm(1), sm(2), sc(3));
        let eye = Matrix2::identity();
        check!(s32(x, &y, lambda, &eye) => s32_grad[x, lambda]);
    }
}

/// `let` with and without type annotations, shadowing, `&x` and `.clone()`.
mod bindings {
    use super::*;

    #[grad(w, y)]
    fn typed_d64(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
        let r: DVector<f64> = x * w - y;
        let n: f64 = r.norm_squared();
        let m = &r;
        n + m.sum()
    }

    #[allow(clippy::needless_borrow)] // `&d` is written on purpose: `&x` is transparent
    #[grad(a, b)]
    fn clone_d32(a: &DMatrix<f32>, b: DMatrix<f32>) -> f32 {
        let c = a.clone();
        let d: DMatrix<f32> = b.clone();
        (&c * a.clone()).trace() + (&d).norm() + (c.clone() + &b).dot(&(&d * 2.0))
    }

    #[allow(clippy::needless_borrow)] // `&&a` on purpose
    #[grad(a, b)]
    fn nested_refs_d64(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        (&(a * b)).trace() + a.clone().clone().sum() + (&&a).norm() + (b).sum()
    }

    #[grad(w, s)]
    fn shadowed_s64(w: Vector3<f64>, x: &Matrix3<f64>, s: f64) -> f64 {
        let r = x * w;
        let r = r * s;
        let r: Vector3<f64> = r - w;
        let s = s * r.norm();
        s + r.sum()
    }

    #[allow(clippy::needless_borrow, clippy::op_ref)] // `&x` on purpose
    #[grad(a, t)]
    fn typed_s32(a: SMatrix<f32, 2, 3>, t: f32) -> f32 {
        let g: SMatrix<f32, 2, 2> = a * a.transpose();
        let u: f32 = t;
        let v = u * u;
        let h = &g * v;
        h.trace() + (&a).sum() * u
    }

    #[test]
    fn typed_dynamic_f64() {
        let (w, x, y) = (dv(3, 1), dm(4, 3, 2), dv(4, 3));
        check!(typed_d64(&w, &x, &y) => typed_d64_grad[w, y]);
    }

    #[test]
    fn nested_refs_dynamic_f64() {
        let (a, b) = (dm(3, 3, 1), dm(3, 3, 2));
        check!(nested_refs_d64(&a, &b) => nested_refs_d64_grad[a, b]);
    }

    #[test]
    fn clone_dynamic_f32() {
        let (a, b) = (dm(3, 3, 1), dm(3, 3, 2));
        check!(clone_d32(&a, b.clone()) => clone_d32_grad[a, b]);
    }

    #[test]
    fn shadowed_static_f64() {
        let (w, x, s) = (sm(1), sm(2), sc(3));
        check!(shadowed_s64(w, &x, s) => shadowed_s64_grad[w, s]);
    }

    #[test]
    fn typed_static_f32() {
        let (a, t) = (sm(1), sc(2));
        check!(typed_s32(a, t) => typed_s32_grad[a, t]);
    }
}

/// Parameters the value does not depend on get a gradient of exact zeros, of
/// the right shape.
mod independent_parameters {
    use super::*;

    /// `b` and `s` are not used at all.
    #[grad(a, _b, _s)]
    fn unused_d64(a: &DMatrix<f64>, _b: &DMatrix<f64>, _s: f64) -> f64 {
        a.norm_squared()
    }

    /// `b` only feeds a binding that is never used. (By reference: the same
    /// with `b` by value does not compile yet, see `pending_by_value_param.rs`.)
    #[grad(b, a)]
    fn dead_binding_s64(a: Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
        let _unused = b.determinant() * 2.0;
        a.trace()
    }

    /// `b` enters the computation but cancels exactly.
    #[allow(clippy::eq_op)] // `s - s` on purpose
    #[grad(a, b, s)]
    fn cancelling_d32(a: &DVector<f32>, b: DVector<f32>, s: f32) -> f32 {
        (a + &b - &b).norm_squared() + (s - s) * a.sum() + b.sum() * 0.0
    }

    /// Only scalars, one of them unused.
    #[grad(s, _t)]
    fn scalars_s32(s: f32, _t: &f32) -> f32 {
        s * s
    }

    #[test]
    fn unused_dynamic_f64() {
        let (a, b, s) = (dm(3, 2, 1), dm(4, 5, 2), sc(3));
        let (value, ga, gb, gs) = unused_d64_grad(&a, &b, s);
        assert_eq!(value, unused_d64(&a, &b, s));
        assert_eq!(ga, &a * 2.0);
        assert_eq!(gb, DMatrix::zeros(4, 5));
        assert_eq!(gs, 0.0);
        let (_b, _s) = (b, s);
        check!(unused_d64(&a, &_b, _s) => unused_d64_grad[a, _b, _s]);
    }

    #[test]
    fn dead_binding_static_f64() {
        let (a, b) = (sm_well(1), sm_well(2));
        let (_, gb, ga) = dead_binding_s64_grad(a, &b);
        assert_eq!(gb, Matrix3::zeros());
        assert_eq!(ga, Matrix3::identity());
        check!(dead_binding_s64(a, &b) => dead_binding_s64_grad[b, a]);
    }

    #[test]
    fn cancelling_dynamic_f32() {
        let (a, b, s) = (dv(4, 1), dv(4, 2), sc(3));
        let (_, _, gb, gs) = cancelling_d32_grad(&a, b.clone(), s);
        assert_eq!(gb.shape(), (4, 1));
        assert!(gb.iter().all(|&g| g.abs() < 1e-6), "{gb}");
        assert!(gs.abs() < 1e-6, "{gs}");
        check!(cancelling_d32(&a, b.clone(), s) => cancelling_d32_grad[a, b, s]);
    }

    #[test]
    fn scalars_static_f32() {
        let (s, _t) = (sc(1), sc(2));
        assert_eq!(scalars_s32_grad(s, &_t), (s * s, 2.0 * s, 0.0));
        check!(scalars_s32(s, &_t) => scalars_s32_grad[s, _t]);
    }
}

/// Static and dynamic parameters in one function: dynamic dimensions learn
/// their value from the static ones they meet, and each gradient still has its
/// own parameter's type. (Parameters by reference: the same functions with
/// matrices by value do not compile yet, see `pending_by_value_param.rs`.)
mod mixed_static_dynamic {
    use super::*;

    #[grad(a, b)]
    fn product_f64(a: &DMatrix<f64>, b: &Matrix3<f64>) -> f64 {
        (a * b).norm_squared()
    }

    #[grad(x, y, s)]
    fn vectors_f64(x: &DVector<f64>, y: Vector3<f64>, s: f64) -> f64 {
        (x + y * s).norm_squared() + x.dot(&y)
    }

    #[grad(a, x, w)]
    fn chain_f32(a: &SMatrix<f32, 4, 3>, x: &DVector<f32>, w: &DMatrix<f32>) -> f32 {
        let h = (a * x).map(|v| v.tanh());
        (w * h).norm_squared() + x.tr_mul(&a.tr_mul(&h)).sum()
    }

    #[test]
    fn product() {
        let (a, b) = (dm(4, 3, 1), sm(2));
        check!(product_f64(&a, &b) => product_f64_grad[a, b]);
    }

    #[test]
    fn vectors() {
        let (x, y, s) = (dv(3, 1), sm(2), sc(3));
        check!(vectors_f64(&x, y, s) => vectors_f64_grad[x, y, s]);
    }

    #[test]
    fn chain() {
        let (a, x, w) = (sm(1), dv(3, 2), dm(2, 4, 3));
        check!(chain_f32(&a, &x, &w) => chain_f32_grad[a, x, w]);
    }
}

/// Gradients that are a parameter, a literal or a constant: the result is
/// returned without computation, by reference and by value.
mod direct_gradients {
    use super::*;

    #[grad(s)]
    fn identity(s: f64) -> f64 {
        s
    }

    #[grad(s, t)]
    fn product(s: f64, t: &f64) -> f64 {
        s * t
    }

    #[grad(s)]
    fn literal(s: &f32) -> f32 {
        3.0 * s
    }

    #[grad(a, b)]
    fn dot_ref(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        a.dot(b)
    }

    #[grad(b, a)]
    fn dot_value(a: Matrix3<f32>, b: Matrix3<f32>) -> f32 {
        a.dot(&b)
    }

    #[grad(a, b)]
    fn sums(a: DVector<f64>, b: &Vector3<f64>) -> f64 {
        a.sum() + b.sum()
    }

    /// Deref of a scalar taken by reference, to scale a matrix.
    #[grad(a, s)]
    fn deref(a: &DMatrix<f64>, s: &f64) -> f64 {
        (a * *s).sum()
    }

    #[test]
    fn scalars() {
        let (s, t) = (sc(1), sc(2));
        assert_eq!(identity_grad(s), (s, 1.0));
        check!(identity(s) => identity_grad[s]);
        assert_eq!(product_grad(s, &t), (s * t, t, s));
        check!(product(s, &t) => product_grad[s, t]);
        let s = sc(3);
        assert_eq!(literal_grad(&s), (3.0 * s, 3.0));
        check!(literal(&s) => literal_grad[s]);
    }

    #[test]
    fn matrices() {
        let (a, b) = (dm(2, 3, 1), dm(2, 3, 2));
        assert_eq!(dot_ref_grad(&a, &b), (a.dot(&b), b.clone(), a.clone()));
        check!(dot_ref(&a, &b) => dot_ref_grad[a, b]);

        let (a, b) = (sm(1), sm(2));
        assert_eq!(dot_value_grad(a, b), (a.dot(&b), a, b));
        check!(dot_value(a, b) => dot_value_grad[b, a]);

        let (a, b) = (dv(4, 1), sm(2));
        let (_, ga, gb) = sums_grad(a.clone(), &b);
        assert_eq!(
            (ga, gb),
            (DVector::from_element(4, 1.0), Vector3::repeat(1.0))
        );
        check!(sums(a.clone(), &b) => sums_grad[a, b]);

        let (a, s) = (dm(3, 2, 1), sc(2));
        check!(deref(&a, &s) => deref_grad[a, s]);
    }
}

/// `#[grad]` alone differentiates with respect to the first parameter.
mod default_wrt {
    use super::*;

    #[grad]
    fn d64(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
        (a * x).map(|v| v.tanh()).norm_squared()
    }

    #[grad]
    fn s32(s: f32, v: &Vector3<f32>) -> f32 {
        (v * s).norm() + s.sin()
    }

    #[test]
    fn first_parameter() {
        let (x, a) = (dv(3, 1), dm(2, 3, 2));
        check!(d64(&x, &a) => d64_grad[x]);
        let (s, v) = (sc(1), sm(2));
        check!(s32(s, &v) => s32_grad[s]);
    }
}

/// Dynamic inputs with a zero dimension or a single entry.
mod degenerate_sizes {
    use super::*;

    #[grad(w, x)]
    fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
        (x * w - y).norm_squared() + w.sum()
    }

    #[grad(a)]
    fn inverse(a: &DMatrix<f64>) -> f64 {
        a.clone().try_inverse().unwrap().sum() + a.determinant()
    }

    #[test]
    fn empty() {
        // No rows: the residual is empty, the loss is Σw.
        let (w, x, y) = (dv(3, 1), dm(0, 3, 2), dv(0, 3));
        let (value, gw, gx) = lsq_grad(&w, &x, &y);
        assert_eq!(value, w.sum());
        assert_eq!((gw, gx.shape()), (DVector::repeat(3, 1.0), (0, 3)));
        check!(lsq(&w, &x, &y) => lsq_grad[w, x]);
        // No columns: w is empty, the loss is ‖y‖².
        let (w, x, y) = (dv(0, 1), dm(4, 0, 2), dv(4, 3));
        let (value, gw, gx) = lsq_grad(&w, &x, &y);
        assert_eq!(value, y.norm_squared());
        assert_eq!((gw.len(), gx.shape()), (0, (4, 0)));
    }

    #[test]
    fn single_entry() {
        let (w, x, y) = (dv(1, 1), dm(1, 1, 2), dv(1, 3));
        check!(lsq(&w, &x, &y) => lsq_grad[w, x]);
        let a = dm_well(1, 4);
        check!(inverse(&a) => inverse_grad[a]);
    }
}
