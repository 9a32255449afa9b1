//! The scalar methods of `f64`/`f32` beyond `ops_scalar.rs`, against central
//! finite differences: `ln_1p`, `exp_m1`, `log2`, `log10`, `exp2`, `cbrt`,
//! `tan`, `asin`, `acos`, `atan`, `sinh`, `cosh`, `asinh`, `acosh`, `atanh`
//! as methods (`x.ln_1p()`), as paths (`f64::ln_1p(x)`) and inside `map` (as
//! a closure and as a fn item, `.map(f64::ln_1p)`); the binary ones (`log`,
//! `hypot`, `atan2`, `mul_add`); the branches (`max`, `min`, `clamp`,
//! `signum`) away from ties against finite differences and at exact ties
//! against the documented one-sided choice; the matrix reductions `max`,
//! `min`, `amax`, `amin`, `lp_norm` and the entrywise `abs`; the constants
//! of `f64`/`f32` and methods on literals; second derivatives of several.
//!
//! `unary_case!` applies one function to scalars of each kind (`f64` and
//! `f32`, scalar parameters, reductions of dynamic and fixed-size matrices):
//! `x` is the reduction, normalised to lie in [0.25, 2.25], times `k`, plus
//! `shift`, so that it lies in the function's domain; the `map` forms apply
//! the function to the entries of `a * scale` (entries of `a` in [0.5, 1.5]).

// Some annotated functions are only called through what they generate.
#![allow(dead_code)]

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2x3, RealField, SMatrix, Vector3, Vector4};
use matgrad::{grad, hessian};

macro_rules! unary_case {
    ($name:ident, $f:ident, $k:literal, $shift:literal, $scale:literal) => {
        mod $name {
            use super::*;

            #[grad(s, t)]
            fn p64(s: f64, t: &f64) -> f64 {
                let x = s * t * $k + $shift;
                x.$f() + f64::$f(x) * 0.5
            }

            #[grad(s)]
            fn p32(s: &f32) -> f32 {
                let x = s * $k + $shift;
                x.$f() * 2.0 - f32::$f(x)
            }

            #[grad(a, s)]
            fn d64(a: &DMatrix<f64>, s: f64) -> f64 {
                let x = a.sum() / 12.0 * s * $k + $shift;
                x.$f() + (a * $scale).map(|v| v.$f()).sum()
            }

            #[grad(v)]
            fn d32(v: DVector<f32>) -> f32 {
                let x = v.sum() / 4.0 * $k + $shift;
                f32::$f(x) + (&v * $scale).map(f32::$f).sum()
            }

            #[grad(a, s)]
            fn s64(a: Matrix2x3<f64>, s: &f64) -> f64 {
                let x = a.sum() / 6.0 * s * $k + $shift;
                x.$f() * s + (a * $scale).map(f64::$f).norm_squared()
            }

            #[grad(v)]
            fn s32(v: &Vector3<f32>) -> f32 {
                let x = v.sum() / 3.0 * $k + $shift;
                x.$f() + (v * $scale).map(|w| w.$f()).sum()
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

unary_case!(ln_1p, ln_1p, 0.9, 0.0, 1.0);
unary_case!(ln_1p_negative, ln_1p, -0.4, 0.0, 0.5);
unary_case!(exp_m1, exp_m1, 0.9, 0.0, 1.0);
unary_case!(exp_m1_negative, exp_m1, -0.9, 0.0, -1.0);
unary_case!(log2, log2, 0.9, 0.0, 1.0);
unary_case!(log10, log10, 0.9, 0.0, 2.0);
unary_case!(exp2, exp2, -0.9, 0.0, 1.0);
unary_case!(cbrt, cbrt, 0.9, 0.0, 1.0);
unary_case!(cbrt_negative, cbrt, -0.9, 0.0, -1.0);
unary_case!(tan, tan, 0.5, 0.0, 0.9);
unary_case!(tan_negative, tan, -0.5, 0.0, -0.9);
unary_case!(asin, asin, 0.4, 0.0, 0.6);
unary_case!(asin_negative, asin, -0.4, 0.0, -0.6);
unary_case!(acos, acos, 0.4, 0.0, 0.6);
unary_case!(acos_negative, acos, -0.4, 0.0, -0.6);
unary_case!(atan, atan, 0.9, 0.0, 1.0);
unary_case!(atan_negative, atan, -0.9, 0.0, -1.5);
unary_case!(sinh, sinh, 0.9, 0.0, 1.0);
unary_case!(sinh_negative, sinh, -0.9, 0.0, -1.0);
unary_case!(cosh, cosh, 0.9, 0.0, 1.0);
unary_case!(cosh_negative, cosh, -0.9, 0.0, -1.0);
unary_case!(asinh, asinh, 0.9, 0.0, 1.0);
unary_case!(asinh_negative, asinh, -0.9, 0.0, -1.0);
unary_case!(acosh, acosh, 0.9, 1.0, 2.2);
unary_case!(atanh, atanh, 0.4, 0.0, 0.6);
unary_case!(atanh_negative, atanh, -0.4, 0.0, -0.6);
