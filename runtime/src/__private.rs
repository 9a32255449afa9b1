//! Helpers called by generated code. Not a public API: they may change in any release.

pub use matgrad_macros::resume;
pub use nalgebra;
pub use nalgebra::Const;

pub use crate::branch::{
    clamp_arm, extremum_add_into, extremum_adjoint, extremum_tangent, max_arm, min_arm, routed,
};
pub use crate::costly_map::{map_costly, map_costly_of};
pub use crate::determinant::CofactorSvd;
pub use crate::factor::{
    cholesky, fold_onto_lower, fold_onto_lower_in_place, lower_congruence,
    lower_congruence_diagonal, lower_half_diagonal, symmetric_from_lower,
};
pub use crate::linalg::{
    kronecker_adjoint_left, kronecker_adjoint_right, small_det_gradient,
    small_det_gradient_tangent, Lu, Svd,
};
pub use crate::product::{
    mul, mul_add, mul_formed, mul_into, mul_scaled, mul_tr, mul_tr_add, mul_tr_scaled, tr_mul,
    tr_mul_add, tr_mul_into, tr_mul_scaled, tr_mul_vector_scaled, trace, OuterSum,
};
pub use crate::rotation::stumpff;
pub use crate::stable::relu_derivative;
pub use crate::sum_loop::{
    local_view, splits_rows, sum_blocks, sum_loop, Accumulator, Indexed, RowsOut,
};
pub use crate::tape::FlatTape;

use nalgebra::allocator::Allocator;
use nalgebra::constraint::{SameNumberOfColumns, SameNumberOfRows, ShapeConstraint};
use nalgebra::{
    Complex, ComplexField, DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, RealField, Scalar,
    Storage, StorageMut,
};

/// `a⁻¹`, if `a` is invertible: nalgebra's `try_inverse` on a copy, so the
/// caller's `.unwrap()` or `.expect(…)` panics exactly as the user's code would.
#[inline]
pub fn inverse<T, D, S>(a: &Matrix<T, D, D, S>) -> Option<OMatrix<T, D, D>>
where
    T: ComplexField,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    a.clone_owned().try_inverse()
}

/// `a⁻¹`, or a matrix of NaN where `a` is singular.
#[inline]
pub fn inverse_or_nan<T, D, S>(a: &Matrix<T, D, D, S>) -> OMatrix<T, D, D>
where
    T: ComplexField,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    inverse(a).unwrap_or_else(|| a.map(|_| T::zero() / T::zero()))
}

/// `(Σ f.(m), f′.(m))` in one pass, `f` giving both for one entry: a `map`
/// read only by its sum, whose entries are added up (in nalgebra's `sum`
/// order) and not stored.
#[inline]
pub fn map_sum_with_derivative<T, R, C, S>(
    m: &Matrix<T, R, C, S>,
    f: impl Fn(T) -> (T, T),
) -> (T, OMatrix<T, R, C>)
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    map_sum_with_derivative_over(m.clone_owned(), f)
}

/// [`map_sum_with_derivative`] with `f′.(m)` written over `m`'s buffer.
///
/// ```
/// # use matgrad::__private::map_sum_with_derivative_over;
/// # use matgrad::nalgebra::DVector;
/// let m = DVector::from_vec(vec![1.0, 2.0]);
/// let (s, d) = map_sum_with_derivative_over(m, |v: f64| (v * v, 2.0 * v));
/// assert_eq!((s, d), (5.0, DVector::from_vec(vec![2.0, 4.0])));
/// ```
#[inline]
pub fn map_sum_with_derivative_over<T, R, C>(
    mut m: OMatrix<T, R, C>,
    f: impl Fn(T) -> (T, T),
) -> (T, OMatrix<T, R, C>)
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    let mut sum = T::zero();
    for v in m.iter_mut() {
        let (y, d) = f(v.clone());
        sum += y;
        *v = d;
    }
    (sum, m)
}

/// `a + b s` in one pass over `a` and `b`, entry by entry the arithmetic of
/// `b * s` then the sum (`K + I σ²` without `I σ²` on its own).
///
/// ```
/// # use matgrad::__private::add_scaled;
/// # use matgrad::nalgebra::DMatrix;
/// let (a, b) = (DMatrix::from_element(2, 2, 1.0), DMatrix::<f64>::identity(2, 2));
/// assert_eq!(add_scaled(&a, &b, 0.5), &a + &b * 0.5);
/// ```
#[inline]
pub fn add_scaled<T, R, C, S1, R2, C2, S2>(
    a: &Matrix<T, R, C, S1>,
    b: &Matrix<T, R2, C2, S2>,
    s: T,
) -> OMatrix<T, R, C>
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R, C>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R, C>,
    ShapeConstraint: SameNumberOfRows<R, R2> + SameNumberOfColumns<C, C2>,
{
    assert_eq!(a.shape(), b.shape(), "add_scaled: dimensions mismatch");
    let (r, c) = a.shape_generic();
    OMatrix::from_fn_generic(r, c, |i, j| {
        a[(i, j)].clone() + b[(i, j)].clone() * s.clone()
    })
}

/// [`add_scaled`] on `a`'s buffer.
#[inline]
pub fn add_scaled_over<T, R, C, R2, C2, S2>(
    mut a: OMatrix<T, R, C>,
    b: &Matrix<T, R2, C2, S2>,
    s: T,
) -> OMatrix<T, R, C>
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    R2: Dim,
    C2: Dim,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R, C>,
    ShapeConstraint: SameNumberOfRows<R, R2> + SameNumberOfColumns<C, C2>,
{
    a.zip_apply(b, |x, y| *x = x.clone() + y * s.clone());
    a
}

/// `y` placed by `place` into a zero matrix of shape `(rows, cols)` (the
/// adjoint of a view), or `y` itself when it has that shape: a view covering
/// the whole matrix (`w.rows(0, d)` with `d` the length of `w`) hands its
/// adjoint back without a copy.
///
/// ```
/// # use matgrad::__private::scatter;
/// # use matgrad::nalgebra::{DVector, Dyn, U1};
/// let place = |z: &mut DVector<f64>, y: DVector<f64>| z.rows_mut(0, y.len()).copy_from(&y);
/// let y = DVector::from_vec(vec![1.0, 2.0]);
/// assert_eq!(scatter(y.clone(), Dyn(3), U1, place), DVector::from_vec(vec![1.0, 2.0, 0.0]));
/// assert_eq!(scatter(y.clone(), Dyn(2), U1, place), y);
/// ```
#[inline]
pub fn scatter<T, R, C, R2, C2>(
    y: OMatrix<T, R2, C2>,
    rows: R,
    cols: C,
    place: impl FnOnce(&mut OMatrix<T, R, C>, OMatrix<T, R2, C2>),
) -> OMatrix<T, R, C>
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    R2: Dim,
    C2: Dim,
    DefaultAllocator: Allocator<R, C> + Allocator<R2, C2>,
{
    let mut y = Some(y);
    if y.as_ref().map(|y| y.shape()) == Some((rows.value(), cols.value())) {
        let any: &mut dyn core::any::Any = &mut y;
        if let Some(whole) = any.downcast_mut::<Option<OMatrix<T, R, C>>>() {
            return whole.take().expect("the block");
        }
    }
    let mut z = OMatrix::zeros_generic(rows, cols);
    place(&mut z, y.expect("the block"));
    z
}

/// `(f.(m), f′.(m))` in one pass, `f` giving both for one entry, so that a
/// `map` and its derivative share their intermediate values.
#[inline]
pub fn map_with_derivative<T, R, C, S>(
    m: &Matrix<T, R, C, S>,
    f: impl Fn(T) -> (T, T),
) -> (OMatrix<T, R, C>, OMatrix<T, R, C>)
where
    T: Scalar,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let (mut value, mut derivative) = (m.clone_owned(), m.clone_owned());
    for (y, d) in value.iter_mut().zip(derivative.iter_mut()) {
        (*y, *d) = f(y.clone());
    }
    (value, derivative)
}

/// `f` applied entry by entry to four matrices of one shape (nalgebra's
/// `zip_map` takes two, `zip_zip_map` three): the tangent of a map's adjoint.
#[inline]
pub fn zip_map4<T1, T2, T3, T4, U, R, C, S1, S2, S3, S4>(
    a: &Matrix<T1, R, C, S1>,
    b: &Matrix<T2, R, C, S2>,
    c: &Matrix<T3, R, C, S3>,
    d: &Matrix<T4, R, C, S4>,
    mut f: impl FnMut(T1, T2, T3, T4) -> U,
) -> OMatrix<U, R, C>
where
    T1: Scalar,
    T2: Scalar,
    T3: Scalar,
    T4: Scalar,
    U: Scalar,
    R: Dim,
    C: Dim,
    S1: RawStorage<T1, R, C>,
    S2: RawStorage<T2, R, C>,
    S3: RawStorage<T3, R, C>,
    S4: RawStorage<T4, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let (r, cols) = a.shape_generic();
    assert!(
        b.shape() == a.shape() && c.shape() == a.shape() && d.shape() == a.shape(),
        "matgrad: entrywise operands of different shapes"
    );
    OMatrix::from_fn_generic(r, cols, |i, j| {
        f(
            a[(i, j)].clone(),
            b[(i, j)].clone(),
            c[(i, j)].clone(),
            d[(i, j)].clone(),
        )
    })
}

/// −1, 0 or 1 (NaN stays NaN): the derivative of `abs`, with the subgradient 0 at 0.
#[inline]
pub fn sign<T: RealField + Copy>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        x
    }
}

/// A zero matrix of the type and shape of `like` (the gradient with respect to
/// a parameter the value does not depend on).
#[inline]
pub fn zeros_like<T, R, C, S>(like: &Matrix<T, R, C, S>) -> OMatrix<T, R, C>
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = like.shape_generic();
    OMatrix::from_element_generic(r, c, T::zero())
}

/// `s 𝟙`, every entry `s`, of sizes `r × c` (nalgebra's
/// `from_element_generic`, by a short path: generated code is shorter).
#[inline]
pub fn filled<T, R, C>(r: R, c: C, s: T) -> OMatrix<T, R, C>
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    OMatrix::from_element_generic(r, c, s)
}

/// `s I` of sizes `r × c` (nalgebra's `from_diagonal_element_generic`, by a
/// short path).
#[inline]
pub fn scaled_identity<T, R, C>(r: R, c: C, s: T) -> OMatrix<T, R, C>
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    OMatrix::from_diagonal_element_generic(r, c, s)
}

/// `f.(m)` in `m`'s own buffer (a matrix nothing reads after the map).
#[inline]
pub fn map_in_place<T, R, C, S, F>(mut m: Matrix<T, R, C, S>, mut f: F) -> Matrix<T, R, C, S>
where
    T: Scalar + Copy,
    R: Dim,
    C: Dim,
    S: StorageMut<T, R, C>,
    F: FnMut(T) -> T,
{
    m.apply(|x| *x = f(*x));
    m
}

/// `f.(a)`, written into `spare`'s buffer when it has one of `a`'s shape (a
/// loop keeps the buffer of one iteration's map for the next), else into a
/// new matrix.
#[inline]
pub fn map_into<T, R, C, S, F>(
    spare: Option<OMatrix<T, R, C>>,
    a: &Matrix<T, R, C, S>,
    mut f: F,
) -> OMatrix<T, R, C>
where
    T: Scalar + Copy,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    F: FnMut(T) -> T,
    DefaultAllocator: Allocator<R, C>,
{
    match spare {
        Some(mut m) if m.shape() == a.shape() => {
            m.zip_apply(a, |out, v| *out = f(v));
            m
        }
        _ => a.map(f),
    }
}

/// `(f.(a), Σ f.(a))` in one pass ([`map_into`] adding up the entries as it
/// writes them): a map whose sum is read beside its entries. The sum runs in
/// nalgebra's order (column by column, from zero), so it equals `sum()` of
/// the map bit for bit.
#[inline]
pub fn map_summed_into<T, R, C, S, F>(
    spare: Option<OMatrix<T, R, C>>,
    a: &Matrix<T, R, C, S>,
    mut f: F,
) -> (OMatrix<T, R, C>, T)
where
    T: ComplexField + Copy,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    F: FnMut(T) -> T,
    DefaultAllocator: Allocator<R, C>,
{
    let mut sum = T::zero();
    let m = map_into(spare, a, |v| {
        let y = f(v);
        sum += y;
        y
    });
    (m, sum)
}

/// [`map_summed_into`] in `m`'s own buffer (a matrix nothing reads after the
/// map).
#[inline]
pub fn map_summed_in_place<T, R, C, S, F>(
    m: Matrix<T, R, C, S>,
    mut f: F,
) -> (Matrix<T, R, C, S>, T)
where
    T: ComplexField + Copy,
    R: Dim,
    C: Dim,
    S: StorageMut<T, R, C>,
    F: FnMut(T) -> T,
{
    let mut sum = T::zero();
    let m = map_in_place(m, |v| {
        let y = f(v);
        sum += y;
        y
    });
    (m, sum)
}

/// `f.(a, b)` entry by entry (nalgebra's `zip_map`), written into `spare`'s
/// buffer when it has `a`'s shape, else into a new matrix.
///
/// ```
/// # use matgrad::__private::zip_map_into;
/// # use matgrad::nalgebra::DVector;
/// let (g, y) = (DVector::from_vec(vec![1.0, 2.0]), DVector::from_vec(vec![0.5, 0.0]));
/// let spare = DVector::zeros(2);
/// let d = zip_map_into(Some(spare), &g, &y, |g: f64, y: f64| g * (1.0 - y * y));
/// assert_eq!(d, DVector::from_vec(vec![0.75, 2.0]));
/// ```
#[inline]
pub fn zip_map_into<T1, T2, U, R, C, S1, S2, F>(
    spare: Option<OMatrix<U, R, C>>,
    a: &Matrix<T1, R, C, S1>,
    b: &Matrix<T2, R, C, S2>,
    mut f: F,
) -> OMatrix<U, R, C>
where
    T1: Scalar,
    T2: Scalar,
    U: Scalar,
    R: Dim,
    C: Dim,
    S1: Storage<T1, R, C>,
    S2: Storage<T2, R, C>,
    F: FnMut(T1, T2) -> U,
    DefaultAllocator: Allocator<R, C>,
{
    match spare {
        Some(mut m) if m.shape() == a.shape() => {
            m.zip_zip_apply(a, b, |out, x, y| *out = f(x, y));
            m
        }
        _ => a.zip_map(b, f),
    }
}

/// `f.(a, b, c)` entry by entry (nalgebra's `zip_zip_map`), written into
/// `spare`'s buffer when it has `a`'s shape, else into a new matrix.
///
/// ```
/// # use matgrad::__private::zip_zip_map_into;
/// # use matgrad::nalgebra::DVector;
/// let v = DVector::from_vec(vec![1.0, 2.0]);
/// let s = zip_zip_map_into(None, &v, &v, &v, |a: f64, b: f64, c: f64| a * b + c);
/// assert_eq!(s, DVector::from_vec(vec![2.0, 6.0]));
/// ```
#[inline]
pub fn zip_zip_map_into<T1, T2, T3, U, R, C, S1, S2, S3, F>(
    spare: Option<OMatrix<U, R, C>>,
    a: &Matrix<T1, R, C, S1>,
    b: &Matrix<T2, R, C, S2>,
    c: &Matrix<T3, R, C, S3>,
    mut f: F,
) -> OMatrix<U, R, C>
where
    T1: Scalar,
    T2: Scalar,
    T3: Scalar,
    U: Scalar,
    R: Dim,
    C: Dim,
    S1: Storage<T1, R, C>,
    S2: Storage<T2, R, C>,
    S3: Storage<T3, R, C>,
    F: FnMut(T1, T2, T3) -> U,
    DefaultAllocator: Allocator<R, C>,
{
    match spare {
        Some(mut m) if m.shape() == a.shape() => {
            assert!(
                b.shape() == a.shape() && c.shape() == a.shape(),
                "Matrix simultaneous traversal error: dimension mismatch."
            );
            let entries = a.iter().zip(b.iter()).zip(c.iter());
            for (out, ((x, y), z)) in m.iter_mut().zip(entries) {
                *out = f(x.clone(), y.clone(), z.clone());
            }
            m
        }
        _ => a.zip_zip_map(b, c, f),
    }
}

/// `s I` of size `n × n`.
#[inline]
pub fn scaled_identity_square<T, D>(n: D, s: T) -> OMatrix<T, D, D>
where
    T: ComplexField,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    OMatrix::from_diagonal_element_generic(n, n, s)
}

/// `m` with the type of `like` (same entries and shape): when a gradient mixes
/// fixed-size and dynamic operands, nalgebra's type of the result can differ
/// from the parameter's.
#[inline]
pub fn conform<T, R1, C1, S1, R2, C2, S2>(
    m: Matrix<T, R1, C1, S1>,
    like: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R2, C2>
where
    T: Scalar,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
    DefaultAllocator: Allocator<R2, C2>,
{
    let (r, c) = like.shape_generic();
    assert_eq!(
        m.shape(),
        like.shape(),
        "matgrad: gradient shape differs from its parameter's"
    );
    OMatrix::from_iterator_generic(r, c, m.iter().cloned())
}

/// Real coordinate `k` of a complex scalar: 1 for `k = 0`, `i` for `k = 1`
/// (the direction of one column of a Hessian).
#[inline]
pub fn complex_unit<T: RealField>(k: usize) -> Complex<T> {
    if k == 0 {
        Complex::new(T::one(), T::zero())
    } else {
        Complex::new(T::zero(), T::one())
    }
}

/// The complex matrix shaped like `like` that is real coordinate `k` of its
/// entries: 1 (`k` even) or `i` (`k` odd) at column-major index `k / 2`.
#[inline]
pub fn complex_unit_like<T, R, C, S>(
    like: &Matrix<Complex<T>, R, C, S>,
    k: usize,
) -> OMatrix<Complex<T>, R, C>
where
    T: RealField,
    R: Dim,
    C: Dim,
    S: RawStorage<Complex<T>, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let mut unit = zeros_like(like);
    unit[k / 2] = complex_unit(k % 2);
    unit
}

/// The unit matrix shaped like `like` with a 1 at column-major index `k`: the
/// direction of one column of a Jacobian or Hessian.
#[inline]
pub fn unit_like<T, R, C, S>(like: &Matrix<T, R, C, S>, k: usize) -> OMatrix<T, R, C>
where
    T: ComplexField,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let mut unit = zeros_like(like);
    unit[k] = T::one();
    unit
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, DVector};

    use super::{map_into, map_summed_in_place, map_summed_into, zip_map_into, zip_zip_map_into};

    #[test]
    fn map_into_reuses_a_buffer_of_the_same_shape_only() {
        let a = DVector::from_vec(vec![1.0, -2.0, 3.0]);
        let spare = DVector::from_vec(vec![9.0, 9.0, 9.0]);
        let pointer = spare.as_ptr();
        let mapped = map_into(Some(spare), &a, |v: f64| 2.0 * v);
        assert_eq!(mapped, a * 2.0);
        assert_eq!(mapped.as_ptr(), pointer, "the buffer is reused");
        let other = DMatrix::from_element(2, 2, 1.0);
        let b = DMatrix::from_element(3, 1, 0.5);
        assert_eq!(
            map_into(Some(other), &b, |v: f64| v + 1.0),
            b.add_scalar(1.0)
        );
        assert_eq!(map_into(None, &b, f64::exp), b.map(f64::exp));
    }

    /// The sum taken in the map's pass is `sum()` of the map bit for bit (added in the same
    /// order), into a spare buffer, a new matrix or the argument's own buffer.
    #[test]
    fn a_map_summed_in_its_pass_equals_its_sum() {
        let a = DMatrix::from_fn(3, 4, |i, j| (0.37 * (i + 5 * j) as f64).sin() * 1e3);
        let f = |v: f64| (v * 1e-3).exp() - 0.1 * v;
        let (mapped, sum) = (a.map(f), a.map(f).sum());
        let spare = DMatrix::from_element(3, 4, f64::NAN);
        let pointer = spare.as_ptr();
        let (m, s) = map_summed_into(Some(spare), &a, f);
        assert_eq!((&m, s.to_bits()), (&mapped, sum.to_bits()));
        assert_eq!(m.as_ptr(), pointer, "the buffer is reused");
        let (m, s) = map_summed_into(None, &a.column(2), f);
        assert_eq!((m, s), (a.column(2).map(f), a.column(2).map(f).sum()));
        let (m, s) = map_summed_in_place(a.clone(), f);
        assert_eq!((&m, s.to_bits()), (&mapped, sum.to_bits()));
    }

    #[test]
    fn zip_maps_into_reuse_a_buffer_of_the_same_shape_only() {
        let (a, b) = (
            DMatrix::from_fn(2, 3, |i, j| (i + 2 * j) as f64),
            DMatrix::from_element(2, 3, 0.5),
        );
        let c = b.column(1).clone_owned() * 2.0;
        let (f, g) = (
            |x: f64, y: f64| x * y - 1.0,
            |x: f64, y: f64, z: f64| x - y * z,
        );
        let spare = DMatrix::from_element(2, 3, f64::NAN);
        let pointer = spare.as_ptr();
        let zipped = zip_map_into(Some(spare), &a, &b, f);
        assert_eq!(zipped, a.zip_map(&b, f));
        assert_eq!(zipped.as_ptr(), pointer, "the buffer is reused");
        let zipped = zip_zip_map_into(Some(zipped), &a, &b, &a, g);
        assert_eq!(zipped, a.zip_zip_map(&b, &a, g));
        assert_eq!(zipped.as_ptr(), pointer, "the buffer is reused");
        // Views, and spares of another shape.
        let (x, y) = (a.column(2), b.column(0));
        let other = DVector::from_element(3, f64::NAN);
        assert_eq!(
            zip_map_into(Some(other.clone()), &x, &y, f),
            x.zip_map(&y, f)
        );
        assert_eq!(
            zip_zip_map_into(Some(other), &x, &y, &c, g),
            x.zip_zip_map(&y, &c, g)
        );
        assert_eq!(zip_map_into(None, &x, &c, f), x.zip_map(&c, f));
    }
}
