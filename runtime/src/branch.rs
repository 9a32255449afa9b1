//! Helpers for the derivatives of branches: which argument std's `max`,
//! `min` and `clamp` return, and which entry nalgebra's `max`, `min`, `amax`
//! and `amin` pick.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, RawStorageMut, RealField};

/// Whether `x` is NaN, for any real scalar.
#[inline]
#[allow(clippy::eq_op)]
fn is_nan<T: RealField + Copy>(x: T) -> bool {
    x != x
}

/// 0 if `a.max(b)` returns `a`, 1 if it returns `b`: `b` if `a < b`, or if `a`
/// is NaN and `b` is not (std ignores a NaN); `a` otherwise, in particular at
/// a tie.
#[inline]
pub fn max_arm<T: RealField + Copy>(a: T, b: T) -> u8 {
    u8::from(a < b || (is_nan(a) && !is_nan(b)))
}

/// 0 if `a.min(b)` returns `a`, 1 if it returns `b` (as [`max_arm`]).
#[inline]
pub fn min_arm<T: RealField + Copy>(a: T, b: T) -> u8 {
    u8::from(b < a || (is_nan(a) && !is_nan(b)))
}

/// Which argument `x.clamp(lo, hi)` returns: 1 (`lo`) if `x < lo`, 2 (`hi`)
/// if `x > hi`, else 0 (`x`, also at `x == lo` or `x == hi`).
#[inline]
pub fn clamp_arm<T: RealField + Copy>(x: T, lo: T, hi: T) -> u8 {
    if x < lo {
        1
    } else if x > hi {
        2
    } else {
        0
    }
}

/// `v` if `taken`, else 0: a select, so an infinite or NaN `v` of the arm not
/// taken does not leak into the result.
#[inline]
pub fn routed<T: RealField + Copy>(taken: bool, v: T) -> T {
    if taken {
        v
    } else {
        T::zero()
    }
}

/// The column-major index of the entry `m.max()` (`pick` 0), `m.min()` (1),
/// `m.amax()` (2) or `m.amin()` (3) returns, with the sign of that entry (1
/// for `max` and `min`). nalgebra folds `acc.simd_max(next)`, which keeps
/// `acc` if `acc >= next`: a later entry wins only if strictly larger, so
/// ties go to the first.
fn extremum<T, R, C, S>(m: &Matrix<T, R, C, S>, pick: u8) -> Option<(usize, T)>
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
{
    let magnitude = pick >= 2;
    let largest = matches!(pick, 0 | 2);
    let key = |v: T| if magnitude { v.abs() } else { v };
    let mut best: Option<(usize, T)> = None;
    for (k, &v) in m.iter().enumerate() {
        let v = key(v);
        best = match best {
            Some((_, b)) if largest && b >= v => best,
            Some((_, b)) if !largest && b <= v => best,
            _ => Some((k, v)),
        };
    }
    best.map(|(k, _)| {
        let v = m.iter().nth(k).copied().unwrap_or_else(T::zero);
        let sign = if magnitude {
            crate::__private::sign(v)
        } else {
            T::one()
        };
        (k, sign)
    })
}

/// `c̄ s e_k`, the adjoint of `m.max()` and its kind (see `extremum`):
/// zero but at the entry picked.
#[inline]
pub fn extremum_adjoint<T, R, C, S>(m: &Matrix<T, R, C, S>, cbar: T, pick: u8) -> OMatrix<T, R, C>
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let mut out = crate::__private::zeros_like(m);
    extremum_add_into(&mut out, m, cbar, pick);
    out
}

/// `out += c̄ s e_k`: [`extremum_adjoint`] added into `out` in place (what a
/// sum of it and another term emits), no matrix of zeros formed.
#[inline]
pub fn extremum_add_into<T, R, C, S, R2, C2, S2>(
    out: &mut Matrix<T, R2, C2, S2>,
    m: &Matrix<T, R, C, S>,
    cbar: T,
    pick: u8,
) where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    R2: Dim,
    C2: Dim,
    S2: RawStorageMut<T, R2, C2>,
{
    if let Some((k, sign)) = extremum(m, pick) {
        out[k] += sign * cbar;
    }
}

/// `s dm[k]`, the tangent of `m.max()` and its kind along `dm`.
#[inline]
pub fn extremum_tangent<T, R, C, S, R2, C2, S2>(
    m: &Matrix<T, R, C, S>,
    dm: &Matrix<T, R2, C2, S2>,
    pick: u8,
) -> T
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
{
    match extremum(m, pick) {
        Some((k, sign)) => sign * dm[k],
        None => T::zero(),
    }
}
