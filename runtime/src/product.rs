//! `Aᵀ B` and `A Bᵀ` for matrices without copying the transpose, and products added to a matrix
//! in place.
//!
//! nalgebra 0.35's `tr_mul` computes one dot product per entry, while `gemm`
//! hands a dynamic product whose output and first operand exceed 5 × 5 to
//! `matrixmultiply` (blocked, vectorised, any strides). Past that threshold,
//! `Aᵀ` is passed to `gemm` as a view of `A`'s storage with rows and columns
//! exchanged; below it, or for fixed sizes (which nalgebra never blocks),
//! `tr_mul` is the faster of the two. Every dynamic `f64` product here whose output has a few
//! columns past a multiple of 8 computes those columns with [`narrow`]'s loops; those nalgebra
//! computes column by column (a matrix times a vector, an outer product) or as dot products
//! (`Aᵀ x`) run [`columns`]' and [`dots`]' loops, equal to nalgebra's bit for bit.

use std::ops::Mul;

use nalgebra::allocator::Allocator;
use nalgebra::constraint::{
    AreMultipliable, DimEq, SameNumberOfColumns, SameNumberOfRows, ShapeConstraint,
};
use nalgebra::{
    ComplexField, DMatrixView, DefaultAllocator, Dim, Dyn, Matrix, OMatrix, OVector, RealField,
    Scalar, Storage, StorageMut, Vector, ViewStorage,
};

use crate::{columns, dots, narrow, parallel};

/// `tr(m)` for any matrix type: nalgebra's `trace` needs a square type, and a
/// product of fixed and dynamic factors is square only in its sizes
/// (`Matrix<T, Dyn, Const<3>>`). Panics if `m` is not square, as `trace` does.
pub fn trace<T, R, C, S>(m: &Matrix<T, R, C, S>) -> T
where
    T: nalgebra::ComplexField + Copy,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
{
    assert!(
        m.is_square(),
        "Unable to compute the trace of a non-square matrix."
    );
    (0..m.nrows()).fold(T::zero(), |acc, i| acc + m[(i, i)])
}

/// `aᵀ b`, equal to `a.tr_mul(b)`.
pub fn tr_mul<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, C1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<C1, C2>,
    ShapeConstraint: SameNumberOfRows<R1, R2> + DimEq<R1, R2>,
{
    if !blocked(a, b) {
        // nalgebra's dot products, into a matrix not filled first, unless split across
        // threads or computed by `dots`' loops.
        if parallel::gemm_tr_parts(dynamic(a, b), a, b) <= 1 && !dots::applies(a, b) {
            return a.tr_mul(b);
        }
        return scaled_tr_product(T::one(), a, b);
    }
    if !parallel::worth_splitting(true, work(a, b)) {
        return unfilled_product(&transposed(a), b);
    }
    let mut out = OMatrix::zeros_generic(a.shape_generic().1, b.shape_generic().1);
    parallel::gemm::<T, C1, C2, _, C1, R1, _, R2, C2, _>(
        &mut out,
        T::one(),
        &transposed(a),
        b,
        T::zero(),
    );
    out
}

/// `a b`, equal to `a * b`; for a large dynamic vector `b` with the `parallel` feature, split
/// across threads, else on this thread: nalgebra's product, or where they pay matgrad's own
/// loops for part or all of it.
#[inline]
pub fn mul<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, C2>,
    ShapeConstraint: AreMultipliable<R1, C1, R2, C2> + DimEq<C1, R2>,
{
    if !parallel::worth_splitting(dynamic(a, b), work(a, b)) {
        return unfilled_product(a, b);
    }
    let mut out = OMatrix::zeros_generic(a.shape_generic().0, b.shape_generic().1);
    parallel::gemm::<T, R1, C2, _, R1, C1, _, R2, C2, _>(&mut out, T::one(), a, b, T::zero());
    out
}

/// `a b` for the factor `a = form_a()`, equal to `form_a() * b`: as [`mul`], except that where
/// the `parallel` feature splits the product into blocks that each read all of `a`, the blocks
/// on other threads form `a` again from the inputs instead of reading the calling thread's
/// fresh copy (`(A + Aᵀ) X`, the gradient of a quadratic form).
///
/// ```
/// # use matgrad::__private::mul_formed;
/// # use matgrad::nalgebra::DMatrix;
/// let (a, x) = (DMatrix::from_fn(3, 3, |i, j| (i + 2 * j) as f64), DMatrix::identity(3, 2));
/// assert_eq!(mul_formed(|| &a + a.transpose(), &x), (&a + a.transpose()) * &x);
/// ```
#[inline]
pub fn mul_formed<T, R1, C1, S1, R2, C2, S2, F>(
    form_a: F,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    F: Fn() -> Matrix<T, R1, C1, S1> + Sync,
    DefaultAllocator: Allocator<R1, C2>,
    ShapeConstraint: AreMultipliable<R1, C1, R2, C2> + DimEq<C1, R2>,
{
    let a = form_a();
    if !parallel::worth_splitting(dynamic(&a, b), work(&a, b)) {
        return unfilled_product(&a, b);
    }
    let mut out = OMatrix::zeros_generic(a.shape_generic().0, b.shape_generic().1);
    parallel::gemm_formed(&mut out, T::one(), &a, Some(&form_a), b, T::zero());
    out
}

/// [`mul`] written into `spare`'s buffer when it has the product's shape (a
/// loop keeps a buffer from one iteration for the next), else into a new
/// matrix: the same arithmetic, `gemm` with β = 0 (which does not read the
/// buffer's old entries).
///
/// ```
/// # use matgrad::__private::mul_into;
/// # use matgrad::nalgebra::{DMatrix, DVector};
/// let (w, h) = (DMatrix::from_element(2, 2, 1.0), DVector::from_vec(vec![1.0, 2.0]));
/// let spare = DVector::from_element(2, f64::NAN);
/// assert_eq!(mul_into(Some(spare), &w, &h), &w * &h);
/// ```
#[inline]
pub fn mul_into<T, R1, C1, S1, R2, C2, S2>(
    spare: Option<OMatrix<T, R1, C2>>,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, C2>,
    ShapeConstraint: AreMultipliable<R1, C1, R2, C2> + DimEq<C1, R2>,
{
    let Some(mut out) = spare.filter(|m| m.shape() == (a.nrows(), b.ncols())) else {
        return mul(a, b);
    };
    parallel::gemm::<T, R1, C2, _, R1, C1, _, R2, C2, _>(&mut out, T::one(), a, b, T::zero());
    out
}

/// [`tr_mul`] written into `spare`'s buffer when it has the product's shape,
/// else into a new matrix, by the same arithmetic.
///
/// ```
/// # use matgrad::__private::tr_mul_into;
/// # use matgrad::nalgebra::{DMatrix, DVector};
/// let (w, d) = (DMatrix::from_fn(2, 2, |i, j| (i + 2 * j) as f64), DVector::from_vec(vec![1.0, 2.0]));
/// let spare = DVector::from_element(2, f64::NAN);
/// assert_eq!(tr_mul_into(Some(spare), &w, &d), w.tr_mul(&d));
/// ```
pub fn tr_mul_into<T, R1, C1, S1, R2, C2, S2>(
    spare: Option<OMatrix<T, C1, C2>>,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, C1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<C1, C2>,
    ShapeConstraint: SameNumberOfRows<R1, R2> + DimEq<R1, R2>,
{
    let Some(mut out) = spare.filter(|m| m.shape() == (a.ncols(), b.ncols())) else {
        return tr_mul(a, b);
    };
    if blocked(a, b) {
        parallel::gemm::<T, C1, C2, _, C1, R1, _, R2, C2, _>(
            &mut out,
            T::one(),
            &transposed(a),
            b,
            T::zero(),
        );
    } else {
        parallel::gemm_tr::<T, C1, C2, _, R1, C1, _, R2, C2, _>(
            &mut out,
            T::one(),
            a,
            b,
            T::zero(),
        );
    }
    out
}

/// `acc + α a b` on `acc`'s buffer (nalgebra's `gemm` with β = 1): a sum of
/// adjoints accumulated in place.
pub fn mul_add<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
    mut acc: Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> Matrix<T, R0, C0, S0>
where
    T: RealField,
    R0: Dim,
    C0: Dim,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S0: StorageMut<T, R0, C0>,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    ShapeConstraint: SameNumberOfRows<R0, R1> + SameNumberOfColumns<C0, C2> + DimEq<C1, R2>,
{
    parallel::gemm::<T, R0, C0, _, R1, C1, _, R2, C2, _>(&mut acc, alpha, a, b, T::one());
    acc
}

/// `acc + α aᵀ b` on `acc`'s buffer, equal to `acc.gemm_tr(α, a, b, 1)`.
pub fn tr_mul_add<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
    mut acc: Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> Matrix<T, R0, C0, S0>
where
    T: RealField,
    R0: Dim,
    C0: Dim,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S0: StorageMut<T, R0, C0>,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    ShapeConstraint: SameNumberOfRows<R0, C1>
        + SameNumberOfColumns<C0, C2>
        + SameNumberOfRows<R1, R2>
        + DimEq<R1, R2>,
{
    if blocked(a, b) {
        parallel::gemm::<T, R0, C0, _, C1, R1, _, R2, C2, _>(
            &mut acc,
            alpha,
            &transposed(a),
            b,
            T::one(),
        );
    } else {
        parallel::gemm_tr::<T, R0, C0, _, R1, C1, _, R2, C2, _>(&mut acc, alpha, a, b, T::one());
    }
    acc
}

/// `α a b`, the scaling folded into `gemm`'s α.
pub fn mul_scaled<T, R1, C1, S1, R2, C2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, C2>
where
    T: RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, C2>,
    ShapeConstraint: AreMultipliable<R1, C1, R2, C2> + DimEq<C1, R2>,
{
    scaled_product(alpha, a, b)
}

/// `a bᵀ`, equal to `a * b.transpose()`. Where `gemm` blocks, `bᵀ` is a view
/// of `b`'s storage (zeroing the output costs less than copying `b`, which
/// has as many rows and the inner size as columns); an outer product `x yᵀ` of
/// dynamic `f64` vectors by matgrad's column loops, reading `y` in place; elsewhere
/// nalgebra's own product.
pub fn mul_tr<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, R2>
where
    T: RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, R2> + Allocator<C2, R2>,
    ShapeConstraint: AreMultipliable<R1, C1, C2, R2>,
    for<'m> &'m Matrix<T, R1, C1, S1>: Mul<OMatrix<T, C2, R2>, Output = OMatrix<T, R1, R2>>,
{
    let bt = transposed(b);
    if dynamic(a, b) && a.nrows() > 5 && a.ncols() > 5 && b.nrows() > 5 {
        if parallel::worth_splitting(true, work(a, &bt)) {
            return mul_tr_scaled(T::one(), a, b);
        }
        unfilled_product(a, &bt)
    } else if columns::applies(a, &bt, 1) {
        columns::product(T::one(), a, &bt)
    } else {
        a * b.transpose()
    }
}

/// `acc + α a bᵀ` on `acc`'s buffer, `bᵀ` a view of `b`'s storage (`gemm`
/// with β = 1, no transposed copy of `b`).
pub fn mul_tr_add<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
    mut acc: Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> Matrix<T, R0, C0, S0>
where
    T: RealField,
    R0: Dim,
    C0: Dim,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S0: StorageMut<T, R0, C0>,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    ShapeConstraint:
        SameNumberOfRows<R0, R1> + SameNumberOfColumns<C0, R2> + AreMultipliable<R1, C1, C2, R2>,
{
    parallel::gemm::<T, R0, C0, _, R1, C1, _, C2, R2, _>(
        &mut acc,
        alpha,
        a,
        &transposed(b),
        T::one(),
    );
    acc
}

/// `α a bᵀ`, the scaling folded into `gemm`'s α and `bᵀ` a view of `b`'s
/// storage.
pub fn mul_tr_scaled<T, R1, C1, S1, R2, C2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, R2>
where
    T: RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, R2>,
    ShapeConstraint: AreMultipliable<R1, C1, C2, R2>,
{
    scaled_product(alpha, a, &transposed(b))
}

/// `α aᵀ b`, the scaling folded into `gemm`'s α.
pub fn tr_mul_scaled<T, R1, C1, S1, R2, C2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, C1, C2>
where
    T: RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<C1, C2>,
    ShapeConstraint: SameNumberOfRows<R1, R2> + DimEq<R1, R2>,
{
    if !blocked(a, b) {
        return scaled_tr_product(alpha, a, b);
    }
    let mut out = OMatrix::zeros_generic(a.shape_generic().1, b.shape_generic().1);
    parallel::gemm::<T, C1, C2, _, C1, R1, _, R2, C2, _>(
        &mut out,
        alpha,
        &transposed(a),
        b,
        T::zero(),
    );
    out
}

/// `α aᵀ b` for a vector `b`, the scaling folded into `gemv_tr`'s α (through
/// `parallel::gemm_tr`, which splits it for large dynamic sizes).
pub fn tr_mul_vector_scaled<T, R1, C1, S1, R2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Vector<T, R2, S2>,
) -> OVector<T, C1>
where
    T: RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2>,
    DefaultAllocator: Allocator<C1>,
    ShapeConstraint: DimEq<R1, R2>,
{
    scaled_tr_product(alpha, a, b)
}

/// `c += α Σₜ aₜ hₜᵀ` over a loop's iterations, as one blocked `gemm` per
/// [`OuterSum::CHUNK`] iterations instead of one rank-one update (`ger`) per
/// iteration: the vectors are gathered as the columns of `[a₀ a₁ …]` and
/// `[h₀ h₁ …]`, and the sum added as `A Hᵀ` (`matrixmultiply`'s kernels,
/// where `ger` is one pass over `c` per iteration).
pub struct OuterSum<T> {
    alpha: T,
    left: Vec<T>,
    right: Vec<T>,
}

impl<T: RealField + Copy> OuterSum<T> {
    /// Iterations gathered before they are added.
    pub const CHUNK: usize = 64;

    pub fn new(alpha: T) -> Self {
        OuterSum {
            alpha,
            left: Vec::new(),
            right: Vec::new(),
        }
    }

    /// Adds `a hᵀ` to the sum, and the sum so far to `c` every
    /// [`OuterSum::CHUNK`] iterations.
    pub fn push<R0, C0, S0, R1, S1, R2, S2>(
        &mut self,
        c: &mut Matrix<T, R0, C0, S0>,
        a: &Vector<T, R1, S1>,
        h: &Vector<T, R2, S2>,
    ) where
        R0: Dim,
        C0: Dim,
        R1: Dim,
        R2: Dim,
        S0: StorageMut<T, R0, C0>,
        S1: Storage<T, R1>,
        S2: Storage<T, R2>,
        ShapeConstraint: SameNumberOfRows<R0, Dyn> + SameNumberOfColumns<C0, Dyn>,
    {
        assert_eq!((a.len(), h.len()), c.shape(), "ger: dimensions mismatch");
        // Room for a whole chunk at once, and each vector copied as one
        // slice (nalgebra's entry iterator does not vectorise).
        if self.left.is_empty() {
            self.left.reserve(Self::CHUNK * a.len());
            self.right.reserve(Self::CHUNK * h.len());
        }
        append(&mut self.left, a);
        append(&mut self.right, h);
        if self.left.len() >= Self::CHUNK * a.len().max(1) {
            self.add_to(c);
        }
    }

    /// Adds what is gathered to `c` (at the end of the loop).
    pub fn add_to<R0, C0, S0>(&mut self, c: &mut Matrix<T, R0, C0, S0>)
    where
        R0: Dim,
        C0: Dim,
        S0: StorageMut<T, R0, C0>,
        ShapeConstraint: SameNumberOfRows<R0, Dyn> + SameNumberOfColumns<C0, Dyn>,
    {
        let (rows, cols) = c.shape();
        if rows > 0 && cols > 0 && !self.left.is_empty() {
            let steps = self.left.len() / rows;
            let a = DMatrixView::from_slice(&self.left, rows, steps);
            let h = DMatrixView::from_slice(&self.right, cols, steps);
            let ht: Matrix<T, Dyn, Dyn, _> = transposed(&h);
            c.gemm(self.alpha, &a, &ht, T::one());
        }
        self.left.clear();
        self.right.clear();
    }
}

/// `v`'s entries added at the end of `out`.
fn append<T, R, S>(out: &mut Vec<T>, v: &Vector<T, R, S>)
where
    T: RealField + Copy,
    R: Dim,
    S: Storage<T, R>,
{
    let start = out.len();
    out.resize(start + v.len(), T::zero());
    let (rows, one) = v.shape_generic();
    nalgebra::MatrixViewMut::from_slice_generic(&mut out[start..], rows, one).copy_from(v);
}

/// `α a b` into a new matrix by `parallel::gemm` (β = 0); where one thread computes it by
/// [`columns`]' loops, not filled with zeros first.
fn scaled_product<T, R1, C1, S1, R2, C2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, C2>,
    ShapeConstraint: DimEq<C1, R2>,
{
    if parallel::gemm_parts(dynamic(a, b), a, b) <= 1 && columns::applies(a, b, 1) {
        return columns::product(alpha, a, b);
    }
    let mut out = OMatrix::zeros_generic(a.shape_generic().0, b.shape_generic().1);
    parallel::gemm::<T, R1, C2, _, R1, C1, _, R2, C2, _>(&mut out, alpha, a, b, T::zero());
    out
}

/// `α aᵀ b` into a new matrix by `parallel::gemm_tr` (β = 0); where one thread computes it by
/// [`dots`]' loops, not filled with zeros first.
fn scaled_tr_product<T, R1, C1, S1, R2, C2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, C1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<C1, C2>,
    ShapeConstraint: DimEq<R1, R2>,
{
    if parallel::gemm_tr_parts(dynamic(a, b), a, b) <= 1 && dots::applies(a, b) {
        return dots::tr_product(alpha, a, b);
    }
    let mut out = OMatrix::zeros_generic(a.shape_generic().1, b.shape_generic().1);
    parallel::gemm_tr::<T, C1, C2, _, R1, C1, _, R2, C2, _>(&mut out, alpha, a, b, T::zero());
    out
}

/// The multiply-adds of `a b`.
fn work<T: Scalar, R1: Dim, C1: Dim, S1, R2: Dim, C2: Dim, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> usize
where
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
{
    a.len().saturating_mul(b.ncols())
}

/// Whether a size of `a` or `b` is dynamic.
fn dynamic<T: Scalar, R1: Dim, C1: Dim, S1, R2: Dim, C2: Dim, S2>(
    _: &Matrix<T, R1, C1, S1>,
    _: &Matrix<T, R2, C2, S2>,
) -> bool {
    R1::is::<Dyn>() || C1::is::<Dyn>() || R2::is::<Dyn>() || C2::is::<Dyn>()
}

/// Whether nalgebra's `gemm` takes its blocked path for `aᵀ b`.
fn blocked<T: Scalar, R1: Dim, C1: Dim, S1, R2: Dim, C2: Dim, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> bool
where
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
{
    let (rows, cols) = a.shape();
    assert_eq!(rows, b.nrows(), "tr_mul: dimensions mismatch");
    dynamic(a, b) && rows > 5 && cols > 5 && b.ncols() > 5
}

/// `a b` by nalgebra's product, which writes its output without filling it with zeros first
/// (as `gemm` with β = 0 into a zero matrix does), unless its last columns are narrow (see
/// [`narrow`]). A function of its own: inside [`mul_tr`], whose bounds name `&a * OMatrix`,
/// `a * bᵀ` on a view would resolve to that product instead.
fn unfilled_product<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, C2>
where
    T: ComplexField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, C2>,
    ShapeConstraint: AreMultipliable<R1, C1, R2, C2>,
{
    if columns::applies(a, b, 1) {
        return columns::product(T::one(), a, b);
    }
    let narrow = narrow::narrow_columns(a, b, 1);
    if narrow == 0 {
        return a * b;
    }
    let mut out = OMatrix::zeros_generic(a.shape_generic().0, b.shape_generic().1);
    narrow::gemm_with(&mut out, T::one(), a, b, T::zero(), narrow);
    out
}

/// `aᵀ` as a view of `a`'s storage with rows and columns exchanged.
pub(crate) fn transposed<T: Scalar, R: Dim, C: Dim, S: Storage<T, R, C>>(
    a: &Matrix<T, R, C, S>,
) -> Matrix<T, C, R, ViewStorage<'_, T, C, R, Dyn, Dyn>> {
    let (r, c) = a.shape_generic();
    let (row_stride, col_stride) = a.strides();
    // SAFETY: the view reads exactly the entries of `a`, which it borrows:
    // entry (i, j) of the view is entry (j, i) of `a`.
    Matrix::from_data(unsafe {
        ViewStorage::from_raw_parts(a.data.ptr(), (c, r), (Dyn(col_stride), Dyn(row_stride)))
    })
}

#[cfg(test)]
mod tests {
    use crate::test_matrices::filled;
    use nalgebra::{DMatrix, SMatrix};

    use super::{
        mul, mul_into, mul_scaled, mul_tr, mul_tr_add, mul_tr_scaled, tr_mul, tr_mul_add,
        tr_mul_into, tr_mul_scaled, tr_mul_vector_scaled, OuterSum,
    };

    /// Into a spare of the product's shape: its buffer, whatever it held
    /// (NaN included), and exactly the product's entries; of another shape,
    /// or none: a new matrix.
    #[test]
    fn products_into_a_spare_reuse_it_when_the_shape_fits() {
        // 3 × 2 products (unblocked), 7 × 7 ones (blocked, for `tr_mul`), and
        // a 400 × 400 matrix times a vector (split with the `parallel` feature).
        for (n, k) in [(3, 2), (7, 7), (400, 1)] {
            let (a, b, c) = (filled(n, n, 0.3), filled(n, k, 0.7), filled(n, k, 1.1));
            let spare = DMatrix::from_element(n, k, f64::NAN);
            let pointer = spare.as_ptr();
            let product = mul_into(Some(spare), &a, &b);
            assert_eq!(product, mul(&a, &b));
            assert_eq!(product.as_ptr(), pointer, "the buffer is reused");
            let product = tr_mul_into(Some(product), &a, &c);
            assert_eq!(product, tr_mul(&a, &c));
            assert_eq!(product.as_ptr(), pointer, "the buffer is reused");
            let other = DMatrix::from_element(k, n, f64::NAN);
            assert_eq!(mul_into(Some(other.clone()), &a, &b), mul(&a, &b));
            assert_eq!(tr_mul_into(Some(other), &a, &c), tr_mul(&a, &c));
            assert_eq!(mul_into(None, &a, &b), mul(&a, &b));
            assert_eq!(tr_mul_into(None, &a, &c), tr_mul(&a, &c));
        }
    }

    /// Vectors that are views, one of them strided, are gathered entry for
    /// entry.
    #[test]
    fn outer_sums_of_views() {
        let (n, m, steps) = (3, 4, OuterSum::<f64>::CHUNK + 5);
        let (a, h) = (filled(n, steps, 0.4), filled(2 * m, steps, 0.9));
        let mut c = filled(n, m, 0.2);
        let mut expected = c.clone();
        let mut sum = OuterSum::new(-0.5);
        for t in 0..steps {
            let column = h.column(t);
            let (a, h) = (a.column(t), column.rows_with_step(0, m, 1));
            sum.push(&mut c, &a, &h);
            expected.ger(-0.5, &a, &h, 1.0);
        }
        sum.add_to(&mut c);
        assert!((c - &expected).amax() <= 1e-12 * expected.amax());
    }

    #[test]
    fn equals_nalgebra_tr_mul_on_both_sides_of_the_threshold() {
        for (r, c, k) in [
            (2, 3, 4),
            (6, 6, 6),
            (40, 7, 9),
            (9, 30, 6),
            (6, 5, 8),
            (50, 50, 50),
        ] {
            let (a, b) = (filled(r, c, 0.3), filled(r, k, 0.7));
            let expected = a.tr_mul(&b);
            assert!((tr_mul(&a, &b) - &expected).amax() <= 1e-12 * expected.amax());
            let (a32, b32) = (a.map(|x| x as f32), b.map(|x| x as f32));
            let got = tr_mul(&a32, &b32).map(f64::from);
            assert!((got - &expected).amax() <= 1e-4 * expected.amax());
        }
    }

    #[test]
    fn accumulates_like_gemm_tr() {
        for (r, c, k) in [(2, 3, 4), (40, 7, 9), (50, 50, 50), (8, 8, 1)] {
            let (a, b, start) = (filled(r, c, 0.3), filled(r, k, 0.7), filled(c, k, 0.1));
            let mut expected = start.clone();
            expected.gemm_tr(-2.0, &a, &b, 1.0);
            let got = tr_mul_add(start, -2.0, &a, &b);
            assert!((got - &expected).amax() <= 1e-12 * expected.amax());
        }
    }

    #[test]
    fn scaled_products() {
        for (r, c, k) in [(2, 3, 4), (40, 7, 9), (8, 8, 1)] {
            let (a, b) = (filled(r, c, 0.3), filled(r, k, 0.7));
            let expected = a.tr_mul(&b) * -2.0;
            assert!((tr_mul_scaled(-2.0, &a, &b) - &expected).amax() <= 1e-12 * expected.amax());
            let column = b.column(0).into_owned();
            let expected = a.tr_mul(&column) * 3.0;
            let got = tr_mul_vector_scaled(3.0, &a, &column);
            assert!((got - &expected).amax() <= 1e-12 * expected.amax());
            let bt = b.transpose();
            let expected = &bt * &a * 0.5;
            assert!((mul_scaled(0.5, &bt, &a) - &expected).amax() <= 1e-12 * expected.amax());
        }
    }

    #[test]
    fn products_with_a_transposed_second_factor() {
        // Outer products (inner size 1), both sides of the blocked threshold,
        // and views of larger matrices.
        for (r, k, c) in [
            (7, 1, 9),
            (2, 3, 4),
            (6, 6, 6),
            (40, 7, 9),
            (9, 30, 6),
            (50, 50, 50),
        ] {
            let (a, b, start) = (filled(r, k, 0.3), filled(c, k, 0.7), filled(r, c, 0.1));
            let expected = &a * b.transpose();
            let close = |got: DMatrix<f64>, want: &DMatrix<f64>| {
                (got - want).amax() <= 1e-12 * want.amax().max(1.0)
            };
            assert!(close(mul_tr(&a, &b), &expected), "{r}×{k}×{c}");
            assert!(close(mul_tr_scaled(-2.0, &a, &b), &(&expected * -2.0)));
            let added = &start + &expected * 0.5;
            assert!(close(mul_tr_add(start, 0.5, &a, &b), &added));
        }
        let big = filled(30, 20, 0.9);
        let (a, b) = (big.view((2, 3), (12, 8)), big.view((1, 0), (9, 8)));
        let expected = a.clone_owned() * b.transpose();
        assert!((mul_tr(&a, &b) - &expected).amax() <= 1e-12 * expected.amax());
        let a: SMatrix<f64, 3, 2> = SMatrix::from_fn(|i, j| (i + 2 * j) as f64);
        assert_eq!(mul_tr(&a, &a), a * a.transpose());
    }

    #[test]
    fn outer_sums_equal_rank_one_updates() {
        // More iterations than one chunk, and fewer; added with α = −1.
        for steps in [3, super::OuterSum::<f64>::CHUNK + 5] {
            let start = filled(7, 4, 0.2);
            let (mut expected, mut got) = (start.clone(), start);
            let mut sum = super::OuterSum::new(-1.0);
            for t in 0..steps {
                let a = filled(7, 1, 0.3 + t as f64).column(0).into_owned();
                let h = filled(4, 1, 0.9 - t as f64).column(0).into_owned();
                expected.ger(-1.0, &a, &h, 1.0);
                sum.push(&mut got, &a, &h);
            }
            sum.add_to(&mut got);
            assert!(
                (got - &expected).amax() <= 1e-12 * expected.amax(),
                "{steps}"
            );
        }
    }

    #[test]
    fn views_and_mixed_sizes() {
        let big = filled(30, 20, 0.9);
        let a = big.view((2, 3), (12, 8));
        let b = filled(12, 7, 0.4);
        let expected = a.clone_owned().tr_mul(&b);
        assert!((tr_mul(&a, &b) - &expected).amax() <= 1e-12 * expected.amax());

        // A fixed-size `a` with a dynamic `b` takes the blocked path too.
        let a: SMatrix<f64, 8, 6> = SMatrix::from_fn(|i, j| (i + 2 * j) as f64);
        let b = filled(8, 9, 0.5);
        let expected = a.tr_mul(&b);
        assert!((tr_mul(&a, &b) - &expected).amax() <= 1e-12 * expected.amax());
        assert_eq!(tr_mul(&a, &a), a.tr_mul(&a));
    }
}
