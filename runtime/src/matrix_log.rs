//! The principal matrix logarithm and its first and second Fréchet
//! derivatives, by inverse scaling and squaring run on jets (see `jet.rs`).
//!
//! `log X = 2^s log(X^{1/2^s})`: square roots (the Denman–Beavers
//! iteration) until `‖X^{1/2^s} − I‖₁ ≤ 0.3`, then
//! `log(I + Z) = ∫₀¹ Z (I + tZ)⁻¹ dt` by the 8-point Gauss–Legendre rule,
//! which is the [8/8] Padé approximant of `log(1 + z)` (Higham, "Functions of
//! Matrices", 2008, ch. 11; Al-Mohy and Higham, "Improved inverse scaling and
//! squaring algorithms for the matrix logarithm", 2012, use the same pieces
//! with degrees chosen per matrix). Its error for `‖Z‖₁ ≤ 0.3` is at most
//! `|r₈(−0.3) − log 0.7| ≈ 8·10⁻¹⁸` (Kenney and Laub's bound), below rounding.
//!
//! A real matrix with an eigenvalue on the closed negative real axis has no
//! principal logarithm: there the square-root iteration meets a singular
//! matrix or does not converge, and the result is NaN.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use crate::jet::{first_order, nan_like, norm1_shifted, second_order, Jet};

/// Square roots are taken until `‖X^{1/2^s} − I‖₁` is at most this.
const ROOTS_UNTIL: f64 = 0.3;
/// More square roots than this mean no logarithm (the 1-norm of a matrix of
/// finite `f64` entries falls below 0.3 after about 11).
const MAX_ROOTS: usize = 64;
/// Iterations of one square root before it is taken as not converging.
const MAX_ITERATIONS: usize = 100;

/// The 8-point Gauss–Legendre rule on [−1, 1]: its nodes ±xᵢ and weights wᵢ.
/// On [0, 1] the nodes are `(1 ± xᵢ)/2` and the weights `wᵢ/2`.
const GAUSS_LEGENDRE_8: [(f64, f64); 4] = [
    (0.183_434_642_495_649_8, 0.362_683_783_378_362),
    (0.525_532_409_916_329, 0.313_706_645_877_887_3),
    (0.796_666_477_413_626_7, 0.222_381_034_453_374_5),
    (0.960_289_856_497_536_2, 0.101_228_536_290_376_26),
];

/// `X^{1/2}` by the Denman–Beavers iteration (`Y₀ = X`, `Z₀ = I`,
/// `Y ← (Y + Z⁻¹)/2`, `Z ← (Z + Y⁻¹)/2`, so that `Y → X^{1/2}` and
/// `Z → X^{−1/2}` quadratically), or `None` if it meets a singular matrix or
/// does not converge. Two more steps are taken once a step changes `Y` by at
/// most `√ε ‖Y‖₁`: the first brings the value to rounding level, the second
/// the jet's derivative parts. (Its product form, with one inverse a step,
/// first forms `(2I + X + X⁻¹)/4`, whose eigenvalues `cos²(θ/2)` for `e^{iθ}`
/// cancel to `δ²/4` when `θ = π − δ`: it loses twice the digits this form does
/// next to the negative real axis.)
fn sqrt_jet<T, D, J>(x: &J) -> Option<J>
where
    T: RealField + Copy,
    D: Dim,
    J: Jet<T, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let half = nalgebra::convert(0.5);
    let tolerance = T::default_epsilon().sqrt();
    let (mut y, mut z) = (x.clone(), x.identity());
    let mut more = 2;
    for _ in 0..MAX_ITERATIONS {
        let (yi, zi) = (y.inverse()?, z.inverse()?);
        let next = y.add(&zi).scale(half);
        z = z.add(&yi).scale(half);
        let change = norm1_shifted(&(next.value() - y.value()), T::zero());
        y = next;
        if change <= tolerance * norm1_shifted(y.value(), T::zero()) {
            if more == 0 {
                return Some(y);
            }
            more -= 1;
        }
    }
    None
}

/// `log X` for a jet `X`, or `None` outside the domain.
fn log_jet<T, D, J>(x: &J) -> Option<J>
where
    T: RealField + Copy,
    D: Dim,
    J: Jet<T, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let mut y = x.clone();
    let mut roots = 0;
    loop {
        let distance = norm1_shifted(y.value(), T::one());
        if distance <= nalgebra::convert(ROOTS_UNTIL) {
            break;
        }
        // (Entries that are not finite have no logarithm either.)
        if roots == MAX_ROOTS || !distance.is_finite() {
            return None;
        }
        y = sqrt_jet(&y)?;
        roots += 1;
    }
    let z = y.shift(-T::one());
    let mut log = None;
    for (x, w) in GAUSS_LEGENDRE_8 {
        for t in [(1.0 - x) / 2.0, (1.0 + x) / 2.0] {
            let inner = z.scale(nalgebra::convert(t)).shift(T::one()).inverse()?;
            let term = z.mul(&inner).scale(nalgebra::convert(w / 2.0));
            log = Some(match log {
                Some(sum) => term.add(&sum),
                None => term,
            });
        }
    }
    let two: T = nalgebra::convert(2.0);
    log.map(|l| l.scale(two.powi(roots as i32)))
}

/// The principal logarithm `log X` of a real square matrix with no eigenvalue
/// on the closed negative real axis (the `L` with `e^L = X` whose eigenvalues
/// have imaginary parts in (−π, π)); a matrix of NaN for any other `X`, as
/// `ln` of a negative `f64` is NaN. It has the type of `X`'s owned matrix:
/// a `Matrix3` stays on the stack.
///
/// Computed by inverse scaling and squaring: square roots until `X^{1/2^s}` is
/// near `I`, the [8/8] Padé approximant of `log(I + Z)` (as Gauss–Legendre
/// quadrature of `∫₀¹ Z (I + tZ)⁻¹ dt`), times `2^s`. Its accuracy is that of
/// the square roots, which lose digits when `X` is far from normal, close to
/// singular, or has eigenvalues close to the negative real axis (where the
/// logarithm itself is ill-conditioned: about `ε π/δ` at the angle `π − δ`).
///
/// In a `#[grad]`, `#[hessian]` or `#[jacobian]` body, `matgrad::logm(&x)` is
/// differentiated: its adjoint is [`logm_frechet`]`(Xᵀ, C̄)`.
///
/// ```
/// use matgrad::nalgebra::Matrix2;
/// // A rotation by 0.5 rad scaled by 2: log is ln 2 · I + 0.5 · J.
/// let (c, s) = (0.5f64.cos(), 0.5f64.sin());
/// let x = Matrix2::new(c, -s, s, c) * 2.0;
/// let l = matgrad::logm(&x);
/// let expected = Matrix2::new(2f64.ln(), -0.5, 0.5, 2f64.ln());
/// assert!((l - expected).amax() < 1e-13);
/// assert!((l.exp() - x).amax() < 1e-13);
/// // −1 is on the negative real axis: no real principal logarithm.
/// assert!(matgrad::logm(&Matrix2::new(-1.0, 0.0, 0.0, 2.0_f64)).iter().all(|v| v.is_nan()));
/// ```
pub fn logm<T, D, S>(x: &Matrix<T, D, D, S>) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let x = x.clone_owned();
    log_jet(&x).unwrap_or_else(|| nan_like(&x))
}

/// The Fréchet derivative `L_log(X, E)` of the principal logarithm at `X` in
/// direction `E`: `log(X + E) = log X + L_log(X, E) + O(‖E‖²)`; it equals
/// `∫₀^∞ (X + zI)⁻¹ E (X + zI)⁻¹ dz` and the top-right block of
/// `log([[X, E], [0, X]])`, and inverts [`expm_frechet`](crate::expm_frechet)
/// at `log X`. Computed by the algorithm of [`logm`] run on `X + εE` (`ε² = 0`),
/// on the stack for fixed sizes; NaN where `X` has no principal logarithm.
///
/// The gradient of `f(log X)` with respect to `X` is `L_log(Xᵀ, ∇_{log X} f)`.
///
/// ```
/// use matgrad::nalgebra::Matrix3;
/// let x = Matrix3::new(2.0, 0.3, -0.1, 0.2, 1.5, 0.4, 0.0, -0.3, 1.2);
/// let e = Matrix3::new(0.0, 1.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, -1.0);
/// let l = matgrad::logm_frechet(&x, &e);
/// let h = 1e-6;
/// let fd = (matgrad::logm(&(x + e * h)) - matgrad::logm(&(x - e * h))) / (2.0 * h);
/// assert!((l - fd).amax() < 1e-8);
/// // It inverts the derivative of the exponential at log X.
/// assert!((matgrad::expm_frechet(&matgrad::logm(&x), &l) - e).amax() < 1e-12);
/// ```
pub fn logm_frechet<T, D, S1, S2>(
    x: &Matrix<T, D, D, S1>,
    e: &Matrix<T, D, D, S2>,
) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let jet = first_order(x, e);
    log_jet(&jet).map_or_else(|| nan_like(&jet.x), |l| l.e)
}

/// The second Fréchet derivative `L²_log(X; E, F) = ∂²/∂s∂t log(X + sE + tF)`
/// at `s = t = 0`, symmetric in `E` and `F`: the derivative of
/// [`logm_frechet`] in its first argument, which the Hessian of a function of
/// `log X` needs. Computed by the algorithm of [`logm`] run on
/// `X + εE + ηF` (`ε² = η² = 0`, the εη part), on the stack for fixed sizes;
/// NaN where `X` has no principal logarithm.
///
/// ```
/// use matgrad::nalgebra::Matrix2;
/// let x = Matrix2::new(1.5, 0.2, -0.4, 0.8);
/// let (e, f) = (Matrix2::new(1.0, 0.0, 0.3, 0.0), Matrix2::new(0.0, -1.0, 0.0, 2.0));
/// let h = 1e-5;
/// let fd = (matgrad::logm_frechet(&(x + f * h), &e) - matgrad::logm_frechet(&(x - f * h), &e))
///     / (2.0 * h);
/// assert!((matgrad::logm_frechet2(&x, &e, &f) - fd).amax() < 1e-8);
/// ```
pub fn logm_frechet2<T, D, S1, S2, S3>(
    x: &Matrix<T, D, D, S1>,
    e: &Matrix<T, D, D, S2>,
    f: &Matrix<T, D, D, S3>,
) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    S3: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let jet = second_order(x, e, f);
    log_jet(&jet).map_or_else(|| nan_like(&jet.x.x), |l| l.e.e)
}

#[cfg(test)]
mod tests {
    use super::GAUSS_LEGENDRE_8;

    /// `∫₀¹ t^k dt` by the rule on [0, 1].
    fn integral(k: i32) -> f64 {
        GAUSS_LEGENDRE_8
            .iter()
            .map(|&(x, w)| w / 2.0 * (((1.0 - x) / 2.0).powi(k) + ((1.0 + x) / 2.0).powi(k)))
            .sum()
    }

    /// The rule integrates polynomials up to degree 15 exactly, and not 16.
    #[test]
    fn gauss_legendre_nodes_and_weights() {
        for k in 0..16 {
            let exact = 1.0 / f64::from(k + 1);
            assert!(
                (integral(k) - exact).abs() < 1e-15,
                "degree {k}: {}",
                integral(k)
            );
        }
        assert!((integral(16) - 1.0 / 17.0).abs() > 1e-12);
    }
}
