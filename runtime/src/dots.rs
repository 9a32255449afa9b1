//! Products that nalgebra computes as dot products, eight rows at a time.
//!
//! For dynamic `f64`, nalgebra's `aᵀ b` (`tr_mul`, `gemv_tr`, `gemm_tr`) computes each entry as
//! the dot product of a column of `a` with a column of `b`: eight partial sums, the one of lane
//! `l` adding the products of rows `l`, `l + 8`, `l + 16`, …, combined as
//! `((((0 + (s₀ + s₄)) + (s₁ + s₅)) + (s₂ + s₆)) + (s₃ + s₇))`, then the rows past the last
//! multiple of 8 added one by one; the entry is `α · dot (+ β cᵢⱼ)`. Compiled for the target's
//! baseline (on x86-64, SSE2), its eight sums are four pairs of lanes. The loops here keep the
//! eight sums as the lanes of one AVX-512 vector (chosen at run time) and combine them in the
//! same order, so the results are equal bit for bit to nalgebra's. They compute the dot products
//! of eight columns of `a` at once, reading each entry of `b` once for the eight, and combine
//! the eight products' sums by moving lanes between vectors, the eight results one vector. On
//! the 2-core machine `Xᵀ r` for a 2000 × 200 `X` took 0.48–0.58× nalgebra's time this way,
//! `Wᵀ r` for a 10 × 128 `W` 0.50–0.51× (`cargo run --release -p matgrad-bench --example
//! breakdown`, three runs).

use nalgebra::allocator::Allocator;
use nalgebra::constraint::{DimEq, SameNumberOfColumns, SameNumberOfRows, ShapeConstraint};
use nalgebra::{
    ComplexField, DefaultAllocator, Dim, Dyn, Matrix, OMatrix, Scalar, Storage, StorageMut,
};

use crate::cpu::{as_f64, has_avx512, is_f64, written};

/// `f64` entries in an AVX-512 vector, and nalgebra's number of partial sums.
const LANES: usize = 8;

/// The fewest multiply-adds of a product computed here (as for [`crate::columns`]).
const MIN_WORK: usize = 128;

/// `c ← α aᵀ b + β c`, as nalgebra's `gemm_tr`: by the loops here where [`applies`], else by
/// nalgebra.
#[inline]
pub(crate) fn gemm_tr<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
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
    ShapeConstraint: SameNumberOfRows<R0, C1> + SameNumberOfColumns<C0, C2> + DimEq<R1, R2>,
{
    if applies(a, b) {
        by_dots(c, alpha, a, b, beta);
    } else {
        c.gemm_tr(alpha, a, b, beta);
    }
}

/// Whether the loops here compute `aᵀ b`: `T` is `f64`, the inner size (the rows of `a` and
/// `b`) is dynamic (nalgebra's dot products of 2, 3 or 4 fixed rows are written out) and
/// [`LANES`] or more, the product has [`MIN_WORK`] multiply-adds or more, the columns of `a`
/// and of `b` are contiguous and the processor has AVX-512.
pub(crate) fn applies<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
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
    let ((k, m), n) = (a.shape(), b.ncols());
    R1::is::<Dyn>()
        && R2::is::<Dyn>()
        && k >= LANES
        && k.saturating_mul(m).saturating_mul(n) >= MIN_WORK
        && a.strides().0 == 1
        && b.strides().0 == 1
        && is_f64::<T>()
        && has_avx512()
}

/// `c ← α aᵀ b + β c` by the loops here, as [`applies`] decided (β = 0 does not read `c`).
/// Panics, as nalgebra does, where the shapes do not fit: the loops read through pointers.
pub(crate) fn by_dots<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
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
        (a.ncols(), b.ncols()),
        "Gemm: dimensions mismatch."
    );
    let c_strides = c.strides();
    let c = c.data.ptr_mut() as *mut f64;
    // SAFETY: `c` has the output's shape and strides.
    unsafe { run(c, c_strides, as_f64(&alpha), a, b, as_f64(&beta)) };
}

/// `α aᵀ b` by the loops here, as [`applies`] decided, into a new matrix (not filled with zeros
/// first: every entry is written once).
pub(crate) fn tr_product<T, R1, C1, S1, R2, C2, S2>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, C1, C2>
where
    T: Scalar,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<C1, C2>,
{
    let alpha = as_f64(&alpha);
    // SAFETY: `T` is `f64` (`applies`); the new matrix has the output's shape and strides, and
    // `run` writes every entry (β = 0 reads none).
    unsafe {
        written(a.shape_generic().1, b.shape_generic().1, |c, strides| {
            run(c, strides, alpha, a, b, 0.0)
        })
    }
}

/// `c ← α aᵀ b + β c` for the `c` of `aᵀ b`'s shape at `c` with strides `c_strides`.
///
/// # Safety
/// `c` holds `a.ncols()` rows of `b.ncols()` columns at `c_strides`, initialised unless β = 0;
/// [`applies`] holds for `a` and `b`.
unsafe fn run<T, R1, C1, S1, R2, C2, S2>(
    c: *mut f64,
    c_strides: (usize, usize),
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
    assert_eq!(a.nrows(), b.nrows(), "Gemm: dimensions mismatch.");
    let product = Dots {
        inner: a.nrows(),
        a_columns: a.ncols(),
        b_columns: b.ncols(),
        alpha,
        beta,
        a: a.data.ptr() as *const f64,
        a_column_stride: a.strides().1,
        b: b.data.ptr() as *const f64,
        b_column_stride: b.strides().1,
        c,
        c_strides,
    };
    // SAFETY: forwarded; `applies` checked AVX-512 and the layouts.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        product.run()
    };
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("dot products need AVX-512 ({} rows)", product.inner);
}

/// `c ← α aᵀ b + β c`: `a` is `inner × a_columns`, `b` `inner × b_columns`, both with
/// contiguous columns; `c` is `a_columns × b_columns`. Strides are (between rows, between
/// columns).
struct Dots {
    inner: usize,
    a_columns: usize,
    b_columns: usize,
    alpha: f64,
    beta: f64,
    a: *const f64,
    a_column_stride: usize,
    b: *const f64,
    b_column_stride: usize,
    c: *mut f64,
    c_strides: (usize, usize),
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512d, __m512i, _mm512_add_pd, _mm512_i64gather_pd, _mm512_i64scatter_pd,
        _mm512_loadu_pd, _mm512_mul_pd, _mm512_permutex2var_pd, _mm512_set1_pd, _mm512_set_epi64,
        _mm512_setzero_pd, _mm512_shuffle_f64x2, _mm512_storeu_pd,
    };

    use super::{Dots, LANES};

    impl Dots {
        /// Every entry of `c`, eight rows of a column at a time (then four, three, two, one).
        ///
        /// # Safety
        /// The processor has AVX-512; the pointers and strides describe the matrices.
        #[target_feature(enable = "avx512f")]
        pub(super) unsafe fn run(&self) {
            for j in 0..self.b_columns {
                let mut first = 0;
                while first < self.a_columns {
                    let count = (self.a_columns - first).min(LANES);
                    // SAFETY (each): forwarded; columns `first..first + count` of `a`.
                    let done = unsafe {
                        match count {
                            1 => self.few::<1>(first, j),
                            2 => self.few::<2>(first, j),
                            3 => self.few::<3>(first, j),
                            4..=7 => self.few::<4>(first, j),
                            _ => self.eight(first, j),
                        }
                    };
                    first += done;
                }
            }
        }

        /// The rows summed in the eight partial sums: those below the last multiple of 8 (the
        /// rest are added one by one after).
        #[inline(always)]
        fn whole(&self) -> usize {
            self.inner / LANES * LANES
        }

        /// Column `first + g` of `a`.
        #[inline(always)]
        fn a_column(&self, first: usize, g: usize) -> *const f64 {
            self.a.wrapping_add((first + g) * self.a_column_stride)
        }

        /// Column `j` of `b`.
        #[inline(always)]
        fn b_column(&self, j: usize) -> *const f64 {
            self.b.wrapping_add(j * self.b_column_stride)
        }

        /// The eight partial sums of the dot products of columns `first..first + G` of `a`
        /// with column `j` of `b`, one vector per product: lane `l` adds the products of rows
        /// `l`, `l + 8`, … below the last multiple of 8.
        ///
        /// # Safety
        /// The columns are in `a` and `b`.
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn partial_sums<const G: usize>(&self, first: usize, j: usize) -> [__m512d; G] {
            let b = self.b_column(j);
            let mut sums = [_mm512_setzero_pd(); G];
            for i in (0..self.whole()).step_by(LANES) {
                // SAFETY: rows `i..i + LANES` (below `inner`) of the columns.
                let x = unsafe { _mm512_loadu_pd(b.add(i)) };
                for (g, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: as above.
                    let y = unsafe { _mm512_loadu_pd(self.a_column(first, g).add(i)) };
                    *sum = _mm512_add_pd(*sum, _mm512_mul_pd(y, x));
                }
            }
            sums
        }

        /// Entries `first..first + 8` of column `j` of `c`, one per lane. Returns 8.
        ///
        /// # Safety
        /// The columns are in `a`, `b` and `c`.
        #[target_feature(enable = "avx512f")]
        unsafe fn eight(&self, first: usize, j: usize) -> usize {
            // SAFETY: forwarded.
            let mut dot = combine_eight(&unsafe { self.partial_sums::<LANES>(first, j) });
            // The rows past the last multiple of 8, added one by one: row `k` of the eight
            // columns is eight entries `a_column_stride` apart.
            let row = lane_offsets(self.a_column_stride);
            for k in self.whole()..self.inner {
                // SAFETY: row `k` of the columns, and of `b`'s column `j`.
                let (y, x) = unsafe {
                    let y = _mm512_i64gather_pd::<8>(row, self.a_column(first, 0).add(k));
                    (y, _mm512_set1_pd(*self.b_column(j).add(k)))
                };
                dot = _mm512_add_pd(dot, _mm512_mul_pd(y, x));
            }
            let c = self
                .c
                .wrapping_add(first * self.c_strides.0 + j * self.c_strides.1);
            let (contiguous, column) = (self.c_strides.0 == 1, lane_offsets(self.c_strides.0));
            let mut value = _mm512_mul_pd(_mm512_set1_pd(self.alpha), dot);
            // SAFETY (both): eight entries of `c`'s column `j`, `c_strides.0` apart.
            if self.beta != 0.0 {
                let old = unsafe {
                    if contiguous {
                        _mm512_loadu_pd(c)
                    } else {
                        _mm512_i64gather_pd::<8>(column, c)
                    }
                };
                value = _mm512_add_pd(value, _mm512_mul_pd(_mm512_set1_pd(self.beta), old));
            }
            unsafe {
                if contiguous {
                    _mm512_storeu_pd(c, value)
                } else {
                    _mm512_i64scatter_pd::<8>(c, column, value)
                }
            }
            LANES
        }

        /// Entries `first..first + G` of column `j` of `c`, one product at a time. Returns `G`.
        ///
        /// # Safety
        /// The columns are in `a`, `b` and `c`.
        #[target_feature(enable = "avx512f")]
        unsafe fn few<const G: usize>(&self, first: usize, j: usize) -> usize {
            let b = self.b_column(j);
            // SAFETY: forwarded.
            let sums = unsafe { self.partial_sums::<G>(first, j) };
            for (g, &sum) in sums.iter().enumerate() {
                let mut s = [0.0; LANES];
                // SAFETY: `s` holds `LANES` entries.
                unsafe { _mm512_storeu_pd(s.as_mut_ptr(), sum) };
                let mut dot = 0.0;
                dot += s[0] + s[4];
                dot += s[1] + s[5];
                dot += s[2] + s[6];
                dot += s[3] + s[7];
                for k in self.whole()..self.inner {
                    // SAFETY: row `k` of the columns.
                    dot += unsafe { *self.a_column(first, g).add(k) * *b.add(k) };
                }
                // SAFETY: entry (first + g, j) of `c`.
                unsafe {
                    let c = self
                        .c
                        .add((first + g) * self.c_strides.0 + j * self.c_strides.1);
                    *c = if self.beta == 0.0 {
                        self.alpha * dot
                    } else {
                        self.alpha * dot + self.beta * *c
                    };
                }
            }
            G
        }
    }

    /// `0, s, 2s, …, 7s`: the offsets of eight entries `s` apart.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn lane_offsets(s: usize) -> __m512i {
        let s = s as i64;
        _mm512_set_epi64(7 * s, 6 * s, 5 * s, 4 * s, 3 * s, 2 * s, s, 0)
    }

    /// The eight partial sums of each of eight dot products, combined in nalgebra's order: lane
    /// `g` of the result is `((((0 + (s₀ + s₄)) + (s₁ + s₅)) + (s₂ + s₆)) + (s₃ + s₇))` for the
    /// lanes `s` of `sums[g]`. The same additions as one product at a time, done for eight at once
    /// by moving lanes rather than one product's lanes to scalars.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn combine_eight(sums: &[__m512d]) -> __m512d {
        // Two products per vector, `sᵢ + sᵢ₊₄` for i < 4: the low halves of both, then the high.
        let halves = |p: usize| {
            let low = _mm512_shuffle_f64x2::<0x44>(sums[p], sums[p + 1]);
            let high = _mm512_shuffle_f64x2::<0xEE>(sums[p], sums[p + 1]);
            _mm512_add_pd(low, high)
        };
        let pairs = [halves(0), halves(2), halves(4), halves(6)];
        // Of two such vectors (products g..g + 4), the sums i = 0, 1 of the four products, and
        // the sums i = 2, 3.
        let first_two = _mm512_set_epi64(13, 9, 5, 1, 12, 8, 4, 0);
        let last_two = _mm512_set_epi64(15, 11, 7, 3, 14, 10, 6, 2);
        let gather = |p: usize, index| _mm512_permutex2var_pd(pairs[p], index, pairs[p + 1]);
        let (low01, high01) = (gather(0, first_two), gather(2, first_two));
        let (low23, high23) = (gather(0, last_two), gather(2, last_two));
        // Sum i of all eight products, lane g for product g.
        let sum = [
            _mm512_shuffle_f64x2::<0x44>(low01, high01),
            _mm512_shuffle_f64x2::<0xEE>(low01, high01),
            _mm512_shuffle_f64x2::<0x44>(low23, high23),
            _mm512_shuffle_f64x2::<0xEE>(low23, high23),
        ];
        let mut dot = _mm512_setzero_pd();
        for s in sum {
            dot = _mm512_add_pd(dot, s);
        }
        dot
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, DVector, Dyn, MatrixView, MatrixViewMut};

    use super::{applies, by_dots, gemm_tr, tr_product, MIN_WORK};
    use crate::cpu::has_avx512;
    use crate::test_matrices::{filled_with_zeros as filled, same_bits};

    /// `aᵀ b` for inner sizes around multiples of 8, 1 to 9 columns of `a` (groups of four and
    /// what is left), `b` a vector or a few columns, `a` whole and as part of a larger matrix,
    /// the output whole and as a transposed view (rows apart), α = 1, −2 and ½, β = 0 (over
    /// NaN, which must not be read), 1 and −¾: nalgebra's `gemm_tr` and `tr_mul`, bit for bit.
    #[test]
    fn dot_products_equal_nalgebras_bit_for_bit() {
        for k in [8, 9, 15, 16, 17, 23, 64, 100, 301] {
            for m in (1..=9).chain([12, 15, 16, 17, 31]) {
                for n in [1, 2, 3] {
                    let a = filled(k, m, 0.37);
                    let big = filled(k + 3, m + 2, 0.53);
                    let a_part = big.view((1, 2), (k, m));
                    let b = filled(k, n, 0.71);
                    let enough = k * m * n >= MIN_WORK;
                    assert_eq!(applies(&a, &b), enough && has_avx512(), "{k} × {m} × {n}");
                    if !has_avx512() {
                        continue;
                    }
                    for (alpha, beta) in [(1.0, 0.0), (-2.0, 0.0), (0.5, 1.0), (1.0, -0.75)] {
                        let start = filled(m, n, 0.19);
                        let check = |a: &MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn>| {
                            let mut expected = start.clone();
                            expected.gemm_tr(alpha, a, &b, beta);
                            let mut c = if beta == 0.0 {
                                DMatrix::from_element(m, n, f64::NAN)
                            } else {
                                start.clone()
                            };
                            let mut by_gemm = c.clone();
                            by_dots(&mut c, alpha, a, &b, beta);
                            same_bits(&c, &expected);
                            gemm_tr(&mut by_gemm, alpha, a, &b, beta);
                            same_bits(&by_gemm, &expected);
                            // Into the transpose of an `n × m` matrix: rows `n` apart.
                            let mut t = DMatrix::from_element(n, m, f64::NAN);
                            if beta != 0.0 {
                                t.copy_from(&start.transpose());
                            }
                            let mut view = MatrixViewMut::from_slice_with_strides_generic(
                                t.as_mut_slice(),
                                Dyn(m),
                                Dyn(n),
                                Dyn(n),
                                Dyn(1),
                            );
                            by_dots(&mut view, alpha, a, &b, beta);
                            same_bits(&t.transpose(), &expected);
                        };
                        check(&a.as_view());
                        check(&a_part.as_view());
                    }
                    same_bits(&tr_product(1.0, &a, &b), &a.tr_mul(&b));
                    same_bits(&tr_product(0.5, &a, &b), &{
                        let mut c = DMatrix::zeros(m, n);
                        c.gemm_tr(0.5, &a, &b, 0.0);
                        c
                    });
                }
            }
        }
    }

    /// What the loops leave to nalgebra: fewer than 8 rows, fixed rows (nalgebra writes out
    /// dot products of 2 to 4 of them), a `b` by rows.
    #[test]
    fn other_products_are_left_to_nalgebra() {
        let (a, x) = (filled(40, 30, 0.1), DVector::from_element(40, 1.0));
        assert_eq!(applies(&a, &x), has_avx512());
        assert!(!applies(&a.rows(0, 7), &x.rows(0, 7)));
        let fixed = nalgebra::Matrix4x2::<f64>::zeros();
        assert!(!applies(&fixed, &nalgebra::Vector4::zeros()));
        // Row 1 of a 3 × 40 matrix, as a column: entries 3 apart.
        let wide = filled(3, 40, 0.2);
        let row = MatrixView::from_slice_with_strides_generic(
            &wide.as_slice()[1..],
            Dyn(40),
            Dyn(1),
            Dyn(3),
            Dyn(120),
        );
        assert!(!applies(&a, &row));
    }

    /// The shapes are checked before anything is read through pointers.
    #[test]
    #[should_panic(expected = "Gemm: dimensions mismatch")]
    fn shapes_that_do_not_fit_panic() {
        let (a, x) = (filled(40, 30, 0.1), DVector::from_element(40, 1.0));
        let mut c = DMatrix::zeros(31, 1);
        gemm_tr(&mut c, 1.0, &a, &x, 0.0);
    }
}
