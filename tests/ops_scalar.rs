//! Scalar methods of the body language against central finite differences:
//! `exp`, `ln`, `sqrt`, `powi` (negative, 0, 1 and larger exponents), `powf`
//! (constant and differentiated exponent), `sin`, `cos`, `tanh`, `abs` (away
//! from 0, and the subgradient 0 exactly at 0) and `recip`.
//!
//! `scalar_case!` applies one scalar body to four scalars: one made of scalar
//! parameters (`f64`, one by reference), and reductions of a `DMatrix<f64>`, a
//! `DVector<f32>` by value, a `Matrix2x3<f64>` by value and a
//! `&Vector3<f32>`, each normalised to lie in [0.25, 2.25] (all inputs are
//! drawn from [0.5, 1.5]) and multiplied by `k` (±0.9, to take either sign).

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2x3, Matrix3, SMatrix, Vector3};

macro_rules! scalar_case {
    ($name:ident, $k:literal, |$x:ident| $($body:tt)+) => {
        mod $name {
            use super::*;

            #[grad(s, t)]
            fn p64(s: f64, t: &f64) -> f64 {
                let $x = s * t * $k;
                $($body)+
            }

            #[grad(s)]
            fn p32(s: &f32) -> f32 {
                let $x = s * $k;
                $($body)+
            }

            #[grad(a, s)]
            fn d64(a: &DMatrix<f64>, s: f64) -> f64 {
                let $x = a.sum() / 12.0 * s * $k;
                $($body)+
            }

            #[grad(v)]
            fn d32(v: DVector<f32>) -> f32 {
                let $x = v.sum() / 4.0 * $k;
                $($body)+
            }

            #[grad(a, s)]
            fn s64(a: Matrix2x3<f64>, s: &f64) -> f64 {
                let $x = a.sum() / 6.0 * s * $k;
                $($body)+
            }

            #[grad(v)]
            fn s32(v: &Vector3<f32>) -> f32 {
                let $x = v.sum() / 3.0 * $k;
                $($body)+
            }

            #[test]
            fn scalar_params() {
                let (s, t) = (sc(1), sc(2));
                check!(p64(s, &t) => p64_grad[s, t]);
                let s = sc(3);
                check!(p32(&s) => p32_grad[s]);
            }

            #[test]
            fn dynamic_f64() {
                let (a, s) = (dm_pos(3, 4, 1), sc(2));
                check!(d64(&a, s) => d64_grad[a, s]);
            }

            #[test]
            fn dynamic_f32() {
                let v = dv_pos(4, 3);
                check!(d32(v.clone()) => d32_grad[v]);
            }

            #[test]
            fn static_f64() {
                let (a, s) = (sm_pos(4), sc(5));
                check!(s64(a, &s) => s64_grad[a, s]);
            }

            #[test]
            fn static_f32() {
                let v = sm_pos(6);
                check!(s32(&v) => s32_grad[v]);
            }
        }
    };
}

scalar_case!(exp, 0.9, |x| x.exp());
scalar_case!(exp_negative, -0.9, |x| x.exp() * 3.0);
scalar_case!(ln, 0.9, |x| x.ln());
scalar_case!(sqrt, 0.9, |x| x.sqrt());
scalar_case!(sin, 0.9, |x| x.sin());
scalar_case!(cos, 0.9, |x| x.cos());
scalar_case!(tanh, 0.9, |x| x.tanh());
scalar_case!(tanh_negative, -0.9, |x| x.tanh() * 2.0);
scalar_case!(abs_positive, 0.9, |x| x.abs());
scalar_case!(abs_negative, -0.9, |x| x.abs());
scalar_case!(recip, 0.9, |x| x.recip());
scalar_case!(recip_negative, -0.9, |x| x.recip());
scalar_case!(powi_0, 0.9, |x| x.powi(0) + x);
scalar_case!(powi_1, 0.9, |x| x.powi(1));
scalar_case!(powi_2, -0.9, |x| x.powi(2));
scalar_case!(powi_3, -0.9, |x| x.powi(3));
scalar_case!(powi_5, 0.9, |x| x.powi(5));
scalar_case!(powi_neg_1, 0.9, |x| x.powi(-1));
scalar_case!(powi_neg_2, -0.9, |x| x.powi(-2));
scalar_case!(powi_neg_3, 0.9, |x| x.powi(-3));
scalar_case!(powf, 0.9, |x| x.powf(2.5));
scalar_case!(powf_negative_exponent, 0.9, |x| x.powf(-0.5));
scalar_case!(powf_0, 0.9, |x| x.powf(0.0) + x);
scalar_case!(powf_1, 0.9, |x| x.powf(1.0));
scalar_case!(powf_computed_exponent, 0.9, |x| x.powf(2.0 * 0.75));
scalar_case!(methods_composed, 0.9, |x| (x.sin() + 2.0).ln().sqrt()
    * x.exp().tanh());
scalar_case!(used_twice, -0.9, |x| x.cos() * x.sin() + x.abs() * x);
scalar_case!(pythagoras, 0.9, |x| x.sin().powi(2) + x.cos().powi(2));

/// `powf` with a differentiated exponent: d(bᵉ) = e bᵉ⁻¹ db + bᵉ ln b de.
mod powf_differentiated_exponent {
    use super::*;

    #[grad(b, e)]
    fn p64(b: f64, e: f64) -> f64 {
        b.powf(e)
    }

    #[grad(e, b)]
    fn p32(b: &f32, e: &f32) -> f32 {
        b.powf(*e) + (b * 2.0).powf(e - 1.0)
    }

    #[grad(a, s)]
    fn d64(a: &DMatrix<f64>, s: f64) -> f64 {
        a.norm_squared().powf(s) + s.powf(a.sum() / 12.0)
    }

    #[grad(v)]
    fn d32(v: DVector<f32>) -> f32 {
        v.sum().powf(v.norm())
    }

    #[grad(a, e)]
    fn s64(a: Matrix3<f64>, e: f64) -> f64 {
        (a.trace() / 3.0).powf(e * a.sum() / 9.0)
    }

    #[grad(a, e)]
    fn s32(a: &SMatrix<f32, 2, 2>, e: f32) -> f32 {
        a.norm().powf(e).powf(e)
    }

    #[test]
    fn scalar_params() {
        let (b, e) = (sc(1), sc(2));
        check!(p64(b, e) => p64_grad[b, e]);
        let (b, e) = (sc(3), sc(4));
        check!(p32(&b, &e) => p32_grad[e, b]);
    }

    #[test]
    fn dynamic_f64() {
        let (a, s) = (dm_pos(3, 4, 1), sc(2));
        check!(d64(&a, s) => d64_grad[a, s]);
    }

    #[test]
    fn dynamic_f32() {
        let v = dv_pos(3, 1);
        check!(d32(v.clone()) => d32_grad[v]);
    }

    #[test]
    fn static_f64() {
        let (a, e) = (sm_pos(1), sc(2));
        check!(s64(a, e) => s64_grad[a, e]);
    }

    #[test]
    fn static_f32() {
        let (a, e) = (sm_pos(1), sc(2));
        check!(s32(&a, e) => s32_grad[a, e]);
    }
}

/// `abs` exactly at 0: the derivative taken is the subgradient 0 (which is
/// also what central differences give, (|h| − |−h|)/2h = 0).
mod abs_at_zero {
    use super::*;

    #[grad(s, t)]
    fn p64(s: f64, t: f64) -> f64 {
        (s - t).abs() + s.abs() * 2.0
    }

    #[grad(s)]
    fn p32(s: f32) -> f32 {
        s.abs() + s * 0.5
    }

    #[grad(a)]
    fn d64(a: &DMatrix<f64>) -> f64 {
        a.sum().abs() + a.norm_squared()
    }

    #[grad(v, s)]
    fn s32(v: &Vector3<f32>, s: &f32) -> f32 {
        (v.sum() * s).abs()
    }

    #[test]
    fn scalar_params() {
        let (value, gs, gt) = p64_grad(0.0, 0.0);
        assert_eq!((value, gs, gt), (0.0, 0.0, 0.0));
        let (s, t) = (0.0, 0.0);
        check!(p64(s, t) => p64_grad[s, t]);
        let (s, t) = (0.75, 0.75);
        let (_, gs, gt) = p64_grad(s, t);
        assert_eq!((gs, gt), (2.0, 0.0));
        let s = 0.0_f32;
        assert_eq!(p32_grad(s), (0.0, 0.5));
        check!(p32(s) => p32_grad[s]);
    }

    #[test]
    fn dynamic_f64() {
        // The entries sum to exactly 0.
        let a = DMatrix::from_row_slice(2, 2, &[1.0, -0.5, -1.5, 1.0]);
        let (value, g) = d64_grad(&a);
        assert_eq!(value, a.norm_squared());
        assert_eq!(g, &a * 2.0);
        check!(d64(&a) => d64_grad[a]);
    }

    #[test]
    fn static_f32() {
        let (v, s) = (Vector3::new(0.5_f32, -1.25, 0.75), 1.5_f32);
        let (value, gv, gs) = s32_grad(&v, &s);
        assert_eq!((value, gv, gs), (0.0, Vector3::zeros(), 0.0));
        check!(s32(&v, &s) => s32_grad[v, s]);
    }
}
