//! Special functions of statistics, which `#[grad]` differentiates: the error function and the
//! normal distribution function (probit and Tobit models), `ln Γ` and the digamma function
//! (negative binomial, Beta, Dirichlet and Student-t likelihoods with a parameter in Γ).
//!
//! Each is computed in `f64` (an `f32` or generic argument is converted), to about 1e-15
//! relative error (`ln Γ` to 1e-14 absolute near its zeros):
//! - `erf` by its series `2x/√π · e^{−x²} Σ (2x²)ⁿ / (1·3·…·(2n+1))` (positive terms, no
//!   cancellation) for `|x| < 2`, and `erfc` by its continued fraction beyond, where `erfc` is
//!   small and `1 − erf` would lose its digits;
//! - `ln Γ`, `ψ`, `ψ′`, `ψ″` by their asymptotic (Stirling) series at `x + n ≥ 10`, shifted
//!   down by the recurrences `Γ(x + 1) = x Γ(x)`, `ψ(x + 1) = ψ(x) + 1/x`; below 0 by
//!   reflection.

use nalgebra::RealField;
use std::f64::consts::PI;

/// `x` in `f64`, to compute with.
fn wide<T: RealField + Copy>(x: T) -> f64 {
    x.to_subset().unwrap_or(f64::NAN)
}

/// An `f64` result as `T`.
fn narrow<T: RealField + Copy>(v: f64) -> T {
    T::from_subset(&v)
}

/// The error function `erf(x) = 2/√π ∫₀ˣ e^{−t²} dt`. Its derivative is `2/√π e^{−x²}`.
///
/// ```
/// assert!((matgrad::erf(1.0_f64) - 0.842_700_792_949_714_9).abs() < 1e-15);
/// assert_eq!(matgrad::erf(-0.5_f64), -matgrad::erf(0.5_f64));
/// ```
pub fn erf<T: RealField + Copy>(x: T) -> T {
    narrow(erf_f64(wide(x)))
}

/// The complementary error function `erfc(x) = 1 − erf(x)`, accurate where it is small
/// (`erfc(10) ≈ 2.1e-45`). Its derivative is `−2/√π e^{−x²}`.
///
/// ```
/// assert!((matgrad::erfc(0.0_f64) - 1.0).abs() < 1e-15);
/// assert!(matgrad::erfc(10.0_f64) > 0.0);
/// ```
pub fn erfc<T: RealField + Copy>(x: T) -> T {
    narrow(erfc_f64(wide(x)))
}

/// The standard normal distribution function `Φ(x) = ½ erfc(−x/√2)`, accurate in the lower
/// tail (`Φ(−30) ≈ 4.9e-198`). Its derivative is the density `φ(x) = e^{−x²/2}/√(2π)`.
///
/// ```
/// assert_eq!(matgrad::normal_cdf(0.0_f64), 0.5);
/// assert!((matgrad::normal_cdf(1.959_963_984_540_054_f64) - 0.975).abs() < 1e-15);
/// ```
pub fn normal_cdf<T: RealField + Copy>(x: T) -> T {
    narrow(0.5 * erfc_f64(-wide(x) / std::f64::consts::SQRT_2))
}

/// `ln Γ(x)` for `x > 0` (and `ln |Γ(x)|` below 0, away from the poles at 0, −1, −2, …), to
/// about 1e-15 relative error, and 1e-14 absolute near its zeros at 1 and 2. Its derivative is
/// the digamma function.
///
/// ```
/// assert!(matgrad::ln_gamma(1.0_f64).abs() < 1e-14);
/// // Γ(5) = 4! = 24
/// assert!((matgrad::ln_gamma(5.0_f64) - 24f64.ln()).abs() < 1e-14);
/// ```
pub fn ln_gamma<T: RealField + Copy>(x: T) -> T {
    narrow(ln_gamma_f64(wide(x)))
}

/// The digamma function `ψ(x) = d/dx ln Γ(x)`. Its derivative is the trigamma function.
///
/// ```
/// // ψ(1) = −γ, Euler's constant
/// assert!((matgrad::digamma(1.0_f64) + 0.577_215_664_901_532_9).abs() < 1e-15);
/// ```
pub fn digamma<T: RealField + Copy>(x: T) -> T {
    narrow(polygamma_f64(0, wide(x)))
}

/// The trigamma function `ψ′(x)`, the derivative of [`digamma`] (a plain function: a
/// `#[grad]` body differentiates `ln_gamma` and `digamma`).
///
/// ```
/// // ψ′(1) = π²/6
/// let pi = std::f64::consts::PI;
/// assert!((matgrad::trigamma(1.0_f64) - pi * pi / 6.0).abs() < 1e-14);
/// ```
pub fn trigamma<T: RealField + Copy>(x: T) -> T {
    narrow(polygamma_f64(1, wide(x)))
}

/// `ψ″(x)`, the derivative of [`trigamma`] (the second derivative of [`digamma`], which a
/// `#[hessian]` of a loss reading `digamma` needs).
///
/// ```
/// // ψ″(1) = −2 ζ(3)
/// assert!((matgrad::tetragamma(1.0_f64) + 2.0 * 1.202_056_903_159_594_2).abs() < 1e-14);
/// ```
pub fn tetragamma<T: RealField + Copy>(x: T) -> T {
    narrow(polygamma_f64(2, wide(x)))
}

/// `2/√π`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

fn erf_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() < 2.0 {
        erf_series(x)
    } else {
        x.signum() * (1.0 - erfc_fraction(x.abs()))
    }
}

fn erfc_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 0.5 {
        // (`erf` is at most about 0.52 here, so `1 − erf` keeps its digits.)
        1.0 - erf_f64(x)
    } else if x < 2.0 {
        1.0 - erf_series(x)
    } else {
        erfc_fraction(x)
    }
}

/// `erf(x) = 2x/√π · e^{−x²} Σₙ (2x²)ⁿ / (1·3·…·(2n+1))`, every term positive.
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let (mut term, mut sum) = (1.0, 1.0);
    let mut n = 0.0;
    while term > sum * 1e-17 {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    TWO_OVER_SQRT_PI * x * (-x2).exp() * sum
}

/// `erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))` for `x ≥ 2`,
/// evaluated by Lentz's method.
fn erfc_fraction(x: f64) -> f64 {
    if x.is_infinite() {
        return 0.0;
    }
    let tiny = 1e-300;
    let mut f = x;
    let (mut c, mut d) = (x, 0.0);
    for k in 1..500 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = x + a / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (PI.sqrt() * f)
}

/// `ln |Γ(x)|`.
fn ln_gamma_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 0.5 {
        // Γ(x) Γ(1 − x) = π / sin(πx)
        return (PI / (PI * x).sin().abs()).ln() - ln_gamma_f64(1.0 - x);
    }
    // ln Γ(x) = ln Γ(x + n) − ln(x (x + 1) ⋯ (x + n − 1)), with x + n ≥ 10.
    let (mut y, mut product) = (x, 1.0);
    while y < 10.0 {
        product *= y;
        y += 1.0;
    }
    stirling(y) - product.ln()
}

/// `ln Γ(y)` for `y ≥ 10`: `(y − ½) ln y − y + ½ ln 2π + Σₖ B₂ₖ / (2k (2k − 1) y^{2k−1})`.
fn stirling(y: f64) -> f64 {
    // B₂ₖ / (2k (2k − 1)), k = 1…7.
    const C: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
    ];
    let inv2 = 1.0 / (y * y);
    let series = C.iter().rev().fold(0.0, |acc, c| acc * inv2 + c) / y;
    (y - 0.5) * y.ln() - y + 0.5 * (2.0 * PI).ln() + series
}

/// `ψ⁽ᵐ⁾(x)` for `m` = 0, 1, 2.
fn polygamma_f64(m: usize, x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::NAN;
    }
    if x < 0.0 {
        return reflected(m, x);
    }
    // ψ⁽ᵐ⁾(x) = ψ⁽ᵐ⁾(x + 1) − (−1)ᵐ m! / x^{m+1}, up to x + n ≥ 10.
    let (mut y, mut shift) = (x, 0.0);
    while y < 10.0 {
        shift += match m {
            0 => -1.0 / y,
            1 => 1.0 / (y * y),
            _ => -2.0 / (y * y * y),
        };
        y += 1.0;
    }
    asymptotic(m, y) + shift
}

/// `ψ⁽ᵐ⁾(y)` for `y ≥ 10`, the asymptotic series (Bernoulli numbers B₂ = 1/6, B₄ = −1/30,
/// B₆ = 1/42, B₈ = −1/30, B₁₀ = 5/66, B₁₂ = −691/2730, B₁₄ = 7/6).
fn asymptotic(m: usize, y: f64) -> f64 {
    let b = [
        1.0 / 6.0,
        -1.0 / 30.0,
        1.0 / 42.0,
        -1.0 / 30.0,
        5.0 / 66.0,
        -691.0 / 2730.0,
        7.0 / 6.0,
    ];
    let inv = 1.0 / y;
    let inv2 = inv * inv;
    match m {
        // ψ(y) = ln y − 1/(2y) − Σ B₂ₖ / (2k y^{2k})
        0 => {
            let series = (b.iter().enumerate().rev())
                .fold(0.0, |acc, (k, bk)| acc * inv2 + bk / (2.0 * (k + 1) as f64));
            y.ln() - 0.5 * inv - series * inv2
        }
        // ψ′(y) = 1/y + 1/(2y²) + Σ B₂ₖ / y^{2k+1}
        1 => {
            let series = b.iter().rev().fold(0.0, |acc, bk| acc * inv2 + bk);
            inv + 0.5 * inv2 + series * inv2 * inv
        }
        // ψ″(y) = −1/y² − 1/y³ − Σ (2k + 1) B₂ₖ / y^{2k+2}
        _ => {
            let series = (b.iter().enumerate().rev())
                .fold(0.0, |acc, (k, bk)| acc * inv2 + (2 * k + 3) as f64 * bk);
            -inv2 - inv2 * inv - series * inv2 * inv2
        }
    }
}

/// `ψ⁽ᵐ⁾(x)` for `x < 0` by reflection: `ψ(1 − x) − ψ(x) = π cot(πx)`, differentiated.
fn reflected(m: usize, x: f64) -> f64 {
    let (s, c) = (PI * x).sin_cos();
    match m {
        0 => polygamma_f64(0, 1.0 - x) - PI * c / s,
        // −ψ′(1 − x) − ψ′(x) = −π² / sin²(πx)
        1 => -polygamma_f64(1, 1.0 - x) + PI * PI / (s * s),
        // ψ″(1 − x) − ψ″(x) = 2π³ cos(πx) / sin³(πx)
        _ => polygamma_f64(2, 1.0 - x) - 2.0 * PI.powi(3) * c / (s * s * s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `f` at `x`, Richardson-extrapolated.
    fn derivative(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let d = |h: f64| (f(x + h) - f(x - h)) / (2.0 * h);
        let h = 1e-3 * x.abs().clamp(0.01, 1.0);
        (4.0 * d(h / 2.0) - d(h)) / 3.0
    }

    fn close(what: &str, got: f64, want: f64, tol: f64) {
        let err = (got - want).abs() / want.abs().max(1e-300);
        assert!(
            err < tol,
            "{what}: {got:e} against {want:e}, relative error {err:e}"
        );
    }

    #[test]
    fn known_values() {
        close("erf(0.5)", erf_f64(0.5), 0.520_499_877_813_046_5, 1e-15);
        close("erf(1)", erf_f64(1.0), 0.842_700_792_949_714_9, 1e-15);
        close("erf(2)", erf_f64(2.0), 0.995_322_265_018_952_7, 1e-15);
        close("erfc(3)", erfc_f64(3.0), 2.209_049_699_858_544e-5, 1e-13);
        close("erfc(5)", erfc_f64(5.0), 1.537_459_794_428_035e-12, 1e-13);
        close("Γ(0.5)", ln_gamma_f64(0.5), 0.5 * PI.ln(), 1e-14);
        close("Γ(10)", ln_gamma_f64(10.0), 362_880f64.ln(), 1e-15);
        close("Γ(0.1)", ln_gamma_f64(0.1), 2.252_712_651_734_206, 1e-14);
        close("Γ(−0.5)", ln_gamma_f64(-0.5), (2.0 * PI.sqrt()).ln(), 1e-14);
        close(
            "ψ(1)",
            polygamma_f64(0, 1.0),
            -0.577_215_664_901_532_9,
            1e-15,
        );
        close(
            "ψ(0.5)",
            polygamma_f64(0, 0.5),
            -0.577_215_664_901_532_9 - 2.0 * 2f64.ln(),
            1e-15,
        );
        close("ψ′(0.5)", polygamma_f64(1, 0.5), PI * PI / 2.0, 1e-14);
        close(
            "ψ″(1)",
            polygamma_f64(2, 1.0),
            -2.0 * 1.202_056_903_159_594_2,
            1e-14,
        );
    }

    #[test]
    fn each_derivative_is_the_next_function() {
        for x in [-2.7f64, -0.3, 0.05, 0.4, 1.0, 1.7, 3.3, 9.5, 10.5, 40.0] {
            // (Where the function is near ±1 and its slope tiny, differences of it say little:
            // `erf` in the middle, `erfc` in its upper tail.)
            let slope = TWO_OVER_SQRT_PI * (-x * x).exp();
            if x.abs() < 2.0 {
                close("erf′", derivative(erf_f64, x), slope, 1e-9);
            }
            if x > -0.5 && x < 20.0 {
                close("erfc′", derivative(erfc_f64, x), -slope, 1e-9);
            }
            close(
                "ln Γ′",
                derivative(ln_gamma_f64, x),
                polygamma_f64(0, x),
                1e-8,
            );
            let (d1, d2) = (|y| polygamma_f64(0, y), |y| polygamma_f64(1, y));
            close("ψ′", derivative(d1, x), polygamma_f64(1, x), 1e-8);
            close("ψ″", derivative(d2, x), polygamma_f64(2, x), 1e-7);
        }
    }

    #[test]
    fn identities_across_the_branches() {
        for x in [0.1, 0.49, 0.5, 1.2, 1.99, 2.0, 2.01, 3.5, 6.0] {
            close("erf + erfc", erf_f64(x) + erfc_f64(x), 1.0, 1e-15);
            close("erf odd", erf_f64(-x), -erf_f64(x), 1e-15);
        }
        for x in [0.3, 1.5, 9.99, 10.0, 25.0] {
            close(
                "Γ(x + 1) = x Γ(x)",
                ln_gamma_f64(x + 1.0),
                ln_gamma_f64(x) + x.ln(),
                1e-13,
            );
            close(
                "ψ(x + 1) = ψ(x) + 1/x",
                polygamma_f64(0, x + 1.0),
                polygamma_f64(0, x) + 1.0 / x,
                1e-14,
            );
        }
        assert!(normal_cdf(-30.0_f64) > 0.0 && normal_cdf(-30.0_f64) < 1e-190);
        assert_eq!(erfc_f64(f64::INFINITY), 0.0);
        assert!(polygamma_f64(0, -1.0).is_nan());
    }
}
