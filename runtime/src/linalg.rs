//! Numerical linear algebra the generated code (and users) call: an LU
//! factorisation shared by inverse, determinant and log-determinant, the
//! gradient of the determinant that stays finite at singular matrices, and
//! the Kronecker adjoints.
//! Nothing here allocates for fixed-size matrices.

use nalgebra::allocator::Allocator;
use nalgebra::constraint::{SameNumberOfRows, ShapeConstraint};
use nalgebra::{
    Complex, ComplexField, DMatrix, DefaultAllocator, Dim, DimDiff, DimMin, DimSub, Matrix,
    OMatrix, RealField, Storage, U1,
};

use crate::determinant::CofactorSvd;

/// `ln det A`, computed from an LU factorisation without forming `det A`, so it
/// stays finite where `det A` overflows or underflows. Like
/// `a.determinant().ln()`, it is NaN when `det A < 0` and −∞ when `A` is singular.
///
/// ```
/// use matgrad::nalgebra::DMatrix;
/// // det(1e3 · I₂₀₀) = 1e600 overflows f64; its logarithm does not.
/// let a = DMatrix::<f64>::identity(200, 200) * 1e3;
/// assert!((matgrad::logdet(&a) - 200.0 * 1e3f64.ln()).abs() < 1e-9);
/// assert!(a.determinant().is_infinite());
/// ```
pub fn logdet<T, D, S>(a: &Matrix<T, D, D, S>) -> T
where
    T: RealField + Copy,
    D: DimMin<D, Output = D>,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    Lu::new(a).ln_determinant()
}

/// The factorisation one matrix's inverse, determinant, log-determinant and
/// solves (and their gradients) share, of real or complex matrices (the
/// log-determinant of real ones): nalgebra's LU with partial pivoting,
/// `P A = L U`, or, for a real matrix that is exactly symmetric and positive
/// definite, its Cholesky factorisation `A = L Lᵀ`, as an expert factorises a
/// covariance (half the work, and the inverse from one triangle). Results
/// agree with the LU's to rounding; a matrix that is not symmetric costs one
/// comparison more than the LU alone, one that is symmetric but indefinite
/// the attempted Cholesky factorisation.
#[doc(hidden)]
pub struct Lu<T: ComplexField, D: DimMin<D, Output = D>>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    factors: Factors<T, D>,
    /// The number of rows and columns of the factorised matrix.
    n: usize,
}

enum Factors<T: ComplexField, D: DimMin<D, Output = D>>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    Lu(nalgebra::linalg::LU<T, D, D>),
    Cholesky(nalgebra::linalg::Cholesky<T, D>),
}

impl<T, D> Lu<T, D>
where
    T: ComplexField + Copy,
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    pub fn new<S: Storage<T, D, D>>(a: &Matrix<T, D, D, S>) -> Self {
        let n = a.nrows();
        // Only real matrices: a complex one would need to be Hermitian.
        let real = std::any::TypeId::of::<T>() == std::any::TypeId::of::<T::RealField>();
        if real && is_symmetric(a) {
            if let Some(chol) = a.clone_owned().cholesky() {
                let factors = Factors::Cholesky(chol);
                return Lu { factors, n };
            }
        }
        let factors = Factors::Lu(a.clone_owned().lu());
        Lu { factors, n }
    }

    pub fn determinant(&self) -> T {
        match &self.factors {
            Factors::Lu(lu) => lu.determinant(),
            Factors::Cholesky(chol) => {
                let d = diagonal_product(chol);
                d * d
            }
        }
    }

    /// `A⁻¹ B`, if `A` is invertible: nalgebra's `LU::solve`, so the caller's
    /// `.unwrap()` or `.expect(…)` panics exactly as the user's code would.
    pub fn solve<R2, C2, S2>(&self, b: &Matrix<T, R2, C2, S2>) -> Option<OMatrix<T, R2, C2>>
    where
        R2: Dim,
        C2: Dim,
        S2: Storage<T, R2, C2>,
        ShapeConstraint: SameNumberOfRows<R2, D>,
        DefaultAllocator: Allocator<R2, C2>,
    {
        match &self.factors {
            Factors::Lu(lu) => lu.solve(b),
            Factors::Cholesky(chol) => Some(chol.solve(b)),
        }
    }

    /// `A⁻¹ B`, or a matrix of NaN where `A` is singular (for the derivative
    /// code, which runs only after the user's solve succeeded).
    pub fn solve_or_nan<R2, C2, S2>(&self, b: &Matrix<T, R2, C2, S2>) -> OMatrix<T, R2, C2>
    where
        R2: Dim,
        C2: Dim,
        S2: Storage<T, R2, C2>,
        ShapeConstraint: SameNumberOfRows<R2, D>,
        DefaultAllocator: Allocator<R2, C2>,
    {
        self.solve(b)
            .unwrap_or_else(|| b.map(|_| T::zero() / T::zero()))
    }

    /// `A⁻ᵀ B` from the same factorisation: `P A = L U` gives `Aᵀ = Uᵀ Lᵀ P`,
    /// so `X = Pᵀ L⁻ᵀ U⁻ᵀ B`, two triangular solves (∞ or NaN where `A` is
    /// singular); a symmetric `A` is its own transpose.
    pub fn tr_solve<R2, C2, S2>(&self, b: &Matrix<T, R2, C2, S2>) -> OMatrix<T, R2, C2>
    where
        R2: Dim,
        C2: Dim,
        S2: Storage<T, R2, C2>,
        ShapeConstraint: SameNumberOfRows<R2, D>,
        DefaultAllocator: Allocator<R2, C2>,
    {
        match &self.factors {
            Factors::Lu(lu) => {
                let mut x = b.clone_owned();
                lu.u().tr_solve_upper_triangular_unchecked_mut(&mut x);
                lu.l().tr_solve_lower_triangular_unchecked_mut(&mut x);
                lu.p().inv_permute_rows(&mut x);
                x
            }
            Factors::Cholesky(chol) => chol.solve(b),
        }
    }

    /// `A⁻¹`, if `A` is invertible.
    pub fn inverse(&self) -> Option<OMatrix<T, D, D>> {
        match &self.factors {
            Factors::Lu(lu) => crate::inverse::lu_inverse(lu, self.n),
            Factors::Cholesky(chol) => Some(crate::inverse::cholesky_inverse(chol)),
        }
    }

    /// `A⁻¹`, or a matrix of NaN where `A` is singular (the gradient of
    /// `ln det A` is undefined there).
    pub fn inverse_or_nan(&self) -> OMatrix<T, D, D> {
        self.inverse()
            .unwrap_or_else(|| self.matrix().map(|_| T::zero() / T::zero()))
    }

    /// `A` rebuilt from its factors (for the rare singular case).
    fn matrix(&self) -> OMatrix<T, D, D> {
        match &self.factors {
            Factors::Lu(lu) => {
                let mut a = lu.l() * lu.u();
                lu.p().inv_permute_rows(&mut a);
                a
            }
            Factors::Cholesky(chol) => {
                let l = chol.l();
                &l * l.adjoint()
            }
        }
    }
}

/// Whether `a` equals its transpose, entry for entry (a NaN makes it not).
fn is_symmetric<T: ComplexField, D: Dim, S: Storage<T, D, D>>(a: &Matrix<T, D, D, S>) -> bool {
    (0..a.ncols()).all(|j| (0..j).all(|i| a[(i, j)] == a[(j, i)]))
}

/// `∏ Lᵢᵢ`, whose square is `det A` for `A = L Lᵀ`.
fn diagonal_product<T, D>(chol: &nalgebra::linalg::Cholesky<T, D>) -> T
where
    T: ComplexField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    let l = chol.l_dirty();
    (0..l.nrows()).fold(T::one(), |p, i| p * l[(i, i)])
}

impl<T, D> Lu<T, D>
where
    T: RealField + Copy,
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    /// `∇ det A = adj(A)ᵀ`, the cofactor matrix: `det(A) A⁻ᵀ` where `A` is
    /// invertible, and still exact where it is not (through an SVD, see
    /// [`CofactorSvd`]).
    pub fn det_gradient(&self) -> OMatrix<T, D, D> {
        match self.inverse() {
            Some(inv) => inv.transpose() * self.determinant(),
            None => CofactorSvd::new(&self.matrix()).cofactors(),
        }
    }

    /// `ln det A` without forming `det A` where it would overflow or
    /// underflow: NaN for `det A < 0`, −∞ if singular.
    pub fn ln_determinant(&self) -> T {
        // The product of the pivots, when it is a normal number (of f32 even),
        // loses nothing that the sum of their logarithms keeps, and takes one
        // `ln` instead of one per pivot.
        let det = self.determinant();
        let tiny: T = nalgebra::convert(f64::from(f32::MIN_POSITIVE));
        if det.is_finite() && det.abs() >= tiny {
            return det.ln();
        }
        let lu = match &self.factors {
            Factors::Lu(lu) => lu,
            Factors::Cholesky(chol) => {
                let two: T = nalgebra::convert(2.0);
                let l = chol.l_dirty();
                return (0..self.n).fold(T::zero(), |sum, i| sum + two * l[(i, i)].ln());
            }
        };
        let mut sign: T = lu.p().determinant();
        let mut sum = T::zero();
        for &u in lu.u().diagonal().iter() {
            if u < T::zero() {
                sign = -sign;
            }
            sum += u.abs().ln();
        }
        // A zero pivot makes `det A` zero, of either sign: ln is −∞.
        if sign < T::zero() && sum.is_finite() {
            T::zero() / T::zero()
        } else {
            sum
        }
    }
}

impl<R, D> Lu<Complex<R>, D>
where
    R: RealField + Copy,
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    /// [`Lu::det_gradient`] of a complex matrix: `det(A) A⁻ᵀ` where `A` is
    /// invertible, else through the SVD `A = U Σ Vᴴ`:
    /// `adj(A)ᵀ = det(U) det(Vᴴ) conj(U adj(Σ) Vᴴ)`.
    pub fn det_gradient_complex(&self) -> OMatrix<Complex<R>, D, D> {
        match self.inverse() {
            Some(inv) => inv.transpose() * self.determinant(),
            None => cofactor_by_svd(&self.matrix()),
        }
    }
}

/// The cofactor matrix `adj(A)ᵀ` of a singular matrix, through the SVD
/// `A = U Σ Vᴴ`: `adj(A) = adj(Vᴴ) adj(Σ) adj(U)`, and `adj(U) = det(U) Uᴴ`
/// for a unitary `U`, so `adj(A)ᵀ = det(U) det(Vᴴ) conj(U adj(Σ) Vᴴ)` (for a
/// real `A`, `±U adj(Σ) Vᵀ`).
fn cofactor_by_svd<T, D>(a: &OMatrix<T, D, D>) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    let n = a.nrows();
    let dynamic = DMatrix::from_iterator(n, n, a.iter().copied());
    let svd = dynamic.svd(true, true);
    let (u, v_t) = (svd.u.expect("u requested"), svd.v_t.expect("v_t requested"));
    // det(U) and det(Vᴴ) have modulus 1: their signs, or phases.
    let signs = u.clone().determinant().signum() * v_t.clone().determinant().signum();
    // adj(Σ)_ii = Π_{j≠i} σ_j.
    let sigma = &svd.singular_values;
    let adj_sigma = DMatrix::from_fn(n, n, |i, j| {
        if i != j {
            return T::zero();
        }
        let p = (0..n)
            .filter(|&k| k != i)
            .fold(nalgebra::one::<T::RealField>(), |p, k| p * sigma[k].clone());
        T::from_real(p)
    });
    let c = (u * adj_sigma * v_t).conjugate() * signs;
    let (d, _) = a.shape_generic();
    OMatrix::from_iterator_generic(d, d, c.iter().copied())
}

/// A singular value decomposition `A = U Σ Vᴴ`, kept for the derivative of
/// the cofactor matrix `adj(A)ᵀ` (the second derivative of `det A` beyond
/// 3×3) in any number of directions: exact at singular matrices too, with no
/// inverse of `A`.
#[doc(hidden)]
pub struct Svd<T: ComplexField, D: Dim>
where
    DefaultAllocator: Allocator<D, D>,
{
    u: OMatrix<T, D, D>,
    v_t: OMatrix<T, D, D>,
    /// `Π_{l∉{i,j}} σ_l` at `(i, j)` (`Π_{l≠i} σ_l` on the diagonal).
    products: OMatrix<T, D, D>,
    /// `det(U) det(Vᴴ)`, of modulus 1.
    phase: T,
}

impl<T, D> Svd<T, D>
where
    T: ComplexField + Copy,
    D: DimMin<D, Output = D> + DimSub<U1>,
    DefaultAllocator:
        Allocator<D, D> + Allocator<D> + Allocator<DimDiff<D, U1>> + Allocator<D, DimDiff<D, U1>>,
{
    pub fn new<S: Storage<T, D, D>>(a: &Matrix<T, D, D, S>) -> Self {
        let (d, _) = a.shape_generic();
        let svd = a.clone_owned().svd(true, true);
        let (u, v_t) = (svd.u.expect("u requested"), svd.v_t.expect("v_t requested"));
        let sigma = &svd.singular_values;
        let n = a.nrows();
        let products = OMatrix::from_fn_generic(d, d, |i, j| {
            let p = (0..n)
                .filter(|&l| l != i && l != j)
                .fold(nalgebra::one::<T::RealField>(), |p, l| p * sigma[l].clone());
            T::from_real(p)
        });
        let phase = (u.clone().determinant() * v_t.clone().determinant()).signum();
        Svd {
            u,
            v_t,
            products,
            phase,
        }
    }

    /// The derivative of `adj(A)ᵀ` in direction `E`. With `F = Uᴴ E V`,
    /// `adj(A + tE) = adj(Vᴴ) adj(Σ + tF) adj(U)`, and for a diagonal `Σ`,
    /// `d adj(Σ)[F]` is `−F_ij Π_{l∉{i,j}} σ_l` off the diagonal and
    /// `Σ_{k≠i} F_kk Π_{l∉{i,k}} σ_l` on it; with `adj(U) = det(U) Uᴴ` for a
    /// unitary `U`, `d adj(A)ᵀ = det(U) det(Vᴴ) conj(U d adj(Σ)ᴴ Vᴴ)`.
    pub fn cofactors_tangent<S: Storage<T, D, D>>(
        &self,
        e: &Matrix<T, D, D, S>,
    ) -> OMatrix<T, D, D> {
        let (d, _) = e.shape_generic();
        let f = self.u.ad_mul(&(e * self.v_t.adjoint()));
        let n = e.nrows();
        let da = OMatrix::from_fn_generic(d, d, |i, j| {
            if i == j {
                (0..n)
                    .filter(|&k| k != i)
                    .fold(T::zero(), |s, k| s + f[(k, k)] * self.products[(i, k)])
            } else {
                -f[(i, j)] * self.products[(i, j)]
            }
        });
        (&self.u * da.adjoint() * &self.v_t).conjugate() * self.phase
    }
}

/// The cofactor matrix `adj(A)ᵀ` (the gradient of `det A`) of a 1×1, 2×2 or
/// 3×3 matrix, by its closed form: exact at singular matrices too.
#[doc(hidden)]
pub fn small_det_gradient<T, D, S>(a: &Matrix<T, D, D, S>) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let (d, _) = a.shape_generic();
    let n = a.nrows();
    let m = |i: usize, j: usize| a[(i % n, j % n)];
    OMatrix::from_fn_generic(d, d, |i, j| match n {
        1 => T::one(),
        2 => {
            let sign = if (i + j) % 2 == 0 {
                T::one()
            } else {
                -T::one()
            };
            sign * m(1 - i, 1 - j)
        }
        // The cyclic form of the 3×3 cofactor carries its own sign.
        _ => m(i + 1, j + 1) * m(i + 2, j + 2) - m(i + 1, j + 2) * m(i + 2, j + 1),
    })
}

/// The derivative of [`small_det_gradient`] at `a` in direction `da` (the
/// second derivative of `det` applied to `da`), by the closed forms: exact at
/// singular matrices too.
#[doc(hidden)]
pub fn small_det_gradient_tangent<T, D, S1, S2>(
    a: &Matrix<T, D, D, S1>,
    da: &Matrix<T, D, D, S2>,
) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let (d, _) = a.shape_generic();
    let n = a.nrows();
    let m = |i: usize, j: usize| a[(i % n, j % n)];
    let dm = |i: usize, j: usize| da[(i % n, j % n)];
    OMatrix::from_fn_generic(d, d, |i, j| match n {
        1 => T::zero(),
        2 => {
            let sign = if (i + j) % 2 == 0 {
                T::one()
            } else {
                -T::one()
            };
            sign * dm(1 - i, 1 - j)
        }
        _ => {
            let (p, q, r, s) = (
                m(i + 1, j + 1),
                m(i + 2, j + 2),
                m(i + 1, j + 2),
                m(i + 2, j + 1),
            );
            let (dp, dq, dr, ds) = (
                dm(i + 1, j + 1),
                dm(i + 2, j + 2),
                dm(i + 1, j + 2),
                dm(i + 2, j + 1),
            );
            dp * q + p * dq - dr * s - r * ds
        }
    })
}

/// `Ā` for `C = A ⊗ B`: `Ā_ij = ⟨C̄_(ij), B⟩` over the blocks `C̄_(ij)` of `C̄`
/// the size of `B`.
#[doc(hidden)]
pub fn kronecker_adjoint_left<T, RA, CA, SA, RB, CB, SB, RC, CC, SC>(
    cbar: &Matrix<T, RC, CC, SC>,
    a: &Matrix<T, RA, CA, SA>,
    b: &Matrix<T, RB, CB, SB>,
) -> OMatrix<T, RA, CA>
where
    T: RealField + Copy,
    RA: Dim,
    CA: Dim,
    RB: Dim,
    CB: Dim,
    RC: Dim,
    CC: Dim,
    SA: Storage<T, RA, CA>,
    SB: Storage<T, RB, CB>,
    SC: Storage<T, RC, CC>,
    DefaultAllocator: Allocator<RA, CA> + Allocator<RB, CB>,
{
    let (r, c) = a.shape_generic();
    let (p, q) = b.shape();
    OMatrix::from_fn_generic(r, c, |i, j| {
        let mut s = T::zero();
        for l in 0..q {
            for k in 0..p {
                s += cbar[(i * p + k, j * q + l)] * b[(k, l)];
            }
        }
        s
    })
}

/// `B̄` for `C = A ⊗ B`: `B̄ = Σ_ij A_ij C̄_(ij)`.
#[doc(hidden)]
pub fn kronecker_adjoint_right<T, RA, CA, SA, RB, CB, SB, RC, CC, SC>(
    cbar: &Matrix<T, RC, CC, SC>,
    a: &Matrix<T, RA, CA, SA>,
    b: &Matrix<T, RB, CB, SB>,
) -> OMatrix<T, RB, CB>
where
    T: RealField + Copy,
    RA: Dim,
    CA: Dim,
    RB: Dim,
    CB: Dim,
    RC: Dim,
    CC: Dim,
    SA: Storage<T, RA, CA>,
    SB: Storage<T, RB, CB>,
    SC: Storage<T, RC, CC>,
    DefaultAllocator: Allocator<RA, CA> + Allocator<RB, CB>,
{
    let (r, c) = b.shape_generic();
    let (p, q) = b.shape();
    let (m, n) = a.shape();
    OMatrix::from_fn_generic(r, c, |k, l| {
        let mut s = T::zero();
        for j in 0..n {
            for i in 0..m {
                s += a[(i, j)] * cbar[(i * p + k, j * q + l)];
            }
        }
        s
    })
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, Matrix2};

    use super::logdet;

    #[test]
    fn transposed_solve_from_the_factorisation() {
        // A matrix that needs row exchanges.
        let a = DMatrix::from_fn(7, 7, |i, j| {
            ((3 * i + 5 * j) as f64).sin() + if (i + 1) % 7 == j { 2.0 } else { 0.0 }
        });
        let b = DMatrix::from_fn(7, 2, |i, j| (i as f64) - 0.5 * j as f64);
        let lu = super::Lu::new(&a);
        let x = lu.tr_solve(&b);
        assert!((a.transpose() * &x - &b).amax() < 1e-10);
        let y = lu.solve(&b).expect("invertible");
        assert!((&a * y - b).amax() < 1e-10);
    }

    /// `B Bᵀ + n I`: symmetric, positive definite, well conditioned.
    fn covariance(n: usize) -> DMatrix<f64> {
        let b = DMatrix::from_fn(n, n, |i, j| ((2 * i + 7 * j) as f64).cos());
        &b * b.transpose() + DMatrix::identity(n, n) * n as f64
    }

    #[test]
    fn symmetric_positive_definite_matrices_are_factorised_by_cholesky() {
        // Below and above the size of the blocked inverse.
        for n in [1, 3, 7, 8, 30, 70] {
            let a = covariance(n);
            let f = super::Lu::new(&a);
            assert!(matches!(f.factors, super::Factors::Cholesky(_)), "{n}");
            let lu = a.clone().lu();
            let det = lu.determinant();
            assert!((f.determinant() - det).abs() <= 1e-10 * det.abs(), "{n}");
            assert!((f.ln_determinant() - det.ln()).abs() <= 1e-10 * det.ln().abs().max(1.0));
            let inv = lu.try_inverse().expect("invertible");
            assert!(
                (f.inverse().expect("invertible") - &inv).amax() < 1e-12,
                "{n}"
            );
            let b = DMatrix::from_fn(n, 2, |i, j| i as f64 - 0.5 * j as f64);
            let x = &inv * &b;
            assert!((f.solve(&b).expect("invertible") - &x).amax() < 1e-12);
            assert!((f.tr_solve(&b) - &x).amax() < 1e-12);
            assert!((f.det_gradient() - inv.transpose() * det).amax() <= 1e-10 * det.abs());
        }
        // Fixed sizes, `f32`.
        let a = nalgebra::Matrix4::<f32>::from_fn(|i, j| if i == j { 4.0 } else { 0.5 });
        let f = super::Lu::new(&a);
        assert!(matches!(f.factors, super::Factors::Cholesky(_)));
        let inv = a.try_inverse().expect("invertible");
        assert!((f.inverse().expect("invertible") - inv).amax() < 1e-6);
    }

    #[test]
    fn other_matrices_keep_the_lu() {
        let spd = covariance(9);
        let mut not_symmetric = spd.clone();
        not_symmetric[(0, 8)] += 1e-12;
        let indefinite = &spd - DMatrix::identity(9, 9) * 1e3;
        let mut nan = spd.clone();
        nan[(4, 4)] = f64::NAN;
        for a in [not_symmetric, indefinite, nan] {
            let f = super::Lu::new(&a);
            assert!(matches!(f.factors, super::Factors::Lu(_)));
            let (got, want) = (f.determinant(), a.clone().lu().determinant());
            assert!(got == want || (got.is_nan() && want.is_nan()));
        }
        // Symmetric and singular: no Cholesky factorisation, the LU's answers.
        let singular = DMatrix::from_element(5, 5, 1.0);
        let f = super::Lu::new(&singular);
        assert!(matches!(f.factors, super::Factors::Lu(_)));
        assert!(f.inverse().is_none());
    }

    #[test]
    fn log_determinant_on_both_paths() {
        // A product of pivots that is a normal number: one `ln`.
        let a = DMatrix::from_fn(6, 6, |i, j| if i == j { 2.0 } else { 0.1 * (i + j) as f64 });
        let expected = a.determinant().ln();
        assert!((logdet(&a) - expected).abs() < 1e-12 * expected.abs());
        // Products that overflow and underflow: the sum of logarithms.
        for scale in [1e3, 1e-3] {
            let a = DMatrix::<f64>::identity(200, 200) * scale;
            assert!((logdet(&a) - 200.0 * f64::ln(scale)).abs() < 1e-9);
        }
        let a = DMatrix::<f32>::identity(30, 30) * 1e-3;
        assert!((logdet(&a) - 30.0 * 1e-3f32.ln()).abs() < 1e-3);
        // Negative determinants (small and large) are NaN, singular ones −∞.
        assert!(logdet(&Matrix2::new(0.0, 1.0, 1.0, 0.0_f64)).is_nan());
        let even = DMatrix::<f64>::identity(200, 200) * -1e3;
        assert!((logdet(&even) - 200.0 * 1e3f64.ln()).abs() < 1e-9);
        let mut big = DMatrix::<f64>::identity(201, 201) * 1e3;
        big[(0, 0)] = -1e3;
        assert!(logdet(&big).is_nan());
        assert_eq!(
            logdet(&Matrix2::new(1.0, 2.0, 2.0, 4.0_f64)),
            f64::NEG_INFINITY
        );
    }
}
