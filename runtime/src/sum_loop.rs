//! A loop whose carried values are all sums, `cₖ ← cₖ + termₖ(i)` with no term
//! reading any carried value (a loss adding per-sample terms, and the
//! gradient accumulators of its reverse pass), run as a reduction: with the
//! `parallel` feature and enough work, the iterations are cut into
//! consecutive blocks, each block adds its terms into zeros of its own on
//! some thread, and the blocks' sums are added to the initial values in block
//! order.
//!
//! The blocks depend only on the trip count and [`crate::threads`], never on
//! timing, so a run gives the same result every time at the same thread
//! setting. The sum is grouped differently from the loop's own order, so it
//! may differ from a single-threaded run in the last bits, as any parallel
//! reduction.

use std::ops::Range;
use std::sync::Mutex;

use nalgebra::allocator::Allocator;
use nalgebra::{
    Complex, ComplexField, DefaultAllocator, Dim, Dyn, Matrix, OMatrix, RealField, Scalar, Storage,
    U1,
};

use crate::parallel::Out;

/// A value a loop adds terms into: a zero of its own shape, and `+=`.
pub trait Accumulator {
    /// What a block of the loop starts from: a zero of the same shape.
    fn zeroed(&self) -> Self;
    /// Told the block `block` is about to run from this value (a sum needs nothing).
    fn enter(&mut self, block: &Range<usize>) {
        let _ = block;
    }
    /// `self += other`: the sum of a block added in.
    fn add(&mut self, other: Self);
}

macro_rules! scalar_accumulators {
    ($($t:ty),*) => {$(
        impl Accumulator for $t {
            fn zeroed(&self) -> Self {
                0 as $t
            }
            fn add(&mut self, other: Self) {
                *self += other;
            }
        }
    )*};
}
scalar_accumulators!(f32, f64, usize, isize, u32, u64, i32, i64);

impl<T: RealField> Accumulator for Complex<T> {
    fn zeroed(&self) -> Self {
        Complex::new(T::zero(), T::zero())
    }
    fn add(&mut self, other: Self) {
        *self += other;
    }
}

impl<T, R: Dim, C: Dim> Accumulator for OMatrix<T, R, C>
where
    T: ComplexField,
    DefaultAllocator: Allocator<R, C>,
{
    fn zeroed(&self) -> Self {
        let (r, c) = self.shape_generic();
        OMatrix::zeros_generic(r, c)
    }
    fn add(&mut self, other: Self) {
        self.zip_apply(&other, |a, b| *a += b);
    }
}

macro_rules! tuple_accumulators {
    ($(($($t:ident $k:tt),*))*) => {$(
        impl<$($t: Accumulator),*> Accumulator for ($($t,)*) {
            fn zeroed(&self) -> Self {
                ($(self.$k.zeroed(),)*)
            }
            fn enter(&mut self, block: &Range<usize>) {
                $(self.$k.enter(block);)*
            }
            fn add(&mut self, other: Self) {
                $(self.$k.add(other.$k);)*
            }
        }
    )*};
}
tuple_accumulators! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11)
}

/// The adjoint a loop over `range` accumulates entry by entry, `c[i] += yᵢ` at its own index
/// `i` (zero before), held in the buffer of a matrix `m` that the loop reads only at that same
/// index, `m[i]`, before it writes `c[i] = yᵢ` over it: the loop's last reader of `m` gives it
/// its buffer instead of a zero matrix of its own. The entries of `m` the loop does not visit are
/// zeroed here; a block run apart starts from a copy of `m` and hands back the entries of its
/// own block.
///
/// ```
/// # use matgrad::__private::{sum_loop, Indexed};
/// # use matgrad::nalgebra::DVector;
/// let m = DVector::from_vec(vec![1.0, 2.0, 3.0, 4.0]);
/// let c = sum_loop(1..3, 1, Indexed::new(m, 1..3), |block, mut c| {
///     for i in block {
///         c[i] = 10.0 * c[i];
///     }
///     c
/// });
/// assert_eq!(c.into_inner(), DVector::from_vec(vec![0.0, 20.0, 30.0, 0.0]));
/// ```
#[derive(Clone, Debug)]
pub struct Indexed<M> {
    m: M,
    /// The indices this value's block writes.
    block: Range<usize>,
}

impl<T: ComplexField, R: Dim, C: Dim> Indexed<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// `m` for a loop over `range`, zero outside `range`.
    pub fn new(mut m: OMatrix<T, R, C>, range: Range<usize>) -> Self {
        let len = m.len();
        for i in (0..range.start.min(len)).chain(range.end.min(len)..len) {
            m[i] = T::zero();
        }
        Indexed { m, block: range }
    }

    /// The accumulated adjoint.
    pub fn into_inner(self) -> OMatrix<T, R, C> {
        self.m
    }
}

impl<M> std::ops::Deref for Indexed<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.m
    }
}

impl<M> std::ops::DerefMut for Indexed<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.m
    }
}

impl<T: Scalar, R: Dim, C: Dim> Accumulator for Indexed<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// A copy: the block reads the entries of its own indices before it writes them.
    fn zeroed(&self) -> Self {
        Indexed {
            m: self.m.clone(),
            block: 0..0,
        }
    }
    fn enter(&mut self, block: &Range<usize>) {
        self.block = block.clone();
    }
    /// The entries `other`'s block wrote, copied in.
    fn add(&mut self, other: Self) {
        for i in other.block {
            self.m[i] = other.m[i].clone();
        }
    }
}

/// `m` as a view held by a local of a loop's body. The body of [`sum_loop`] is a closure
/// holding references to what it reads; reading an entry through one loads the matrix's
/// pointer and sizes again after every write the body makes, where the local view keeps
/// them in registers.
#[inline(always)]
pub fn local_view<T: Scalar, R: Dim, C: Dim, S: nalgebra::RawStorage<T, R, C>>(
    m: &nalgebra::Matrix<T, R, C, S>,
) -> nalgebra::MatrixView<'_, T, R, C, S::RStride, S::CStride> {
    m.as_view()
}

/// `body(range, init)`, where `body` runs the loop over `range` from the
/// carried values `init` and returns them at the end; `work` is an estimate
/// of one iteration's arithmetic (the entries it computes). With the
/// `parallel` feature, at least [`crate::threads`]` > 1` and `range.len() ·
/// work` beyond the threshold of the split products, the blocks of the range
/// run from zeros across threads (see the module documentation).
#[cfg(feature = "parallel")]
pub fn sum_loop<A, F>(range: Range<usize>, work: usize, init: A, body: F) -> A
where
    A: Accumulator + Send,
    F: Fn(Range<usize>, A) -> A + Sync,
{
    let n = range.len();
    let parts = crate::parallel::blocks(true, n.saturating_mul(work), n);
    if parts <= 1 {
        return body(range, init);
    }
    let blocks = (parts * crate::parallel::RANGES_PER_PART).min(n);
    // Each block's slot holds its zero until the block replaces it by its sum.
    let sums: Vec<Mutex<Option<A>>> = (0..blocks)
        .map(|_| Mutex::new(Some(init.zeroed())))
        .collect();
    crate::parallel::split(blocks, parts, |first, count| {
        for (b, slot) in sums.iter().enumerate().skip(first).take(count) {
            let start = range.start + n * b / blocks;
            let end = range.start + n * (b + 1) / blocks;
            let mut slot = slot.lock().expect("a block's slot");
            let mut zero = slot.take().expect("a block runs once");
            zero.enter(&(start..end));
            *slot = Some(body(start..end, zero));
        }
    });
    let mut total = init;
    for sum in sums {
        let sum = sum.into_inner().expect("a block's sum");
        total.add(sum.expect("every block ran"));
    }
    total
}

/// `body(range, init)`: without the `parallel` feature, the loop as written.
#[cfg(not(feature = "parallel"))]
#[inline(always)]
pub fn sum_loop<A, F>(range: Range<usize>, work: usize, init: A, body: F) -> A
where
    F: FnOnce(Range<usize>, A) -> A,
{
    let _ = work;
    body(range, init)
}

/// Whether [`sum_blocks`] splits `rows` rows of `work` multiply-adds each across threads: never
/// without the `parallel` feature, so that the generated code's other branch, the function as
/// written, is the only one left after inlining.
#[inline]
pub fn splits_rows(rows: usize, work: usize) -> bool {
    crate::parallel::blocks(true, rows.saturating_mul(work), rows) > 1
}

/// `Σ_b body(b)` over consecutive blocks `b` of `range`, the blocks run across threads and
/// their sums added in block order: a loss whose samples are rows, computed block of rows by
/// block of rows (the sums over samples of the value and gradient; `work` estimates the
/// multiply-adds of one row). On one block, `body(range)`.
// Not inlined: it runs only for work of tens of microseconds, and inlined it made the generated
// function around it three times the size (lsq's 3 486 bytes against 1 228), the one-thread
// branch included.
#[cfg(feature = "parallel")]
#[inline(never)]
pub fn sum_blocks<A, F>(range: Range<usize>, work: usize, body: F) -> A
where
    A: Accumulator + Send,
    F: Fn(Range<usize>) -> A + Sync,
{
    let n = range.len();
    let parts = crate::parallel::blocks(true, n.saturating_mul(work), n);
    if parts <= 1 {
        return body(range);
    }
    // One block per part: a block of rows of a column-major matrix is a strided view, and the
    // smaller the blocks the slower (on the 2-core machine, one thread through the
    // least-squares gradient of a 2000 × 200 `X` took 1.17× the time of the whole in two
    // blocks, 1.26× in eight).
    let blocks = parts;
    let sums: Vec<Mutex<Option<A>>> = (0..blocks).map(|_| Mutex::new(None)).collect();
    crate::parallel::split(blocks, parts, |first, count| {
        for (b, slot) in sums.iter().enumerate().skip(first).take(count) {
            let start = range.start + n * b / blocks;
            let end = range.start + n * (b + 1) / blocks;
            *slot.lock().expect("a block's slot") = Some(body(start..end));
        }
    });
    let mut sums = sums.into_iter().map(|s| {
        s.into_inner()
            .expect("a block's sum")
            .expect("every block ran")
    });
    let mut total = sums.next().expect("at least two blocks");
    for sum in sums {
        total.add(sum);
    }
    total
}

/// `body(range)`: without the `parallel` feature, one block (and the generated code never calls
/// it, [`splits_rows`] being `false`).
#[cfg(not(feature = "parallel"))]
#[inline(always)]
pub fn sum_blocks<A, F>(range: Range<usize>, work: usize, body: F) -> A
where
    F: FnOnce(Range<usize>) -> A,
{
    let _ = work;
    body(range)
}

/// A matrix with one row per sample written block of rows by block of rows from the blocks of
/// [`sum_blocks`] (`∇U` of `‖M − U Vᵀ‖²`): each block copies its rows into place on its own
/// thread, from its own cache, instead of handing them back to the caller to be stacked. Every
/// row is written once ([`RowsOut::into_matrix`] checks it).
pub struct RowsOut<T: Scalar, C: Dim>
where
    DefaultAllocator: Allocator<Dyn, C>,
{
    m: OMatrix<T, Dyn, C>,
    /// `m`'s address, taken once: the blocks write through it while `m` is not touched.
    out: Out<T, Dyn, C>,
    /// The rows written so far, checked disjoint before each write.
    written: Mutex<Vec<Range<usize>>>,
}

impl<T: ComplexField, C: Dim> RowsOut<T, C>
where
    DefaultAllocator: Allocator<Dyn, C>,
{
    /// `rows` rows of `cols` columns, none written yet.
    pub fn new(rows: usize, cols: C) -> Self {
        let mut m = OMatrix::zeros_generic(Dyn(rows), cols);
        let out = Out::new(&mut m);
        RowsOut {
            m,
            out,
            written: Mutex::new(Vec::new()),
        }
    }

    /// Writes `block` into rows `rows`. Panics if a row is outside the matrix or already
    /// written, or if `block` is not `rows.len()` by the matrix's columns.
    pub fn put<R2: Dim, C2: Dim, S: Storage<T, R2, C2>>(
        &self,
        rows: Range<usize>,
        block: &Matrix<T, R2, C2, S>,
    ) {
        let (n, cols) = self.m.shape();
        assert!(
            rows.start <= rows.end && rows.end <= n && block.shape() == (rows.len(), cols),
            "rows {rows:?} of {n} × {cols} written with a {:?} block",
            block.shape()
        );
        {
            let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
            let overlaps = |w: &Range<usize>| w.start < rows.end && rows.start < w.end;
            assert!(!written.iter().any(overlaps), "rows {rows:?} written twice");
            written.push(rows.clone());
        }
        // SAFETY: the rows are inside the matrix and no other write covers them (both checked
        // above, the second under the lock).
        let mut view = unsafe { self.out.rows::<U1>(rows.start, rows.len()) };
        for j in 0..cols {
            for i in 0..rows.len() {
                // SAFETY: `(i, j)` is inside `block` and `view`, whose shapes are checked above.
                unsafe { *view.get_unchecked_mut((i, j)) = block.get_unchecked((i, j)).clone() };
            }
        }
    }

    /// The matrix. Panics unless every row was written.
    pub fn into_matrix(self) -> OMatrix<T, Dyn, C> {
        let written = self.written.into_inner().unwrap_or_else(|e| e.into_inner());
        let covered: usize = written.iter().map(|w| w.len()).sum();
        assert_eq!(covered, self.m.nrows(), "rows left unwritten");
        self.m
    }
}
