//! Numerically stable scalar functions, usable in plain code and recognised by
//! `#[grad]` (also inside `map(|v| …)`), with the derivatives the macro uses.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, RawStorage, RealField};

/// The logistic function `1 / (1 + e^{−x})`, without overflow for large `|x|`.
/// Its derivative is `σ(x) (1 − σ(x))`.
///
/// ```
/// assert_eq!(matgrad::sigmoid(0.0_f64), 0.5);
/// assert_eq!(matgrad::sigmoid(-1000.0_f64), 0.0);
/// assert_eq!(matgrad::sigmoid(1000.0_f64), 1.0);
/// ```
pub fn sigmoid<T: RealField + Copy>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `ln(1 + eˣ)`, without overflow for large `x` (`softplus(1000) = 1000`) and
/// without losing precision for very negative `x`. Its derivative is `σ(x)`.
///
/// ```
/// assert_eq!(matgrad::softplus(1000.0_f64), 1000.0);
/// assert!((matgrad::softplus(0.0_f64) - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn softplus<T: RealField + Copy>(x: T) -> T {
    // ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|}).
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// `max(x, 0)`. Its derivative is 1 for `x > 0` and 0 otherwise (the
/// subgradient 0 at the kink).
///
/// ```
/// assert_eq!(matgrad::relu(-2.0_f64), 0.0);
/// assert_eq!(matgrad::relu(3.0_f64), 3.0);
/// ```
pub fn relu<T: RealField + Copy>(x: T) -> T {
    x.max(T::zero())
}

/// `ln Σᵢ e^{xᵢ}` over the entries of a vector or matrix, shifted by the
/// maximum so that it neither overflows nor underflows. Its gradient is the
/// softmax `e^{x − lse(x)}`. Empty input gives −∞.
///
/// ```
/// use matgrad::nalgebra::DVector;
/// let x = DVector::from_vec(vec![1000.0, 1000.0]);
/// assert!((matgrad::log_sum_exp(&x) - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
pub fn log_sum_exp<T, R, C, S>(x: &Matrix<T, R, C, S>) -> T
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let m = x
        .iter()
        .fold(T::min_value().unwrap_or(-T::one() / T::zero()), |m, &v| {
            m.max(v)
        });
    if m.is_finite() {
        m + x.iter().fold(T::zero(), |s, &v| s + (v - m).exp()).ln()
    } else {
        // All −∞ (or empty), or some +∞/NaN: the plain formula says what it is.
        x.iter().fold(T::zero(), |s, &v| s + v.exp()).ln()
    }
}

/// The derivative of [`relu`]: 1 for `x > 0`, else 0 (NaN stays NaN).
#[doc(hidden)]
pub fn relu_derivative<T: RealField + Copy>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x <= T::zero() {
        T::zero()
    } else {
        x
    }
}
