//! What the generated code of Cholesky factorisations and triangular solves
//! calls: the factorisation itself, and the linear maps between a matrix and
//! the triangle that nalgebra reads of it. `cholesky()` reads only the lower
//! triangle of its argument `A`, so it factorises `S = sym(A)` (the lower
//! triangle mirrored); a gradient with respect to `S` goes back onto `A` by
//! [`fold_onto_lower`], the adjoint of [`symmetric_from_lower`].
//!
//! Nothing here allocates for fixed-size matrices.

use nalgebra::allocator::Allocator;
use nalgebra::linalg::Cholesky;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage, StorageMut, U1};

use crate::inverse::lower_triangle_inverse;

/// `a`'s Cholesky factorisation, as `a.clone().cholesky()` computes it: `None`
/// where nalgebra's is (a pivot that is not positive), so the caller's
/// `.unwrap()` or `.expect(…)` panics exactly as the user's code would.
#[inline]
pub fn cholesky<T, D, S>(a: &Matrix<T, D, D, S>) -> Option<Cholesky<T, D>>
where
    T: RealField,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    a.clone_owned().cholesky()
}

/// `Φ(M)`: the lower triangle of `m` with its diagonal halved (Murray 2016),
/// so that `M = Φ(M) + Φ(M)ᵀ` for a symmetric `M`.
#[inline]
pub fn lower_half_diagonal<T, R, C, S>(m: &Matrix<T, R, C, S>) -> OMatrix<T, R, C>
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape_generic();
    let half: T = nalgebra::convert(0.5);
    OMatrix::from_fn_generic(r, c, |i, j| match i.cmp(&j) {
        core::cmp::Ordering::Greater => m[(i, j)],
        core::cmp::Ordering::Equal => m[(i, j)] * half,
        core::cmp::Ordering::Less => T::zero(),
    })
}

/// `sym(M)`: the lower triangle of the square `m` mirrored onto the upper
/// one, the matrix nalgebra's `cholesky()` factorises.
#[inline]
pub fn symmetric_from_lower<T, R, C, S>(m: &Matrix<T, R, C, S>) -> OMatrix<T, R, C>
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape_generic();
    OMatrix::from_fn_generic(r, c, |i, j| if i >= j { m[(i, j)] } else { m[(j, i)] })
}

/// The adjoint of [`symmetric_from_lower`]: entry `(i, j)` below the diagonal
/// is `G_ij + G_ji`, the diagonal `G_ii`, zeros above. For a function of
/// `sym(A)` with gradient `G` there, this is its gradient with respect to `A`.
#[inline]
pub fn fold_onto_lower<T, R, C, S>(g: &Matrix<T, R, C, S>) -> OMatrix<T, R, C>
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = g.shape_generic();
    OMatrix::from_fn_generic(r, c, |i, j| match i.cmp(&j) {
        core::cmp::Ordering::Greater => g[(i, j)] + g[(j, i)],
        core::cmp::Ordering::Equal => g[(i, j)],
        core::cmp::Ordering::Less => T::zero(),
    })
}

/// [`fold_onto_lower`] in `g`'s own buffer (a matrix nothing reads after).
#[inline]
pub fn fold_onto_lower_in_place<T, R, C, S>(mut g: Matrix<T, R, C, S>) -> Matrix<T, R, C, S>
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: StorageMut<T, R, C>,
{
    assert!(g.is_square(), "fold_onto_lower: a square matrix");
    for j in 0..g.ncols() {
        for i in 0..j {
            let upper = core::mem::replace(&mut g[(i, j)], T::zero());
            g[(j, i)] += upper;
        }
    }
    g
}

/// `L⁻ᵀ M L⁻¹` for the lower triangle `L` of `l` (a Cholesky factor): the
/// adjoint of `S = L Lᵀ` given `M = Φ(Lᵀ L̄)`. `X = L⁻¹` by one triangular
/// inverse, then `Xᵀ (M X)` by two products, which nalgebra blocks (faster than
/// two triangular solves with `n` right-hand sides from 8 × 8 on).
pub fn lower_congruence<T, D, S1, S2>(
    l: &Matrix<T, D, D, S1>,
    m: &Matrix<T, D, D, S2>,
) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let x = lower_triangle_inverse(l);
    crate::product::tr_mul(&x, &(m * &x))
}

/// `L⁻ᵀ Diag(p) L⁻¹`: [`lower_congruence`] for a diagonal `M` (as when only
/// the diagonal of the factor is read), its rows scaled instead of multiplied.
pub fn lower_congruence_diagonal<T, D, S1, S2>(
    l: &Matrix<T, D, D, S1>,
    p: &Matrix<T, D, U1, S2>,
) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, U1>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    let mut x = lower_triangle_inverse(l);
    if p.iter().all(|&v| v >= T::zero()) {
        // `(√P L⁻¹)ᵀ (√P L⁻¹)`: one matrix, scaled in place column by column (contiguous).
        let root = p.map(|v| v.sqrt());
        for mut column in x.column_iter_mut() {
            column.component_mul_assign(&root);
        }
        return crate::triangular::lower_gram(&x);
    }
    let mut y = x.clone();
    for mut column in y.column_iter_mut() {
        column.component_mul_assign(p);
    }
    crate::product::tr_mul(&x, &y)
}

#[cfg(test)]
mod tests {
    use nalgebra::{Matrix3, Matrix4};

    use super::*;

    #[test]
    fn congruence_by_the_inverse_factor() {
        let a = Matrix4::from_fn(|i, j| {
            if i == j {
                4.0
            } else {
                0.3 * (i + 2 * j) as f64 - 1.0
            }
        });
        let l = a.lower_triangle();
        let m = Matrix4::from_fn(|i, j| ((i * 3 + j) as f64).cos());
        let inv = l.try_inverse().expect("invertible");
        let expected = inv.transpose() * m * inv;
        assert!((lower_congruence(&a, &m) - expected).amax() < 1e-12);
        let p = nalgebra::Vector4::new(0.5, -1.0, 2.0, 0.25);
        let expected = inv.transpose() * Matrix4::from_diagonal(&p) * inv;
        assert!((lower_congruence_diagonal(&a, &p) - expected).amax() < 1e-12);
        // No negative weight: the in-place form through `√p`.
        let p = nalgebra::Vector4::new(0.5, 0.0, 2.0, 0.25);
        let expected = inv.transpose() * Matrix4::from_diagonal(&p) * inv;
        assert!((lower_congruence_diagonal(&a, &p) - expected).amax() < 1e-12);
    }

    #[test]
    fn fold_is_the_adjoint_of_sym() {
        let x = Matrix4::from_fn(|i, j| (i * 4 + j) as f64 * 0.37 - 2.0);
        let y = Matrix4::from_fn(|i, j| ((i + 2 * j) as f64).sin());
        let lhs = symmetric_from_lower(&x).dot(&y);
        let rhs = x.dot(&fold_onto_lower(&y));
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
        assert_eq!(fold_onto_lower_in_place(y), fold_onto_lower(&y));
    }

    #[test]
    fn half_diagonal_splits_a_symmetric_matrix() {
        let a = Matrix3::new(4.0, 1.0, 2.0, 1.0, 5.0, 3.0, 2.0, 3.0, 6.0);
        let phi = lower_half_diagonal(&a);
        assert_eq!(phi + phi.transpose(), a);
        assert_eq!(phi[(0, 2)], 0.0);
    }

    #[test]
    fn cholesky_reads_the_lower_triangle_only() {
        let a = Matrix3::new(4.0, 1.0, 2.0, 1.0, 5.0, 3.0, 2.0, 3.0, 6.0);
        let mut scrambled = a;
        scrambled[(0, 1)] = 100.0;
        scrambled[(1, 2)] = -7.0;
        let l = cholesky(&scrambled).expect("positive definite").l();
        assert_eq!(l, cholesky(&a).expect("positive definite").l());
        assert!(cholesky(&-a).is_none());
    }
}
