//! Products that nalgebra computes column by column, eight rows at a time.
//!
//! For a dynamic `f64` product with a side of 5 or less (a matrix times a vector, an outer
//! product `x yᵀ`, a product with a few columns), nalgebra's `gemm` does not call
//! matrixmultiply: each column of the output is a `gemv`, the columns of `a` scaled by entries
//! of `b` and added in order (`axpy`), in loops compiled for the target's baseline (on x86-64,
//! SSE2: two `f64` at a time). The loops here do the same operations in the same order, for
//! each entry `cᵢⱼ ← (α aᵢ₀) b₀ⱼ + β cᵢⱼ` (β = 0 does not read `c`), then
//! `cᵢⱼ ← (α aᵢₖ) bₖⱼ + cᵢⱼ` for k = 1, 2, …, each a multiplication then an addition (no fused
//! multiply-add), so the results are equal bit for bit to nalgebra's; but with AVX-512 (chosen
//! at run time), eight rows at a time and up to 128 rows of a column kept in registers across
//! the whole sum. On the 2-core machine a 128 × 64 matrix times a vector took 0.46× nalgebra's
//! time this way, a 2000 × 200 one 0.55×, the outer product of vectors of 128 and 64 entries
//! 0.6× (`cargo run --release -p matgrad-bench --example breakdown`).

use nalgebra::allocator::Allocator;
use nalgebra::constraint::{DimEq, SameNumberOfColumns, SameNumberOfRows, ShapeConstraint};
use nalgebra::{
    ComplexField, DefaultAllocator, Dim, Dyn, Matrix, OMatrix, Scalar, Storage, StorageMut,
};

use crate::cpu::{as_f64, has_avx512, is_f64, written};

/// The longest side nalgebra's `gemm` computes column by column (its `SMALL_DIM`): with every
/// side longer, it calls matrixmultiply.
const SMALL_SIDE: usize = 5;

/// `f64` entries in an AVX-512 vector: outputs of fewer rows are left to nalgebra.
const LANES: usize = 8;

/// The fewest multiply-adds of a product computed here: below them, nalgebra's loops, inlined
/// at the call, cost less than the call into these (on the 2-core machine, 20 × 5 times a
/// vector took 1.10× nalgebra's time this way, 20 × 8 0.88×, 16 × 1 times 1 × 16 0.87×).
const MIN_WORK: usize = 128;

/// `c ← α a b + β c`, as nalgebra's `gemm`: by the loops here where [`applies`], else by
/// [`crate::narrow::gemm`] (nalgebra's, with matgrad's last columns where those pay).
#[inline]
pub(crate) fn gemm<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
    c: &mut Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
) where
    T: ComplexField,
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
    if applies(a, b, c.strides().0) {
        by_columns(c, alpha, a, b, beta);
    } else {
        crate::narrow::gemm(c, alpha, a, b, beta);
    }
}

/// Whether the loops here compute the product `a b` into an output whose rows are
/// `c_row_stride` apart: `T` is `f64`, a size is dynamic, nalgebra would compute it column by
/// column (a side of [`SMALL_SIDE`] or less), the output has [`LANES`] rows or more, the
/// product has [`MIN_WORK`] multiply-adds or more (so the inner size is not 0, which nalgebra
/// handles apart), `a`'s columns and the output's are contiguous and the processor has AVX-512.
pub(crate) fn applies<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    c_row_stride: usize,
) -> bool
where
    T: Scalar,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
{
    let ((m, k), n) = (a.shape(), b.ncols());
    let dynamic = R1::is::<Dyn>() || C1::is::<Dyn>() || R2::is::<Dyn>() || C2::is::<Dyn>();
    let column_by_column = m <= SMALL_SIDE || k <= SMALL_SIDE || n <= SMALL_SIDE;
    dynamic
        && column_by_column
        && m >= LANES
        && m.saturating_mul(k).saturating_mul(n) >= MIN_WORK
        && a.strides().0 == 1
        && c_row_stride == 1
        && is_f64::<T>()
        && has_avx512()
}

/// `c ← α a b + β c` by the loops here, as [`applies`] decided. Panics, as nalgebra's `gemm`
/// does, where the shapes do not fit: the loops read and write through pointers.
pub(crate) fn by_columns<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
    c: &mut Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
) where
    T: Scalar,
    R0: Dim,
    C0: Dim,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S0: StorageMut<T, R0, C0>,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
{
    assert_eq!(
        c.shape(),
        (a.nrows(), b.ncols()),
        "Gemm: dimensions mismatch."
    );
    let c_column_stride = c.strides().1;
    let c = c.data.ptr_mut() as *mut f64;
    // SAFETY: `c` has the output's shape, with contiguous columns (`applies`).
    unsafe { run(c, c_column_stride, as_f64(&alpha), a, b, as_f64(&beta)) };
}

/// `α a b` by the loops here, as [`applies`] decided, into a new matrix (not filled with zeros
/// first: every entry is written once).
pub(crate) fn product<T, R1, C1, S1, R2, C2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R1, C2>
where
    T: Scalar,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, C2>,
{
    let alpha = as_f64(&alpha);
    // SAFETY: `T` is `f64` (`applies`); the new matrix has the output's shape, with contiguous
    // columns, and `run` writes every entry (β = 0 reads none).
    unsafe {
        written(a.shape_generic().0, b.shape_generic().1, |c, strides| {
            run(c, strides.1, alpha, a, b, 0.0)
        })
    }
}

/// `c ← α a b + β c` for the `c` of `a b`'s shape at `c`, its columns `c_column_stride` apart.
///
/// # Safety
/// `c` holds `a.nrows()` rows of `b.ncols()` columns, contiguous, initialised unless β = 0;
/// [`applies`] holds for `a` and `b`.
unsafe fn run<T, R1, C1, S1, R2, C2, S2>(
    c: *mut f64,
    c_column_stride: usize,
    alpha: f64,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: f64,
) where
    T: Scalar,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
{
    assert_eq!(a.ncols(), b.nrows(), "Gemm: dimensions mismatch.");
    let product = Columns {
        rows: a.nrows(),
        inner: a.ncols(),
        columns: b.ncols(),
        alpha,
        beta,
        a: a.data.ptr() as *const f64,
        a_column_stride: a.strides().1,
        b: b.data.ptr() as *const f64,
        b_strides: b.strides(),
        c,
        c_column_stride,
    };
    // SAFETY: forwarded; `applies` checked AVX-512 and the layouts.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        product.run()
    };
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("column products need AVX-512 ({} rows)", product.rows);
}

/// `c ← α a b + β c`: `a` is `rows × inner` with contiguous columns, `b` `inner × columns`,
/// `c` `rows × columns` with contiguous columns. Strides are (between rows, between columns).
struct Columns {
    rows: usize,
    inner: usize,
    columns: usize,
    alpha: f64,
    beta: f64,
    a: *const f64,
    a_column_stride: usize,
    b: *const f64,
    b_strides: (usize, usize),
    c: *mut f64,
    c_column_stride: usize,
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512d, __mmask8, _mm512_add_pd, _mm512_mask_storeu_pd, _mm512_maskz_loadu_pd,
        _mm512_mul_pd, _mm512_set1_pd, _mm512_setzero_pd,
    };

    use super::{Columns, LANES, SMALL_SIDE};

    /// The most vectors of rows of a column summed together: 16 of the 32 registers.
    const MAX_VECTORS: usize = 16;

    impl Columns {
        /// The whole product, in blocks of up to [`MAX_VECTORS`]` · `[`LANES`] rows.
        ///
        /// A product with a short inner side (an outer product, most of all) spends its time
        /// storing: there, where every column of `c` starts at the same offset from a 32-byte
        /// boundary, the vectors start on those boundaries, the first one `lead` rows before
        /// row 0 with those lanes masked. A 512-bit store across a 32-byte boundary cost about
        /// 1.35× one on it on the 2-core machine (outer products of vectors of 128 and 64
        /// entries, into a buffer 16 bytes past a 32-byte boundary against one on it), and
        /// `malloc` aligns to 16 bytes only. (With a long inner side, the block of the rows
        /// past the last whole vector would cost a pass over it for a few rows.)
        ///
        /// # Safety
        /// The processor has AVX-512; the pointers and strides describe the matrices.
        #[target_feature(enable = "avx512f")]
        pub(super) unsafe fn run(&self) {
            const BOUNDARY: usize = 32;
            let entry = std::mem::size_of::<f64>();
            let aligned_columns = (self.c_column_stride * entry).is_multiple_of(BOUNDARY);
            let mut lead = match self.inner <= SMALL_SIDE && aligned_columns {
                true => (self.c as usize % BOUNDARY) / entry,
                false => 0,
            };
            let mut first = 0;
            while first < self.rows {
                let rows = (self.rows - first).min(MAX_VECTORS * LANES - lead);
                // SAFETY (each): forwarded; `rows` rows from `first`, the lanes before and
                // after them masked out.
                unsafe {
                    match (lead + rows).div_ceil(LANES) {
                        1 => self.block::<1>(first, rows, lead),
                        2 => self.block::<2>(first, rows, lead),
                        3 | 4 => self.block::<4>(first, rows, lead),
                        5..=8 => self.block::<8>(first, rows, lead),
                        _ => self.block::<MAX_VECTORS>(first, rows, lead),
                    }
                }
                // The next block starts a whole number of vectors after this one.
                first += rows;
                lead = 0;
            }
        }

        /// Rows `first..first + rows` of every output column, in `V` vectors, the first
        /// starting `lead` rows before `first` (the lanes outside the rows masked: neither read
        /// nor written).
        #[target_feature(enable = "avx512f")]
        unsafe fn block<const V: usize>(&self, first: usize, rows: usize, lead: usize) {
            let mut masks = [0 as __mmask8; V];
            for (v, mask) in masks.iter_mut().enumerate() {
                let before = lead.saturating_sub(v * LANES).min(LANES);
                let through = (lead + rows).saturating_sub(v * LANES).min(LANES);
                *mask = (((1u16 << through) - 1) & !((1u16 << before) - 1)) as __mmask8;
            }
            // Offset of lane 0 of vector 0 from the start of a column.
            let origin = first.wrapping_sub(lead);
            let scaled = self.alpha != 1.0;
            let alpha = _mm512_set1_pd(self.alpha);
            // `α a` for these rows of `a`'s column 0, the same for every output column (α = 1
            // changes nothing and is skipped).
            let mut first_column = [_mm512_setzero_pd(); V];
            // SAFETY: forwarded.
            unsafe { self.load(&mut first_column, 0, origin, &masks, scaled, alpha) };
            let mut x = [_mm512_setzero_pd(); V];
            for j in 0..self.columns {
                let c = self
                    .c
                    .wrapping_add(j * self.c_column_stride)
                    .wrapping_add(origin);
                // SAFETY: entry (0, j) of `b` (the inner size is not 0).
                let b = _mm512_set1_pd(unsafe { self.b_at(0, j) });
                let mut sums = [_mm512_setzero_pd(); V];
                for v in 0..V {
                    sums[v] = _mm512_mul_pd(first_column[v], b);
                }
                if self.beta != 0.0 {
                    let beta = _mm512_set1_pd(self.beta);
                    for v in 0..V {
                        // SAFETY: the lanes of `masks[v]` are rows of `c`'s column `j`.
                        let old =
                            unsafe { _mm512_maskz_loadu_pd(masks[v], c.wrapping_add(v * LANES)) };
                        sums[v] = _mm512_add_pd(sums[v], _mm512_mul_pd(beta, old));
                    }
                }
                for k in 1..self.inner {
                    // SAFETY: entry (k, j) of `b`; forwarded.
                    let b = _mm512_set1_pd(unsafe { self.b_at(k, j) });
                    unsafe { self.load(&mut x, k, origin, &masks, scaled, alpha) };
                    for v in 0..V {
                        sums[v] = _mm512_add_pd(_mm512_mul_pd(x[v], b), sums[v]);
                    }
                }
                for v in 0..V {
                    // SAFETY: the lanes of `masks[v]` are rows of `c`'s column `j`.
                    unsafe { _mm512_mask_storeu_pd(c.wrapping_add(v * LANES), masks[v], sums[v]) };
                }
            }
        }

        /// `x ← α a` for the lanes of `masks` of the vectors from offset `origin` of `a`'s
        /// column `k` (a wrapped offset: it may be before the column).
        ///
        /// # Safety
        /// The lanes of `masks` are rows of `a`'s column `k`; the processor has AVX-512.
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn load<const V: usize>(
            &self,
            x: &mut [__m512d; V],
            k: usize,
            origin: usize,
            masks: &[__mmask8; V],
            scaled: bool,
            alpha: __m512d,
        ) {
            let column = self
                .a
                .wrapping_add(k * self.a_column_stride)
                .wrapping_add(origin);
            for v in 0..V {
                // SAFETY: forwarded.
                x[v] = unsafe { _mm512_maskz_loadu_pd(masks[v], column.wrapping_add(v * LANES)) };
                if scaled {
                    x[v] = _mm512_mul_pd(alpha, x[v]);
                }
            }
        }

        /// Entry `(k, j)` of `b`.
        ///
        /// # Safety
        /// `k < inner`, `j < columns`.
        #[inline(always)]
        unsafe fn b_at(&self, k: usize, j: usize) -> f64 {
            // SAFETY: forwarded.
            unsafe { *self.b.add(k * self.b_strides.0 + j * self.b_strides.1) }
        }
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, DVector, Dyn, MatrixView};

    use super::{applies, by_columns, gemm, product, MIN_WORK};
    use crate::cpu::has_avx512;
    use crate::test_matrices::{filled_with_zeros as filled, same_bits, transposed};

    /// Matrix × vector, outer products and products with a few columns or a short inner side
    /// (those of fewer than [`MIN_WORK`] multiply-adds too, left to nalgebra by [`gemm`]),
    /// of every row count around the vector and register-block widths, `a` whole and as part of
    /// a larger matrix, `b` by columns and transposed, the output whole and as part of a larger
    /// matrix, α = 1, −2 and ½, β = 0 (over NaN, which must not be read), 1 and −¾: nalgebra's
    /// `gemm`, bit for bit.
    #[test]
    fn column_products_equal_nalgebras_bit_for_bit() {
        let rows = [
            8, 9, 15, 16, 17, 24, 31, 33, 40, 64, 65, 100, 127, 128, 129, 255, 300,
        ];
        let (inner, columns) = ([1, 2, 5, 6, 37], [1, 2, 3, 5, 6, 64]);
        for m in rows {
            for k in inner {
                for n in columns {
                    if m > 5 && k > 5 && n > 5 {
                        continue;
                    }
                    let a = filled(m, k, 0.37);
                    let big = filled(m + 3, k + 2, 0.53);
                    let a_part = big.view((1, 2), (m, k));
                    let b = filled(k, n, 0.71);
                    let bt = filled(n, k, 0.71);
                    let enough = m * k * n >= MIN_WORK;
                    assert_eq!(
                        applies(&a, &b, 1),
                        enough && has_avx512(),
                        "{m} × {k} × {n}"
                    );
                    if !has_avx512() {
                        continue;
                    }
                    for (alpha, beta) in [(1.0, 0.0), (-2.0, 0.0), (0.5, 1.0), (1.0, -0.75)] {
                        let start = filled(m, n, 0.19);
                        let check = |a: &MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn>,
                                     b: &MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn>| {
                            let mut expected = start.clone();
                            expected.gemm(alpha, a, b, beta);
                            let mut c = if beta == 0.0 {
                                DMatrix::from_element(m, n, f64::NAN)
                            } else {
                                start.clone()
                            };
                            let mut by_gemm = c.clone();
                            by_columns(&mut c, alpha, a, b, beta);
                            same_bits(&c, &expected);
                            gemm(&mut by_gemm, alpha, a, b, beta);
                            same_bits(&by_gemm, &expected);
                            // Into part of a larger matrix (columns m + 4 apart), from each
                            // row of a 32-byte stretch: the vectors start before the part.
                            for top in 0..4 {
                                let mut outer = DMatrix::from_element(m + 4, n + 1, 7.0);
                                let part = ((top, 1), (m, n));
                                outer.view_mut(part.0, part.1).copy_from(&start);
                                by_columns(&mut outer.view_mut(part.0, part.1), alpha, a, b, beta);
                                same_bits(&outer.view(part.0, part.1).into_owned(), &expected);
                                assert!(outer.rows(0, top).iter().all(|&v| v == 7.0));
                                assert!(outer.rows(m + top, 4 - top).iter().all(|&v| v == 7.0));
                                assert!(outer.column(0).iter().all(|&v| v == 7.0));
                            }
                        };
                        let (a_view, b_view) = (a.as_view(), b.as_view());
                        check(&a_view, &b_view);
                        check(&a_view, &transposed(&bt));
                        check(&a_part.as_view(), &b_view);
                    }
                    same_bits(&product(1.0, &a, &b), &(&a * &b));
                    same_bits(&product(-2.0, &a, &b), &{
                        let mut c = DMatrix::zeros(m, n);
                        c.gemm(-2.0, &a, &b, 0.0);
                        c
                    });
                }
            }
        }
    }

    /// What the loops leave to nalgebra: products every side of which is over 5 (matrixmultiply),
    /// outputs of fewer than 8 rows, `a` by rows, an output by rows, fixed sizes, an inner size
    /// of 0.
    #[test]
    fn other_products_are_left_to_nalgebra() {
        let (a, x) = (filled(40, 30, 0.1), DVector::from_element(30, 1.0));
        assert_eq!(applies(&a, &x, 1), has_avx512());
        assert!(!applies(&a, &filled(30, 6, 0.2), 1));
        assert!(!applies(&a.rows(0, 7), &x, 1));
        assert!(!applies(&transposed(&filled(30, 40, 0.1)), &x, 1));
        assert!(!applies(&a, &x, 2));
        let m3 = nalgebra::Matrix3::<f64>::identity();
        assert!(!applies(&m3, &nalgebra::Vector3::zeros(), 1));
        assert!(!applies(&filled(40, 0, 0.1), &filled(0, 1, 0.1), 1));
    }

    /// The shapes are checked before anything is read through pointers.
    #[test]
    #[should_panic(expected = "Gemm: dimensions mismatch")]
    fn shapes_that_do_not_fit_panic() {
        let (a, x) = (filled(40, 30, 0.1), DVector::from_element(30, 1.0));
        let mut c = DMatrix::zeros(40, 2);
        gemm(&mut c, 1.0, &a, &x, 0.0);
    }
}
