//! The first and second Fréchet derivatives of the matrix exponential: scaling
//! and squaring with a Taylor series, run on jets (see `jet.rs`).

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use crate::jet::{first_order, norm1_shifted, second_order, Jet};

/// `e^X` for a jet `X`: `e^X = (e^{X/2^s})^{2^s}`, with `s` such that
/// `‖X/2^s‖₁ ≤ 1/2` and the Taylor series of 20 terms for `e^{X/2^s}` (its
/// remainder is below `2⁻²¹/21!`, far below rounding).
fn exp_jet<T, D, J>(a: &J) -> J
where
    T: RealField + Copy,
    D: Dim,
    J: Jet<T, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let norm = norm1_shifted(a.value(), T::zero());
    let half = nalgebra::convert::<f64, T>(0.5);
    let mut squarings = 0;
    let mut scale = T::one();
    while norm * scale > half {
        scale *= half;
        squarings += 1;
    }
    let x = a.scale(scale);
    let mut term = x.identity();
    let mut exp = term.clone();
    for k in 1..=20 {
        let k = nalgebra::convert::<f64, T>(f64::from(k));
        term = term.mul(&x).scale(T::one() / k);
        exp = exp.add(&term);
    }
    for _ in 0..squarings {
        exp = exp.mul(&exp);
    }
    exp
}

/// The Fréchet derivative `L_exp(A, E)` of the matrix exponential at `A` in
/// direction `E`: `e^{A+E} = e^A + L_exp(A, E) + O(‖E‖²)`. It equals the top-right
/// block of `exp([[A, E], [0, A]])`; here it is computed by scaling and
/// squaring on the pair, `L(2X, 2F) = L(X, F) e^X + e^X L(X, F)`, with a Taylor
/// series for the scaled pair, so fixed-size inputs stay on the stack.
///
/// The gradient of `f(e^A)` with respect to `A` is `L_exp(Aᵀ, ∇_{e^A} f)`.
///
/// ```
/// use matgrad::nalgebra::Matrix2;
/// let a = Matrix2::new(0.1, 0.4, -0.3, 0.2);
/// let e = Matrix2::new(1.0, 0.0, 0.0, 0.0);
/// let h = 1e-6;
/// let fd = ((a + e * h).exp() - (a - e * h).exp()) / (2.0 * h);
/// assert!((matgrad::expm_frechet(&a, &e) - fd).norm() < 1e-8);
/// ```
pub fn expm_frechet<T, D, S1, S2>(
    a: &Matrix<T, D, D, S1>,
    e: &Matrix<T, D, D, S2>,
) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let jet = first_order(a, e);
    exp_jet(&jet).e
}

/// The second Fréchet derivative `L²_exp(A; E, F)` of the matrix exponential:
/// `∂²/∂s∂t e^{A + sE + tF}` at `s = t = 0`, symmetric in `E` and `F`. It is
/// the derivative of [`expm_frechet`] in its first argument,
/// `L_exp(A + tF, E) = L_exp(A, E) + t L²_exp(A; E, F) + O(t²)`, which is what
/// the Hessian of a function of `e^A` needs. Computed by the same scaling and
/// squaring on `A + εE + ηF` with `ε² = η² = 0` (the εη part), on the stack
/// for fixed sizes.
///
/// ```
/// use matgrad::nalgebra::Matrix2;
/// let a = Matrix2::new(0.1, 0.4, -0.3, 0.2);
/// let e = Matrix2::new(1.0, 0.0, 0.5, 0.0);
/// let f = Matrix2::new(0.0, 2.0, 0.0, -1.0);
/// let h = 1e-5;
/// let fd = (matgrad::expm_frechet(&(a + f * h), &e) - matgrad::expm_frechet(&(a - f * h), &e))
///     / (2.0 * h);
/// assert!((matgrad::expm_frechet2(&a, &e, &f) - fd).norm() < 1e-8);
/// ```
pub fn expm_frechet2<T, D, S1, S2, S3>(
    a: &Matrix<T, D, D, S1>,
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
    exp_jet(&second_order(a, e, f)).e.e
}
