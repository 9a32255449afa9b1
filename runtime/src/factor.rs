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
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

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

#[cfg(test)]
mod tests {
    use nalgebra::{Matrix3, Matrix4};

    use super::*;

    #[test]
    fn fold_is_the_adjoint_of_sym() {
        let x = Matrix4::from_fn(|i, j| (i * 4 + j) as f64 * 0.37 - 2.0);
        let y = Matrix4::from_fn(|i, j| ((i + 2 * j) as f64).sin());
        let lhs = symmetric_from_lower(&x).dot(&y);
        let rhs = x.dot(&fold_onto_lower(&y));
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
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
