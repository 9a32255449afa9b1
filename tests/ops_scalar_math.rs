//! The scalar methods of `f64`/`f32` beyond `ops_scalar.rs`, against central
//! finite differences: `ln_1p`, `exp_m1`, `log2`, `log10`, `exp2`, `cbrt`,
//! `tan`, `asin`, `acos`, `atan`, `sinh`, `cosh`, `asinh`, `acosh`, `atanh`,
//! `to_degrees`, `to_radians`
//! as methods (`x.ln_1p()`), as paths (`f64::ln_1p(x)`) and inside `map` (as
//! a closure and as a fn item, `.map(f64::ln_1p)`); the binary ones (`log`,
//! `hypot`, `atan2`, `mul_add`, `midpoint`); the branches (`max`, `min`, `clamp`,
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

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2x3, RealField, Vector3, Vector4};
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
unary_case!(to_degrees, to_degrees, 0.9, 0.0, 1.0);
unary_case!(to_radians, to_radians, -0.9, 0.0, 1.0);

/// `log(b)` with a constant and a differentiated base, `hypot`, `atan2` (in
/// all four quadrants), `mul_add` and `midpoint`, as methods and as paths.
mod binary {
    use super::*;

    #[grad(x, b)]
    fn log64(x: f64, b: f64) -> f64 {
        x.log(b) + x.log(3.0) + f64::log(b * 2.0, x + 1.0)
    }

    #[grad(x, b)]
    fn log32(x: f32, b: &f32) -> f32 {
        x.log(*b) + f32::log(x, 10.0)
    }

    #[grad(x, y)]
    fn hypot64(x: f64, y: f64) -> f64 {
        x.hypot(y) + f64::hypot(y * 2.0, x)
    }

    #[grad(v)]
    fn hypot32(v: &Vector3<f32>) -> f32 {
        v.sum().hypot(v.norm_squared()) + f32::hypot(v.dot(v), 0.5)
    }

    #[grad(y, x)]
    fn atan2_64(y: f64, x: f64) -> f64 {
        y.atan2(x) + f64::atan2(x * 0.5, y)
    }

    #[grad(a)]
    fn atan2_32(a: &DVector<f32>) -> f32 {
        a.sum().atan2(a.norm()) + f32::atan2(-a.norm_squared(), a.sum() * -0.5)
    }

    #[grad(a, b, c)]
    fn mul_add64(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c) * a + f64::mul_add(c, c, b) + a.midpoint(c) * b + f64::midpoint(b, b)
    }

    #[grad(m)]
    fn mul_add32(m: Matrix2x3<f32>) -> f32 {
        m.sum().mul_add(m.norm(), 2.0) + f32::mul_add(1.5, m.sum(), m.norm_squared())
    }

    /// The methods of `ops_scalar.rs` by path too, and `f64::abs` as a fn item.
    #[grad(a, s)]
    fn older_by_path(a: &DMatrix<f64>, s: f64) -> f64 {
        f64::powi(s, 3)
            + f64::exp(s) * f64::sqrt(a.sum())
            + f64::powf(s, 1.5)
            + (a * -1.0).map(f64::abs).sum() * f64::abs(-s)
    }

    #[grad(a, s)]
    fn in_map(a: &DMatrix<f64>, s: f64) -> f64 {
        a.map(|v| v.hypot(0.5) + v.atan2(-1.5) + v.log(2.5) + v.mul_add(v, 0.25))
            .sum()
            * s
    }

    #[test]
    fn log() {
        let (x, b) = (sc::<f64>(1) + 0.5, sc::<f64>(2) + 1.0);
        check!(log64(x, b) => log64_grad[x, b]);
        let (x, b) = (sc::<f32>(3), sc::<f32>(4) * 3.0);
        check!(log32(x, &b) => log32_grad[x, b]);
    }

    #[test]
    fn hypot() {
        for (x, y) in [(sc(1), sc(2)), (-sc::<f64>(3), sc(4)), (-0.3, -1.7)] {
            check!(hypot64(x, y) => hypot64_grad[x, y]);
        }
        let v = sm_away(5);
        check!(hypot32(&v) => hypot32_grad[v]);
    }

    #[test]
    fn atan2_in_every_quadrant() {
        for (y, x) in [(0.7, 1.3), (0.7, -1.3), (-0.7, -1.3), (-0.7, 1.3)] {
            check!(atan2_64(y, x) => atan2_64_grad[y, x]);
        }
        let a = dv_pos(4, 6);
        check!(atan2_32(&a) => atan2_32_grad[a]);
    }

    #[test]
    fn mul_add() {
        let (a, b, c) = (sc(1), -sc::<f64>(2), sc(3));
        check!(mul_add64(a, b, c) => mul_add64_grad[a, b, c]);
        let m = sm(7);
        check!(mul_add32(m) => mul_add32_grad[m]);
    }

    #[test]
    fn older_methods_by_path() {
        let (a, s) = (dm_pos(2, 3, 10), sc(11));
        check!(older_by_path(&a, s) => older_by_path_grad[a, s]);
    }

    #[test]
    fn inside_map() {
        let (a, s) = (dm_pos(3, 2, 8), sc(9));
        check!(in_map(&a, s) => in_map_grad[a, s]);
    }
}

/// The same functions in a function generic over the scalar: methods, paths
/// `T::f(x)`, fn items `.map(T::f)` and `RealField`'s constants.
mod generic {
    use super::*;

    #[grad(a, s)]
    fn f<T: RealField + Copy>(a: &DMatrix<T>, s: T) -> T {
        let half = T::from_f64(0.5).unwrap();
        let x = a.sum() * half * s;
        x.ln_1p()
            + T::exp_m1(s)
            + x.log(s + T::one())
            + x.log2()
            + T::log10(x)
            + x.exp2()
            + x.cbrt()
            + x.hypot(s)
            + (s * half).tan()
            + (s * half).asin()
            + T::acos(s * half)
            + x.atan()
            + x.atan2(s)
            + x.sinh()
            + T::cosh(s)
            + x.asinh()
            + (x + T::one()).acosh()
            + (s * half).atanh()
            + x.mul_add(s, T::pi())
            + x.max(s)
            + T::min(x, s)
            + s.clamp(T::zero(), T::one())
            + s.signum()
            + a.map(T::ln_1p).sum() * T::frac_pi_4()
            + a.map(|v| v.asinh() * T::e()).max()
    }

    #[test]
    fn f64_and_f32() {
        let (a, s) = (dm_pos::<f64>(2, 3, 1), sc::<f64>(2) * 0.9);
        check!(f(&a, s) => f_grad[a, s]);
        let (a, s) = (dm_pos::<f32>(2, 3, 1), sc::<f32>(2) * 0.9);
        check!(f(&a, s) => f_grad[a, s]);
    }
}

/// `max`, `min`, `clamp` and `signum` away from ties, against finite differences.
mod branches {
    use super::*;

    #[grad(a, b)]
    fn p64(a: f64, b: f64) -> f64 {
        a.max(b) * 2.0 + a.min(b) * 3.0 + f64::max(a * a, b) - f64::min(b, 0.75) + a.signum()
    }

    #[grad(x, lo, hi)]
    fn clamp64(x: f64, lo: f64, hi: f64) -> f64 {
        x.clamp(lo, hi) * x + f64::clamp(x * 2.0, lo, hi)
    }

    #[grad(v)]
    fn d32(v: DVector<f32>) -> f32 {
        v.sum().max(v.norm()) + v.norm().min(1.0) + v.map(|w| w.max(0.5).clamp(0.75, 1.25)).sum()
    }

    #[grad(a)]
    fn s64(a: &Matrix2x3<f64>) -> f64 {
        a.map(|v| v.max(0.0) + f64::min(v, 1.0) * v.signum()).sum()
    }

    #[test]
    fn scalar_params() {
        for (a, b) in [(1.3, 0.4), (0.4, 1.3), (-0.6, 0.2), (0.9, 0.85)] {
            check!(p64(a, b) => p64_grad[a, b]);
        }
        for (x, lo, hi) in [
            (0.3, 0.5, 1.5),
            (0.9, 0.5, 1.5),
            (1.2, 0.5, 1.5),
            (2.0, 0.5, 1.0),
        ] {
            check!(clamp64(x, lo, hi) => clamp64_grad[x, lo, hi]);
        }
    }

    #[test]
    fn in_maps_and_reductions() {
        let v = dv_pos(5, 1);
        check!(d32(v.clone()) => d32_grad[v]);
        let a = sm_away(2);
        check!(s64(&a) => s64_grad[a]);
    }
}

/// At exact ties the gradient goes to one operand, as documented: for
/// `a.max(b)` and `a.min(b)` to the receiver `a` (the derivative from the
/// right in `a` for `max` and from the left for `min`, and the other side
/// in `b`); for `x.clamp(lo, hi)` at `x == lo` or `x == hi` to `x`, which
/// std's `clamp` returns there.
mod ties {
    use super::*;

    #[grad(a, b)]
    fn max(a: f64, b: f64) -> f64 {
        a.max(b)
    }

    #[grad(a, b)]
    fn max_path(a: f32, b: f32) -> f32 {
        f32::max(a, b)
    }

    #[grad(a, b)]
    fn min(a: f64, b: f64) -> f64 {
        a.min(b)
    }

    #[grad(x, lo, hi)]
    fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
        x.clamp(lo, hi)
    }

    /// `(f(x + h) − f(x))/h` and `(f(x) − f(x − h))/h`: exact for these
    /// piecewise linear functions.
    fn sides(f: impl Fn(f64) -> f64, x: f64) -> (f64, f64) {
        let h = 1e-3;
        ((f(x + h) - f(x)) / h, (f(x) - f(x - h)) / h)
    }

    #[test]
    fn max_goes_to_the_receiver() {
        let t = 0.75;
        let (value, ga, gb) = max_grad(t, t);
        assert_eq!((value, ga, gb), (t, 1.0, 0.0));
        let (right_a, _) = sides(|a| max(a, t), t);
        let (_, left_b) = sides(|b| max(t, b), t);
        assert_eq!((ga, gb), (right_a.round(), left_b.round()));
        assert_eq!(max_path_grad(0.5, 0.5), (0.5, 1.0, 0.0));
        // Off the tie, both one-sided derivatives agree with the gradient.
        assert_eq!(max_grad(t + 1e-9, t), (t + 1e-9, 1.0, 0.0));
        assert_eq!(max_grad(t - 1e-9, t), (t, 0.0, 1.0));
    }

    #[test]
    fn min_goes_to_the_receiver() {
        let t = -1.25;
        let (value, ga, gb) = min_grad(t, t);
        assert_eq!((value, ga, gb), (t, 1.0, 0.0));
        let (_, left_a) = sides(|a| min(a, t), t);
        let (right_b, _) = sides(|b| min(t, b), t);
        assert_eq!((ga, gb), (left_a.round(), right_b.round()));
        assert_eq!(min_grad(t - 1e-9, t), (t - 1e-9, 1.0, 0.0));
        assert_eq!(min_grad(t + 1e-9, t), (t, 0.0, 1.0));
    }

    #[test]
    fn nan_operands_get_no_gradient() {
        // std's max and min return the other operand when exactly one is NaN.
        assert_eq!(max_grad(f64::NAN, 2.0), (2.0, 0.0, 1.0));
        assert_eq!(max_grad(2.0, f64::NAN), (2.0, 1.0, 0.0));
        assert_eq!(min_grad(f64::NAN, 2.0), (2.0, 0.0, 1.0));
        assert_eq!(min_grad(2.0, f64::NAN), (2.0, 1.0, 0.0));
    }

    #[test]
    fn clamp_goes_to_x_at_either_bound() {
        let (lo, hi) = (0.5, 1.5);
        assert_eq!(clamp_grad(lo, lo, hi), (lo, 1.0, 0.0, 0.0));
        assert_eq!(clamp_grad(hi, lo, hi), (hi, 1.0, 0.0, 0.0));
        // x == lo: from the right in x the slope is 1 (x is returned), and
        // lowering lo leaves x returned.
        let (right_x, _) = sides(|x| clamp(x, lo, hi), lo);
        let (_, left_lo) = sides(|l| clamp(lo, l, hi), lo);
        assert_eq!((right_x.round(), left_lo.round()), (1.0, 0.0));
        let (_, left_x) = sides(|x| clamp(x, lo, hi), hi);
        let (right_hi, _) = sides(|h| clamp(hi, lo, h), hi);
        assert_eq!((left_x.round(), right_hi.round()), (1.0, 0.0));
        assert_eq!(clamp_grad(0.25, lo, hi), (lo, 0.0, 1.0, 0.0));
        assert_eq!(clamp_grad(1.75, lo, hi), (hi, 0.0, 0.0, 1.0));
    }

    /// A select, not a product with a 0/1 mask: the infinite adjoint that
    /// `sqrt` at 0 sends back reaches the arm taken, and the arm not taken
    /// gets 0, not ∞ · 0 = NaN.
    #[grad(x, y)]
    fn sqrt_of_max(x: f64, y: f64) -> f64 {
        x.max(y).sqrt() + y.min(x).sqrt()
    }

    #[test]
    fn the_arm_not_taken_gets_zero() {
        let (value, gx, gy) = sqrt_of_max_grad(0.0, -1.0);
        assert!(value.is_nan(), "sqrt(−1)");
        assert_eq!(gx, f64::INFINITY);
        assert!(gy.is_nan(), "the arm y.min(x) takes is y, under sqrt(−1)");
        let (_, gx, gy) = sqrt_of_max_grad(-1.0, 0.0);
        assert_eq!(gy, f64::INFINITY);
        assert!(gx.is_nan());
        let (value, gx, gy) = sqrt_of_max_grad(0.0, 2.0);
        assert_eq!(value, 2.0f64.sqrt());
        assert_eq!(gy, 0.5 / 2.0f64.sqrt());
        // x.min(2) is x = 0: ∞ to x, and 0 (not NaN) to y from both branches.
        assert_eq!(gx, f64::INFINITY);
    }
}

/// `max`, `min`, `amax`, `amin` of matrices: the gradient is at the entry
/// nalgebra returns (the first, in column-major order, on ties), times its
/// sign for `amax`/`amin`; `lp_norm(1)`, `lp_norm(2)` and `abs`.
mod reductions {
    use super::*;

    #[grad(a)]
    fn d64(a: &DMatrix<f64>) -> f64 {
        a.max() * 2.0 + a.min() * 3.0 + a.amax() * 5.0 + a.amin() * 7.0
    }

    #[grad(v)]
    fn s32(v: &Vector4<f32>) -> f32 {
        v.max() - v.min() + v.amax() * v.amin() + v.lp_norm(1) + v.lp_norm(2) + v.abs().sum()
    }

    #[grad(a)]
    fn norms(a: Matrix2x3<f64>) -> f64 {
        a.lp_norm(1) * a.lp_norm(2) + a.abs().norm_squared() + (a * 2.0).abs().max()
    }

    #[grad(a)]
    fn dyn32(a: DMatrix<f32>) -> f32 {
        (a.amax() + a.lp_norm(1)).ln() + a.abs().map(|v| v.sqrt()).sum()
    }

    #[test]
    fn against_finite_differences() {
        let a = dm_away(3, 4, 1);
        check!(d64(&a) => d64_grad[a]);
        let v = sm_away(2);
        check!(s32(&v) => s32_grad[v]);
        let a = sm_away(3);
        check!(norms(a) => norms_grad[a]);
        let a = dm_away(2, 3, 4);
        check!(dyn32(a.clone()) => dyn32_grad[a]);
    }

    #[test]
    fn ties_go_to_the_first_entry() {
        // Column-major: entries 1 and 2 tie for the largest, 0 and 3 for the
        // smallest; in magnitude, 2 and 3 tie for the largest (|±4|).
        let a = DMatrix::from_column_slice(2, 2, &[1.0, 4.0, 4.0, 1.0]);
        let (value, g) = d64_grad(&a);
        assert_eq!(value, d64(&a));
        assert_eq!(g.as_slice(), &[3.0 + 7.0, 2.0 + 5.0, 0.0, 0.0]);
        let a = DMatrix::from_column_slice(2, 2, &[-1.0, 2.0, -4.0, 4.0]);
        let (_, g) = d64_grad(&a);
        // max at 3, min at 2, amax at 2 (sign −1), amin at 0 (sign −1).
        assert_eq!(g.as_slice(), &[-7.0, 0.0, 3.0 - 5.0, 2.0]);
    }
}

/// Constants by path, and methods on literals, in `f64`, `f32` and generic code.
mod constants {
    use super::*;

    #[grad(x)]
    fn c64(x: f64) -> f64 {
        x * std::f64::consts::PI + core::f64::consts::E * x.sin() + x * f64::EPSILON
            - std::f64::consts::FRAC_PI_2.sin() * x
            + (x / f64::MAX + f64::MIN_POSITIVE).max(f64::NEG_INFINITY)
            + x.min(f64::INFINITY)
            + 5f64.sqrt() * x
            + 2.0_f64.ln() * x
            + (2.0f64).powi(3) * x
            + std::f64::consts::LN_2 * std::f64::consts::TAU
    }

    #[grad(x)]
    fn c32(x: f32) -> f32 {
        x * std::f32::consts::PI
            + core::f32::consts::SQRT_2 * x
            + f32::EPSILON * x
            + x.max(f32::MIN)
            + x.min(f32::MAX)
    }

    #[grad(x)]
    fn generic<T: RealField + Copy>(x: T) -> T {
        x * T::pi() + T::two_pi() * x.sin() + T::ln_2() + T::frac_1_pi() * x
    }

    #[test]
    fn values_and_gradients() {
        let x = sc(1);
        check!(c64(x) => c64_grad[x]);
        let x = sc::<f32>(2);
        check!(c32(x) => c32_grad[x]);
        // The f32 constants are f32's own values, so the value is the
        // original's bit for bit.
        let (value, g) = c32_grad(x);
        assert_eq!(value.to_bits(), c32(x).to_bits());
        assert_eq!(
            g,
            std::f32::consts::PI + std::f32::consts::SQRT_2 + f32::EPSILON + 1.0 + 1.0
        );
        let x = sc::<f64>(3);
        check!(generic(x) => generic_grad[x]);
        let x = sc::<f32>(3);
        check!(generic(x) => generic_grad[x]);
    }
}

/// Second derivatives through the tangent rules, against finite differences
/// of the gradient.
mod second_derivatives {
    use super::*;

    #[hessian(x)]
    fn smooth(x: &DVector<f64>) -> f64 {
        let s = x.sum();
        let n = x.norm();
        s.ln_1p()
            + n.exp_m1()
            + s.atan() * n.tanh()
            + s.hypot(n)
            + s.atan2(n + 1.0)
            + n.log(s + 2.0)
            + (s * 0.2).asin()
            + (s * 0.2).acos() * n
            + s.sinh()
            + n.cosh()
            + s.asinh()
            + (n + 1.5).acosh()
            + (s * 0.2).atanh()
            + s.cbrt()
            + n.exp2()
            + s.log2() * n.log10()
            + s.mul_add(n, s)
            + (s * 0.3).tan()
            + x.map(|v| v.atan() + v.ln_1p() * v.sinh()).sum()
            + x.map(f64::asinh).norm_squared()
    }

    #[hessian(x)]
    fn branchy(x: &DVector<f64>) -> f64 {
        let s = x.sum();
        s.max(x.norm()) * s.min(2.0)
            + x.map(|v| v.max(0.7).powi(2)).sum()
            + x.amax() * x.max()
            + x.lp_norm(1) * x.lp_norm(2)
            + s.clamp(0.0, 1.0) * s.signum()
    }

    fn fd_hessian(grad: impl Fn(&DVector<f64>) -> DVector<f64>, x: &DVector<f64>) -> DMatrix<f64> {
        let n = x.len();
        let mut h = DMatrix::zeros(n, n);
        for k in 0..n {
            let step = 1e-5 * x[k].abs().max(1.0);
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus[k] += step;
            minus[k] -= step;
            h.set_column(k, &((grad(&plus) - grad(&minus)) / (2.0 * step)));
        }
        h
    }

    fn assert_close(actual: &DMatrix<f64>, expected: &DMatrix<f64>, tol: f64, what: &str) {
        let err = (actual - expected).amax() / expected.amax().max(1.0);
        assert!(
            err <= tol,
            "{what}: error {err:e}\nactual {actual}\nexpected {expected}"
        );
    }

    #[test]
    fn hessians_match_differences_of_the_gradient() {
        let x = dv_pos::<f64>(4, 1) * 0.5;
        let (value, g, h) = smooth_hessian(&x);
        same_value("smooth", value, smooth(&x));
        fd("smooth", |x: &DVector<f64>| smooth(x), &x, &g);
        assert_close(&h, &fd_hessian(|x| smooth_hessian(x).1, &x), 1e-6, "smooth");
        assert_close(&h, &h.transpose(), 1e-10, "smooth symmetry");
        let v = dv::<f64>(4, 2);
        let (_, _, hv) = smooth_hvp(&x, &v);
        assert_close(
            &DMatrix::from_column_slice(4, 1, hv.as_slice()),
            &DMatrix::from_column_slice(4, 1, (&h * &v).as_slice()),
            1e-12,
            "smooth hvp",
        );
    }

    #[test]
    fn hessians_of_branches() {
        // Entries of x in [0.25, 0.75] with distinct magnitudes: no ties, no kinks.
        let x = dv_pos::<f64>(4, 3) * 0.5;
        let (value, g, h) = branchy_hessian(&x);
        same_value("branchy", value, branchy(&x));
        fd("branchy", |x: &DVector<f64>| branchy(x), &x, &g);
        assert_close(
            &h,
            &fd_hessian(|x| branchy_hessian(x).1, &x),
            1e-6,
            "branchy",
        );
    }
}
