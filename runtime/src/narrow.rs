//! Products whose output has few columns, or a few columns past a multiple of eight.
//!
//! For a dynamic `f64` product, nalgebra's `gemm` calls matrixmultiply, which on a processor
//! with AVX-512 computes the output in tiles of 8 × 8 after copying (packing) both factors into
//! buffers of its own. For an output of 6 to [`MAX_SKINNY`] columns, that copy of the large
//! factor is a pass over it as long as the product itself, and the last tile of a 10-column
//! output holds 2 columns but costs as much as 8. The gradient of a rank-10 factorisation
//! `‖M − UVᵀ‖²` is two such products, `R V` and `Rᵀ U`. So an output of up to [`MAX_SKINNY`]
//! columns is computed entirely by the loops here, reading the factors where they are (on the
//! 2-core Intel machine, a 200 × 150 matrix times 150 × 10 took 0.43–0.49× nalgebra's time,
//! its transpose times 200 × 10 0.50–0.57× that of nalgebra's `gemm` on a transposed view:
//! `cargo run --release -p matgrad-bench --example skinny`), and where an output is wider, its
//! 1 to 4 columns past a multiple of 8. Each entry is one sum over the inner index in order with fused multiply-adds (AVX-512
//! instructions, chosen at run time); every other product is nalgebra's `gemm`. (The same for
//! the last rows of a wide output, a 10-class classifier's `W X`, was slower than the wasted
//! tile: there the product's time goes to reading `X`, which the loops would read once more.)
//!
//! Each entry of the output is computed the same way whichever rows are computed with it, and
//! the decision is taken once for a whole product: split by blocks of rows or of columns (the
//! `parallel` feature), its blocks of rows compute the same columns, its blocks of columns
//! leave the last ones to be computed once, so it stays equal bit for bit to the whole.

use nalgebra::constraint::{DimEq, SameNumberOfColumns, SameNumberOfRows, ShapeConstraint};
use nalgebra::{ComplexField, Dim, Dyn, Matrix, Scalar, Storage, StorageMut};

use crate::cpu::{as_f64, has_avx512, is_f64};

/// The width of matrixmultiply's AVX-512 `f64` tile.
const TILE: usize = 8;

/// The fewest multiply-adds of a product computed in part here: below them, the second call
/// into matrixmultiply costs more than the last tile wastes (on the 2-core machine, 10 × 10
/// by 10 × 10 took 1.03× nalgebra's time this way, 12 × 12 by 12 × 12 0.88×).
const MIN_WORK: usize = 1024;

/// The most columns past a multiple of [`TILE`] computed here: with more, the last tile's
/// wasted columns are fewer than these loops would cost.
const MAX_NARROW: usize = 4;

/// The most columns of an output computed here entirely (from 6: nalgebra computes narrower
/// ones column by column, see [`crate::columns`]). On the 2-core Intel machine, a copy of these
/// loops took 1.20× matrixmultiply's time for a 2000 × 200 matrix times 200 × 16, 0.83× times
/// 200 × 12.
pub(crate) const MAX_SKINNY: usize = 12;

/// The most entries of `b` a skinny product reads down `a`'s columns (`k n`): each block of
/// rows reads all of `b`, which must stay in the first-level cache. A copy of these loops took
/// 1.22× matrixmultiply's time for a 500 × 1000 matrix times 1000 × 8, 0.83× for a 2000 × 200
/// one times 200 × 12.
const MAX_SKINNY_B: usize = 4096;

/// `c ← α a b + β c`, as nalgebra's `gemm` (β = 0 does not read `c`).
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
    let narrow = narrow_columns(a, b, c.strides().0);
    gemm_with(c, alpha, a, b, beta, narrow);
}

/// [`gemm`] with the last `narrow` columns by the loops here, as [`narrow_columns`] decided for
/// this product or for the whole of which it is a block of rows.
#[inline]
pub(crate) fn gemm_with<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
    c: &mut Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    narrow: usize,
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
    if narrow == 0 {
        return c.gemm(alpha, a, b, beta);
    }
    let wide = c.ncols() - narrow;
    if wide > 0 {
        c.columns_range_mut(..wide)
            .gemm(alpha.clone(), a, &b.columns_range(..wide), beta.clone());
    }
    last_columns(c, alpha, a, b, beta, narrow);
}

/// The last `narrow` columns of `c ← α a b + β c` by the loops here, as [`narrow_columns`]
/// decided for this product. Panics, as nalgebra's `gemm` does, where the shapes do not fit:
/// the loops read and write through pointers.
pub(crate) fn last_columns<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
    c: &mut Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    narrow: usize,
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
    assert!(
        c.nrows() == a.nrows() && a.ncols() == b.nrows() && c.ncols() == b.ncols(),
        "Gemm: dimensions mismatch."
    );
    assert!(
        narrow <= c.ncols(),
        "more narrow columns than the output has"
    );
    let wide = c.ncols() - narrow;
    let (b_strides, c_strides) = (b.strides(), c.strides());
    let product = Narrow {
        rows: c.nrows(),
        inner: a.ncols(),
        alpha: as_f64(&alpha),
        beta: as_f64(&beta),
        a: a.data.ptr() as *const f64,
        a_strides: a.strides(),
        // SAFETY (both): column `wide` of `b` and of `c` exists.
        b: unsafe { b.data.ptr().add(wide * b_strides.1) } as *const f64,
        b_strides,
        c: unsafe { c.data.ptr_mut().add(wide * c_strides.1) } as *mut f64,
        c_column_stride: c_strides.1,
    };
    // SAFETY: `narrow_columns` checked AVX-512 and the layouts the loops read and write.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        product.run(narrow)
    };
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("narrow columns need AVX-512 ({} rows)", product.rows);
}

/// How many of the last columns of the output `a b` (whose rows are `c_row_stride` apart) the
/// loops here compute: 0 unless `T` is `f64`, a size is dynamic and nalgebra would call
/// matrixmultiply (every side above 5), the processor has AVX-512, the output's columns are
/// contiguous and the product has [`MIN_WORK`] multiply-adds or more. Then all of them if the
/// output has at most [`MAX_SKINNY`] columns and `a`'s rows are contiguous, or its columns with
/// `b` of at most [`MAX_SKINNY_B`] entries; else the 1 to [`MAX_NARROW`] columns past a multiple
/// of [`TILE`], if `a`'s columns are contiguous, or its rows and `b`'s columns.
pub(crate) fn narrow_columns<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    c_row_stride: usize,
) -> usize
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
    let applies = dynamic
        && m > 5
        && k > 5
        && n > 5
        && m.saturating_mul(k).saturating_mul(n) >= MIN_WORK
        && c_row_stride == 1
        && is_f64::<T>()
        && has_avx512();
    if !applies {
        return 0;
    }
    let (down, along) = (a.strides().0 == 1, a.strides().1 == 1);
    if n <= MAX_SKINNY && (along || (down && k * n <= MAX_SKINNY_B)) {
        return n;
    }
    let narrow = n % TILE;
    if n > TILE && narrow <= MAX_NARROW && (down || (along && b.strides().0 == 1)) {
        narrow
    } else {
        0
    }
}

/// The last columns of `c ← α a b + β c`: `a` is `rows × inner`; `b` and `c` point at the first
/// of those columns. Strides are (between rows, between columns); `c`'s rows are adjacent.
struct Narrow {
    rows: usize,
    inner: usize,
    alpha: f64,
    beta: f64,
    a: *const f64,
    a_strides: (usize, usize),
    b: *const f64,
    b_strides: (usize, usize),
    c: *mut f64,
    c_column_stride: usize,
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512d, __mmask8, _mm512_fmadd_pd, _mm512_loadu_pd, _mm512_maskz_loadu_pd,
        _mm512_permutex2var_pd, _mm512_reduce_add_pd, _mm512_set1_pd, _mm512_set_epi64,
        _mm512_setzero_pd, _mm512_storeu_pd, _mm512_unpackhi_pd, _mm512_unpacklo_pd,
    };

    use super::{Narrow, MAX_NARROW};

    /// `f64` entries in a vector.
    const LANES: usize = 8;
    /// Vectors of rows of each output column summed together by [`Narrow::down_columns`].
    const DOWN: usize = 2;
    /// Rows of `a` read together by [`Narrow::along_rows`] (one read of `b` serves them).
    const ALONG: usize = 4;

    /// `loops::<W>()` with `W` the number of columns, one of the widths listed (which
    /// `narrow_columns` allows for those loops).
    macro_rules! by_width {
        ($this:ident.$loops:ident, $columns:expr, $($w:literal)*) => {
            match $columns {
                $($w => $this.$loops::<$w>(),)*
                w => unreachable!("no {} loops for {w} columns", stringify!($loops)),
            }
        };
    }

    impl Narrow {
        /// The `columns` last columns.
        ///
        /// # Safety
        /// The processor has AVX-512; the pointers and strides describe the matrices, with
        /// `a`'s columns contiguous, or its rows and `b`'s columns.
        #[target_feature(enable = "avx512f")]
        pub(super) unsafe fn run(&self, columns: usize) {
            // SAFETY: forwarded.
            unsafe {
                if self.a_strides.0 == 1 {
                    by_width!(self.down_columns, columns, 1 2 3 4 5 6 7 8 9 10 11 12)
                } else if columns <= MAX_NARROW {
                    by_width!(self.along_rows, columns, 1 2 3 4)
                } else {
                    by_width!(self.across_rows, columns, 6 7 8 9 10 11 12)
                }
            }
        }

        /// `a`'s columns contiguous: `c[i, j] = Σₖ a[i, k] b[k, j]` summed down `a`'s columns,
        /// `DOWN · LANES` rows of the `W` output columns at a time in registers; the rows left
        /// over likewise, the vectors' lanes past the last row masked.
        #[target_feature(enable = "avx512f")]
        unsafe fn down_columns<const W: usize>(&self) {
            let block = DOWN * LANES;
            for first in (0..self.rows).step_by(block) {
                let rows = block.min(self.rows - first);
                // The lanes of each vector that hold rows of `a`.
                let masks: [__mmask8; DOWN] = std::array::from_fn(|v| {
                    let lanes = rows.saturating_sub(v * LANES).min(LANES);
                    ((1u16 << lanes) - 1) as __mmask8
                });
                // SAFETY: forwarded; `rows` rows from `first`.
                unsafe { self.rows_down::<W>(first, rows, masks) };
            }
        }

        #[target_feature(enable = "avx512f")]
        unsafe fn rows_down<const W: usize>(
            &self,
            first: usize,
            rows: usize,
            masks: [__mmask8; DOWN],
        ) {
            let mut sums = [[_mm512_setzero_pd(); DOWN]; W];
            for k in 0..self.inner {
                // SAFETY: rows `first..first + rows` of column `k` of `a` (the masked lanes are
                // not read); entry (k, j) of `b`.
                unsafe {
                    let column = self.a.add(k * self.a_strides.1 + first);
                    let x: [__m512d; DOWN] = std::array::from_fn(|v| {
                        _mm512_maskz_loadu_pd(masks[v], column.wrapping_add(v * LANES))
                    });
                    for (j, sums) in sums.iter_mut().enumerate() {
                        let b = _mm512_set1_pd(self.b_at(k, j));
                        for (s, &x) in sums.iter_mut().zip(&x) {
                            *s = _mm512_fmadd_pd(x, b, *s);
                        }
                    }
                }
            }
            for (j, sums) in sums.iter().enumerate() {
                let mut lanes = [0.0; DOWN * LANES];
                for (v, &s) in sums.iter().enumerate() {
                    // SAFETY: `lanes` holds `DOWN` vectors.
                    unsafe { _mm512_storeu_pd(lanes.as_mut_ptr().add(v * LANES), s) };
                }
                for (r, &sum) in lanes[..rows].iter().enumerate() {
                    // SAFETY: row `first + r` of output column `j`.
                    unsafe { self.store(first + r, j, sum) };
                }
            }
        }

        /// `a`'s rows and `b`'s columns contiguous: each entry a dot product, `LANES` partial
        /// sums added at the end, then the entries past the last whole vector; `ALONG` rows
        /// of `a` at a time, the rows left over one by one, with the same operations.
        #[target_feature(enable = "avx512f")]
        unsafe fn along_rows<const W: usize>(&self) {
            let mut first = 0;
            while first + ALONG <= self.rows {
                // SAFETY: forwarded.
                unsafe { self.rows_along::<W, ALONG>(first) };
                first += ALONG;
            }
            for i in first..self.rows {
                // SAFETY: forwarded.
                unsafe { self.rows_along::<W, 1>(i) };
            }
        }

        #[target_feature(enable = "avx512f")]
        unsafe fn rows_along<const W: usize, const R: usize>(&self, first: usize) {
            let whole = self.inner / LANES * LANES;
            let row = |r: usize| self.a.wrapping_add((first + r) * self.a_strides.0);
            let column = |j: usize| self.b.wrapping_add(j * self.b_strides.1);
            let mut sums = [[_mm512_setzero_pd(); W]; R];
            for k in (0..whole).step_by(LANES) {
                // SAFETY: entries `k..k + LANES` (below `inner`) of rows `first..first + R` of
                // `a` and of the columns of `b`.
                unsafe {
                    let b: [__m512d; W] =
                        std::array::from_fn(|j| _mm512_loadu_pd(column(j).add(k)));
                    for (r, sums) in sums.iter_mut().enumerate() {
                        let x = _mm512_loadu_pd(row(r).add(k));
                        for (s, &b) in sums.iter_mut().zip(&b) {
                            *s = _mm512_fmadd_pd(x, b, *s);
                        }
                    }
                }
            }
            for (r, sums) in sums.iter().enumerate() {
                for (j, &s) in sums.iter().enumerate() {
                    let mut sum = _mm512_reduce_add_pd(s);
                    for k in whole..self.inner {
                        // SAFETY: entry k of row `first + r` of `a` and of column `j` of `b`.
                        sum = unsafe { (*row(r).add(k)).mul_add(*column(j).add(k), sum) };
                    }
                    // SAFETY: row `first + r` of output column `j`.
                    unsafe { self.store(first + r, j, sum) };
                }
            }
        }

        /// `a`'s rows contiguous, every column of the output: `LANES` rows of `a` read at a
        /// time, `LANES` entries of each, turned into `LANES` vectors each holding one entry of
        /// the rows (a transpose in registers), so that each output entry is summed over `k`
        /// in order as in [`Narrow::down_columns`], `LANES` rows of the `W` output columns in
        /// registers. (Dot products with their partial sums added at the end, as
        /// [`Narrow::along_rows`] computes them, took 1.1× this time at `Rᵀ U`, 200 × 150 by
        /// 200 × 10, in a copy of these loops, and sum each entry in another order.)
        #[target_feature(enable = "avx512f")]
        unsafe fn across_rows<const W: usize>(&self) {
            for first in (0..self.rows).step_by(LANES) {
                let rows = LANES.min(self.rows - first);
                let mut sums = [_mm512_setzero_pd(); W];
                for k in (0..self.inner).step_by(LANES) {
                    let ks = LANES.min(self.inner - k);
                    let mask = ((1u16 << ks) - 1) as __mmask8;
                    // Rows past the last are zeros, their sums never stored.
                    let mut x = [_mm512_setzero_pd(); LANES];
                    for (r, row) in x.iter_mut().enumerate().take(rows) {
                        // SAFETY: entries `k..k + ks` of row `first + r` of `a`.
                        *row = unsafe {
                            _mm512_maskz_loadu_pd(
                                mask,
                                self.a
                                    .add((first + r) * self.a_strides.0 + k * self.a_strides.1),
                            )
                        };
                    }
                    let x = transpose(x);
                    for (step, x) in x.iter().enumerate().take(ks) {
                        for (j, s) in sums.iter_mut().enumerate() {
                            // SAFETY: entry (k + step, j) of `b`.
                            let b = _mm512_set1_pd(unsafe { self.b_at(k + step, j) });
                            *s = _mm512_fmadd_pd(*x, b, *s);
                        }
                    }
                }
                for (j, s) in sums.iter().enumerate() {
                    let mut lanes = [0.0; LANES];
                    // SAFETY: `lanes` holds one vector.
                    unsafe { _mm512_storeu_pd(lanes.as_mut_ptr(), *s) };
                    for (r, &sum) in lanes[..rows].iter().enumerate() {
                        // SAFETY: row `first + r` of output column `j`.
                        unsafe { self.store(first + r, j, sum) };
                    }
                }
            }
        }

        /// Entry `(k, j)` of `b`.
        ///
        /// # Safety
        /// `k < inner`, `j` one of the output columns.
        #[inline(always)]
        unsafe fn b_at(&self, k: usize, j: usize) -> f64 {
            // SAFETY: forwarded.
            unsafe { *self.b.add(k * self.b_strides.0 + j * self.b_strides.1) }
        }

        /// `c[i, j] ← α s + β c[i, j]`, `c` not read when β = 0.
        ///
        /// # Safety
        /// `i < rows`, `j` one of the output columns.
        #[inline(always)]
        unsafe fn store(&self, i: usize, j: usize, s: f64) {
            // SAFETY: forwarded.
            unsafe {
                let c = self.c.add(j * self.c_column_stride + i);
                *c = if self.beta == 0.0 {
                    self.alpha * s
                } else {
                    self.alpha * s + self.beta * *c
                };
            }
        }
    }

    /// Eight vectors as the rows of an 8 × 8 matrix, returned as its columns.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn transpose(rows: [__m512d; LANES]) -> [__m512d; LANES] {
        // Rows 2p and 2p + 1 interleaved: `pairs[2p]` holds their even entries, `pairs[2p + 1]`
        // their odd ones, each pair of lanes one entry of both rows.
        let pairs: [__m512d; LANES] = std::array::from_fn(|v| {
            let (a, b) = (rows[v / 2 * 2], rows[v / 2 * 2 + 1]);
            if v % 2 == 0 {
                _mm512_unpacklo_pd(a, b)
            } else {
                _mm512_unpackhi_pd(a, b)
            }
        });
        // Then, for rows 0–3 (`quads[0..4]`) and rows 4–7 (`quads[4..8]`), entry `e` of the four
        // rows in the low half and entry `e + 4` in the high half (`e` = 0, 1, 2, 3); then the
        // low halves of both sets of rows make entry `e` of all eight, the high halves `e + 4`.
        let low = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
        let high = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
        let quads: [__m512d; LANES] = std::array::from_fn(|v| {
            let (half, e) = (v / 4, v % 4);
            let (a, b) = (pairs[half * 4 + e % 2], pairs[half * 4 + 2 + e % 2]);
            _mm512_permutex2var_pd(a, if e < 2 { low } else { high }, b)
        });
        let first = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
        let second = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
        std::array::from_fn(|e| {
            let (a, b) = (quads[e % 4], quads[4 + e % 4]);
            _mm512_permutex2var_pd(a, if e < 4 { first } else { second }, b)
        })
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, Dyn, MatrixView};

    use super::{gemm, narrow_columns};
    use crate::cpu::has_avx512;
    use crate::test_matrices::{filled, transposed};

    fn close(x: &DMatrix<f64>, y: &DMatrix<f64>) {
        assert!((x - y).norm() <= 1e-13 * y.norm(), "{x}\n{y}");
    }

    /// Every shape around the tile widths, tall and wide, `a` by columns, by rows (a transposed
    /// view) and as a view of part of a larger matrix, `b` by columns and transposed, β = 0 (over
    /// NaN, which must not be read), 1 and ½: as nalgebra's `gemm`.
    #[test]
    fn narrow_products_equal_nalgebras() {
        let (a, b) = (filled(200, 37, 0.1), filled(37, 10, 0.2));
        let avx512 = |n| if has_avx512() { n } else { 0 };
        // Skinny: every column, down `a`'s columns or across its rows.
        assert_eq!(narrow_columns(&a, &b, 1), avx512(10));
        assert_eq!(narrow_columns(&a, &b.columns(0, 8), 1), avx512(8));
        let at = filled(37, 200, 0.1);
        assert_eq!(narrow_columns(&transposed(&at), &b, 1), avx512(10));
        // `b` too large to stay in the cache down `a`'s columns: the 2 columns past 8 only.
        let (tall, long) = (filled(200, 500, 0.1), filled(500, 10, 0.2));
        assert_eq!(narrow_columns(&tall, &long, 1), avx512(2));
        assert_eq!(narrow_columns(&b.transpose(), &a.transpose(), 1), 0);
        assert_eq!(narrow_columns(&a, &b.columns(0, 5), 1), 0);
        assert_eq!(narrow_columns(&a, &b, 2), 0);
        assert_eq!(narrow_columns(&a.rows(0, 5), &b, 1), 0);
        let sides = [6, 8, 9, 10, 11, 12, 13, 16, 17, 20, 21, 28, 45, 200];
        for (m, n, k) in sides
            .into_iter()
            .flat_map(|m| sides.map(|n| (m, n, 19 + m % 3 * 9)))
        {
            let a = filled(m, k, 0.37);
            let at = filled(k, m, 0.37);
            let big = filled(m + 3, k + 2, 0.53);
            let a_part = big.view((1, 2), (m, k));
            let b = filled(k, n, 0.71);
            let bt = filled(n, k, 0.71);
            for beta in [0.0, 1.0, 0.5] {
                let start = filled(m, n, 0.19);
                let over = if beta == 0.0 {
                    DMatrix::from_element(m, n, f64::NAN)
                } else {
                    start.clone()
                };
                let check =
                    |a: &MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn>,
                     b: &MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn>| {
                        let mut c = over.clone();
                        gemm(&mut c, -2.0, a, b, beta);
                        let mut expected = start.clone();
                        expected.gemm(-2.0, a, b, beta);
                        close(&c, &expected);
                    };
                let (a_view, b_view) = (a.as_view(), b.as_view());
                check(&a_view, &b_view);
                check(&a_view, &transposed(&bt));
                check(&transposed(&at), &b_view);
                check(&a_part.as_view(), &b_view);
            }
        }
    }

    /// An output with a column more than `b` has panics as nalgebra's `gemm` does (the loops
    /// would otherwise read past `b`'s last column).
    #[test]
    #[should_panic(expected = "Gemm: dimensions mismatch")]
    fn shapes_that_do_not_fit_panic() {
        let (a, b) = (filled(45, 30, 0.3), filled(30, 10, 0.9));
        let mut c = DMatrix::zeros(45, 11);
        gemm(&mut c, 1.0, &a, &b, 0.0);
    }

    /// A block of rows of the output computed alone equals the same rows of the whole product
    /// bit for bit (the `parallel` feature splits a tall product that way).
    #[test]
    fn a_block_of_rows_equals_the_whole_bit_for_bit() {
        let (m, k, n) = (45, 30, 10);
        let (a, at, b) = (filled(m, k, 0.3), filled(k, m, 0.3), filled(k, n, 0.9));
        for rows_of_a in [false, true] {
            let a = if rows_of_a {
                transposed(&at)
            } else {
                a.as_view()
            };
            let mut whole = DMatrix::zeros(m, n);
            gemm(&mut whole, 1.0, &a, &b, 0.0);
            let mut block = DMatrix::zeros(21, n);
            gemm(&mut block, 1.0, &a.rows(7, 21), &b, 0.0);
            assert_eq!(block, whole.rows(7, 21));
        }
    }
}
