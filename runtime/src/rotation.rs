//! The scalar functions of the SO(3) exponential map (Rodrigues' formula),
//! accurate at and near the zero rotation.

use nalgebra::RealField;

/// Stumpff's function `c_k(t) = Σₙ (−t)ⁿ / (2n + k)!`, for `t = θ²`:
/// `c₁ = sin θ / θ`, `c₂ = (1 − cos θ) / θ²`, `c₃ = (θ − sin θ) / θ³`, and so
/// on. Rodrigues' formula is `R = I + c₁ K + c₂ K²` with `K = [v]×`, `θ = |v|`.
///
/// Each `c_k` is an entire function of `t` with derivative
/// `c_k′ = (k c_{k+2} − c_{k+1}) / 2`, so every derivative is finite at `t = 0`.
/// Below `t = 4` the series is summed (no cancellation: its terms shrink
/// from the second on); above, `c₀ = cos θ`, `c₁ = sin θ / θ` and the
/// recurrence `c_{k+2} = (1/k! − c_k) / t`, whose errors shrink by `t ≥ 4`
/// at each step.
///
/// ```
/// use matgrad::__private::stumpff;
/// assert_eq!(stumpff(1, 0.0_f64), 1.0);
/// assert_eq!(stumpff(2, 0.0_f64), 0.5);
/// let t = 0.7_f64 * 0.7;
/// assert!((stumpff(3, t) - (0.7 - 0.7_f64.sin()) / (0.7 * t)).abs() < 1e-15);
/// ```
pub fn stumpff<T: RealField + Copy>(k: u32, t: T) -> T {
    let four: T = nalgebra::convert(4.0);
    if t < four {
        let mut term = T::one() / factorial::<T>(k);
        let mut sum = term;
        for n in 1..30u32 {
            let (a, b) = (2 * n + k - 1, 2 * n + k);
            term = -term * t / nalgebra::convert::<f64, T>(f64::from(a) * f64::from(b));
            let next = sum + term;
            if next == sum {
                break;
            }
            sum = next;
        }
        return sum;
    }
    let theta = t.sqrt();
    // c₀ and c₁, then two steps of the recurrence at a time.
    let (mut c, mut j) = if k.is_multiple_of(2) {
        (theta.cos(), 0)
    } else {
        (theta.sin() / theta, 1)
    };
    while j < k {
        c = (T::one() / factorial::<T>(j) - c) / t;
        j += 2;
    }
    c
}

fn factorial<T: RealField + Copy>(k: u32) -> T {
    nalgebra::convert((1..=k).map(f64::from).product::<f64>())
}

#[cfg(test)]
mod tests {
    use super::stumpff;

    /// The closed forms, far from 0, and the series near it; both sides of the
    /// switch at t = 4.
    #[test]
    fn matches_closed_forms() {
        for &theta in &[1e-2_f64, 0.3, 1.0, 1.999, 2.001, 3.0, 10.0] {
            let t = theta * theta;
            let closed = [
                theta.cos(),
                theta.sin() / theta,
                (1.0 - theta.cos()) / t,
                (theta - theta.sin()) / (t * theta),
            ];
            for (k, want) in closed.iter().enumerate() {
                let got = stumpff(k as u32, t);
                // (The closed forms themselves cancel near θ = 0.)
                let tol = if theta < 0.1 { 1e-9 } else { 1e-13 };
                assert!((got - want).abs() <= tol, "c{k}({t}) = {got}, want {want}");
            }
        }
    }

    /// At and near 0, the first two terms of the series.
    #[test]
    fn near_zero() {
        let factorial = |k: u32| (1..=k).map(f64::from).product::<f64>();
        for &t in &[0.0_f64, 1e-18, 1e-8] {
            for k in 0..6 {
                let want = 1.0 / factorial(k) - t / factorial(k + 2);
                assert!((stumpff(k, t) - want).abs() < 1e-16, "c{k}({t})");
            }
        }
        assert_eq!(stumpff(2, 0.0_f32), 0.5);
    }

    /// `c_k′ = (k c_{k+2} − c_{k+1}) / 2`, against central differences.
    #[test]
    fn derivative_identity() {
        for &t in &[0.0_f64, 0.5, 3.9, 4.1, 9.0] {
            for k in 0..6 {
                let h = 1e-6;
                let fd = (stumpff(k, t + h) - stumpff(k, t - h)) / (2.0 * h);
                let rule = (f64::from(k) * stumpff(k + 2, t) - stumpff(k + 1, t)) / 2.0;
                assert!((fd - rule).abs() < 1e-8, "c{k}′({t}): {fd} vs {rule}");
            }
        }
    }
}
