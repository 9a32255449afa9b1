//! The inverse from an LU factorisation `P A = L U`: `A⁻¹ = U⁻¹ L⁻¹ P`, with
//! the triangular inverses computed block-recursively so that nearly all the
//! work is matrix products, which nalgebra hands to its blocked `gemm`.
//! nalgebra's `LU::try_inverse` solves `L U X = P` one column at a time; for
//! dynamic matrices from 8 × 8 on this takes 0.4–0.8 of its time (0.4 at
//! 50 × 50; `cargo run --release -p matgrad-bench --example breakdown`).
//! Smaller and fixed-size matrices keep nalgebra's. A Cholesky factorisation
//! `A = L Lᵀ` gives `A⁻¹ = L⁻ᵀ L⁻¹`, one triangular inverse (this one, at
//! every size: it skips the zeros that solving `L X = I` multiplies) and one
//! product, which skips the zeros of its triangular factors too
//! ([`crate::triangular`]).

use nalgebra::allocator::Allocator;
use nalgebra::linalg::{Cholesky, LU};
use nalgebra::{
    ComplexField, DefaultAllocator, Dim, DimMin, Dyn, Matrix, OMatrix, Storage, ViewStorageMut,
};

/// The size from which the blocked inverse is used.
const BLOCKED_FROM: usize = 8;

/// Triangular blocks up to this size are inverted entry by entry.
const BASE: usize = 16;

/// `A⁻¹` from the factorisation of the `n × n` matrix `A`, or `None` where `U`
/// has a zero on its diagonal: exactly when nalgebra's `try_inverse` gives `None`.
pub fn lu_inverse<T, D>(lu: &LU<T, D, D>, n: usize) -> Option<OMatrix<T, D, D>>
where
    T: ComplexField + Copy,
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    if !D::is::<Dyn>() || n < BLOCKED_FROM {
        return lu.try_inverse();
    }
    let u = lu.u();
    if u.diagonal().iter().any(|d| d.is_zero()) {
        return None;
    }
    let (mut l_inv, mut ut_inv) = (lu.l(), u.transpose());
    invert_lower(&mut l_inv.view_mut((0, 0), (n, n)));
    invert_lower(&mut ut_inv.view_mut((0, 0), (n, n)));
    // U⁻¹ L⁻¹ = ((Uᵀ)⁻¹)ᵀ L⁻¹, both factors lower triangular.
    let mut inv = crate::triangular::tr_mul_lower(&ut_inv, &l_inv);
    lu.p().inv_permute_columns(&mut inv);
    Some(inv)
}

/// `A⁻¹ = L⁻ᵀ L⁻¹` from the Cholesky factorisation `A = L Lᵀ` of a real matrix.
pub fn cholesky_inverse<T, D>(chol: &Cholesky<T, D>) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    let l_inv = lower_triangle_inverse(chol.l_dirty());
    crate::triangular::lower_gram(&l_inv)
}

/// `L⁻¹` for the lower triangle `L` of `l` (what is above the diagonal is
/// not read; ∞ or NaN where a pivot is zero): lower triangular itself, so
/// n³/6 multiply-adds, where solving `L X = I` takes n³/2.
pub fn lower_triangle_inverse<T, D, S>(l: &Matrix<T, D, D, S>) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let n = l.nrows();
    let mut x = l.lower_triangle();
    invert_lower(&mut x.view_mut((0, 0), (n, n)));
    x
}

type ViewMut<'a, T, RS, CS> = Matrix<T, Dyn, Dyn, ViewStorageMut<'a, T, Dyn, Dyn, RS, CS>>;

/// Inverts the lower-triangular `m` in place (its strict upper part is zero):
/// `[A 0; B C]⁻¹ = [A⁻¹ 0; −C⁻¹ B A⁻¹ C⁻¹]`.
fn invert_lower<T: ComplexField + Copy, RS: Dim, CS: Dim>(m: &mut ViewMut<'_, T, RS, CS>) {
    let n = m.nrows();
    if n <= BASE {
        return invert_lower_small(m);
    }
    let k = n / 2;
    let (mut top, mut bottom) = m.rows_range_pair_mut(..k, k..);
    let mut a = top.columns_range_mut(..k);
    let (mut b, mut c) = bottom.columns_range_pair_mut(..k, k..);
    invert_lower(&mut a);
    invert_lower(&mut c);
    let b_a = &b * &a;
    b.gemm(-T::one(), &c, &b_a, T::zero());
}

/// Column by column from the last. With the columns right of `j` already
/// inverted (`X`), column `j` below the diagonal becomes `−x_jj X m_(j+1:, j)`,
/// a triangular product formed in place from the bottom up, one column of `X`
/// at a time (`y_i += x_ik y_k`, each `y_k` read before it is scaled).
fn invert_lower_small<T: ComplexField + Copy, RS: Dim, CS: Dim>(m: &mut ViewMut<'_, T, RS, CS>) {
    let n = m.nrows();
    // SAFETY (every `get_unchecked`): all indices are below `n`, the view's
    // number of rows and columns.
    let at = |m: &ViewMut<'_, T, RS, CS>, i: usize, j: usize| unsafe { *m.get_unchecked((i, j)) };
    for j in (0..n).rev() {
        let d = T::one() / at(m, j, j);
        for k in (j + 1..n).rev() {
            let y = at(m, k, j);
            for i in k + 1..n {
                let x = at(m, i, k);
                unsafe { *m.get_unchecked_mut((i, j)) += x * y };
            }
            unsafe { *m.get_unchecked_mut((k, j)) = at(m, k, k) * y };
        }
        unsafe { *m.get_unchecked_mut((j, j)) = d };
        for i in j + 1..n {
            unsafe { *m.get_unchecked_mut((i, j)) *= -d };
        }
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, Matrix4};

    use super::lu_inverse;

    /// A non-symmetric matrix needing row exchanges, condition number modest.
    fn matrix(n: usize, seed: u64) -> DMatrix<f64> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        DMatrix::from_fn(n, n, |i, j| {
            next() + if (i + 1) % n == j { 2.0 } else { 0.0 }
        })
    }

    #[test]
    fn inverse_of_a_lower_triangle_ignores_what_is_above_it() {
        for n in [1, 2, 5, 16, 17, 40, 70] {
            let a = matrix(n, n as u64) + DMatrix::identity(n, n) * 3.0;
            let want = a.lower_triangle().try_inverse().expect("invertible");
            let got = super::lower_triangle_inverse(&a);
            assert!((got - want).amax() < 1e-12, "{n}");
        }
        let a = Matrix4::from_fn(|i, j| 1.0 + (i + 2 * j) as f64);
        let want = a.lower_triangle().try_inverse().expect("invertible");
        assert!((super::lower_triangle_inverse(&a) - want).amax() < 1e-12);
    }

    #[test]
    fn equals_nalgebra_inverse_at_every_size() {
        for n in (1..40).chain([47, 64, 65, 100]) {
            let a = matrix(n, n as u64);
            let lu = a.clone().lu();
            let expected = lu.try_inverse().expect("invertible");
            let got = lu_inverse(&lu, n).expect("invertible");
            let err = (&got - &expected).amax() / expected.amax();
            assert!(err < 1e-12, "n = {n}: relative difference {err:e}");
            let residual = (&a * &got - DMatrix::identity(n, n)).amax();
            assert!(residual < 1e-12, "n = {n}: ‖A A⁻¹ − I‖ = {residual:e}");
        }
    }

    #[test]
    fn single_precision() {
        let a = matrix(30, 3).map(|x| x as f32);
        let got = lu_inverse(&a.clone().lu(), 30).expect("invertible");
        let residual = (&a * &got - DMatrix::identity(30, 30)).amax();
        assert!(residual < 1e-4, "{residual:e}");
    }

    #[test]
    fn singular_exactly_when_nalgebra_says_so() {
        let mut a = matrix(20, 5);
        let row = a.row(3).clone_owned();
        a.set_row(7, &row);
        let lu = a.lu();
        assert_eq!(lu.try_inverse().is_none(), lu_inverse(&lu, 20).is_none());
        assert!(lu_inverse(&DMatrix::<f64>::zeros(20, 20).lu(), 20).is_none());
    }

    #[test]
    fn nan_propagates_like_nalgebra() {
        let mut a = matrix(20, 6);
        a[(4, 5)] = f64::NAN;
        let lu = a.lu();
        let (got, expected) = (lu_inverse(&lu, 20), lu.try_inverse());
        assert_eq!(got.is_some(), expected.is_some());
        if let (Some(g), Some(e)) = (got, expected) {
            assert_eq!(g.iter().any(|x| x.is_nan()), e.iter().any(|x| x.is_nan()));
        }
    }

    #[test]
    fn fixed_sizes_keep_nalgebra() {
        let a = Matrix4::new(
            4.0, 1.0, 0.0, 2.0, 1.0, 3.0, 1.0, 0.0, 0.0, 1.0, 5.0, 1.0, 2.0, 0.0, 1.0, 6.0,
        );
        let lu = a.lu();
        assert_eq!(lu_inverse(&lu, 4), lu.try_inverse());
    }
}
