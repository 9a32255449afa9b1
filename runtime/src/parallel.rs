//! Products of dynamic size split across threads (the `parallel` feature).
//!
//! A matrix product `A B` is split by blocks of rows of `A` or of columns of `B` (those of the
//! output's longer side), each block one nalgebra `gemm` (matrixmultiply's kernels, on the
//! block's thread; an output's last few columns past a multiple of 8 by [`crate::narrow`]),
//! equal bit for bit to the whole product. matrixmultiply's own `threading` feature is not
//! used: on the 2-core machine it made the thin products of a softmax classifier (`W X`,
//! 10 × 100 by 100 × 1000, and `G Xᵀ`) 1.45-1.55× slower than on one thread, and a 200 × 200
//! product 1.3× slower; it would also start its threads inside ours (blocks of rows of a loss,
//! `sum_loop`).
//!
//! Matrix × vector (nalgebra's `gemv`, one thread) is split here too, both `A x` and `Aᵀ x` by
//! blocks of columns of `A`, each contiguous in memory. Each block is the call a whole product
//! would make ([`crate::columns`], [`crate::dots`] or nalgebra's), on views. For `Aᵀ x` a block
//! gives some entries of the result, equal bit for bit to the single-threaded call's; for `A x`
//! a block gives a partial product of every entry, and the partial products are added in block
//! order, so the result depends on the number of threads in its last bits. (Blocks of rows of
//! `A` would keep `A x` equal bit for bit, but on the 2-core machine two threads took 0.93-1.4×
//! one thread's time on a 2000 × 200 `A` that way, and 0.6-0.75× by columns, timed alone on an
//! idle machine.)
//!
//! The blocks run on matgrad's own worker threads ([`crate::pool`]: one fewer than
//! [`threads`], the caller taking blocks too, awake between the splits of a training loop)
//! rather than on `std::thread::scope`, which spawns and joins a thread on every call: on the
//! 2-core machine at a load average of about 4, handing two empty halves to a sleeping rayon
//! pool took 16-20 µs, to a scoped thread 90-140 µs (a 2000 × 200 `gemv` takes about 70 µs on
//! one core).
//!
//! Below [`MIN_WORK`] multiply-adds, for fixed sizes, without the feature, or with one thread,
//! every function here is the single-threaded product it wraps.

#[cfg(feature = "parallel")]
use std::sync::atomic::{AtomicUsize, Ordering};

use std::sync::Mutex;

use nalgebra::constraint::{DimEq, SameNumberOfColumns, SameNumberOfRows, ShapeConstraint};
use nalgebra::{
    ComplexField, DMatrix, Dim, Dyn, Matrix, Scalar, Storage, StorageMut, ViewStorage,
    ViewStorageMut, U1,
};

/// The multiply-adds below which a product stays on the calling thread: a hand-off to a
/// sleeping worker costs microseconds (above), what about 10⁵ multiply-adds of a `gemv` take
/// (measured with the rayon pool the workers replaced, whose hand-off was no faster). With the
/// benchmark crate's table built with `--features parallel`, on 2 cores, lsq and logreg at
/// 200 × 50 (10⁴, below) are unchanged; at 2000 × 200 (4·10⁵) threads took 0.58-1.22× the single-threaded
/// time across runs at load averages of 1-3 (other builds running), and 2.0-2.4× in a run
/// beside a two-job build: on a machine with no idle core, set one thread.
pub const MIN_WORK: usize = 1 << 17;

/// The number of blocks a product of `work` multiply-adds is cut into: 1 unless the feature is
/// on, a size is dynamic and the work is large enough for every block to pay for its thread.
#[inline]
pub(crate) fn blocks(dynamic: bool, work: usize, extent: usize) -> usize {
    if !cfg!(feature = "parallel") || !dynamic {
        return 1;
    }
    // The cheapest test first: small work (most calls) returns after one atomic load.
    let min_work = min_work();
    if work < min_work || in_split() {
        return 1;
    }
    threads()
        .min(work / (min_work / 2).max(1))
        .min(extent)
        .max(1)
}

/// The multiply-adds below which work stays on the calling thread: `MATGRAD_MIN_WORK` from the
/// environment (read once; at least 1, which splits all work of dynamic size, as the tests of
/// the split code do), else [`MIN_WORK`].
#[inline]
fn min_work() -> usize {
    #[cfg(feature = "parallel")]
    {
        match MIN_WORK_READ.load(Ordering::Relaxed) {
            0 => read_min_work(),
            m => m,
        }
    }
    #[cfg(not(feature = "parallel"))]
    MIN_WORK
}

/// [`min_work`] on its first call.
#[cfg(feature = "parallel")]
#[cold]
fn read_min_work() -> usize {
    let m = std::env::var("MATGRAD_MIN_WORK")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(MIN_WORK)
        .max(1);
    MIN_WORK_READ.store(m, Ordering::Relaxed);
    m
}

/// [`min_work`], 0 until first read.
#[cfg(feature = "parallel")]
static MIN_WORK_READ: AtomicUsize = AtomicUsize::new(0);

/// The number of threads a generated gradient's products may use: 1 without the `parallel`
/// feature; with it, the last [`set_threads`], else `MATGRAD_THREADS` from the environment (read
/// once), else the number of cores (`std::thread::available_parallelism`).
pub fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        match THREADS.load(Ordering::Relaxed) {
            0 => {
                let n = std::env::var("MATGRAD_THREADS")
                    .ok()
                    .and_then(|s| s.trim().parse::<usize>().ok())
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
                    .max(1);
                THREADS.store(n, Ordering::Relaxed);
                n
            }
            n => n,
        }
    }
    #[cfg(not(feature = "parallel"))]
    1
}

/// Sets the number of threads [`threads`] returns from now on (at least 1; 1 keeps every
/// product on the calling thread). The worker threads are started at the first split,
/// [`threads`]` − 1` of them: more threads set afterwards share those. Without the `parallel`
/// feature, does nothing.
pub fn set_threads(n: usize) {
    #[cfg(feature = "parallel")]
    THREADS.store(n.max(1), Ordering::Relaxed);
    #[cfg(not(feature = "parallel"))]
    let _ = n;
}

/// [`threads`], 0 until first read.
#[cfg(feature = "parallel")]
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Whether a product of `work` multiply-adds is split across threads, given whether one of its
/// sizes is dynamic (false without the feature).
#[inline]
pub fn worth_splitting(dynamic: bool, work: usize) -> bool {
    blocks(dynamic, work, usize::MAX) > 1
}

/// `f(start, len)` on consecutive ranges covering `0..extent`, shared by the calling thread and
/// up to `parts − 1` of matgrad's workers ([`crate::pool`]); returns when every range is done.
///
/// The ranges are claimed one at a time from a counter, and the caller claims them too, so a
/// worker that starts late (asleep, or its core busy) finds fewer or none left. The caller waits
/// only for ranges already claimed; a worker descheduled in the middle of its range (a machine
/// with more runnable threads than cores) still makes it wait.
pub(crate) fn split(extent: usize, parts: usize, f: impl Fn(usize, usize) + Sync) {
    #[cfg(feature = "parallel")]
    crate::pool::split(extent, parts, (parts * RANGES_PER_PART).min(extent), &f);
    #[cfg(not(feature = "parallel"))]
    {
        let _ = parts;
        f(0, extent)
    }
}

/// Whether the calling thread runs a range of a [`split`] (whose work is not split again).
#[inline]
fn in_split() -> bool {
    #[cfg(feature = "parallel")]
    return crate::pool::in_split();
    #[cfg(not(feature = "parallel"))]
    false
}

/// Ranges per thread: smaller ranges let the caller take over more of a late worker's share.
#[cfg(feature = "parallel")]
pub(crate) const RANGES_PER_PART: usize = 4;

/// `m` as a view with row stride `RS`: `U1` where `m`'s columns are contiguous (nalgebra's
/// loops over a column then vectorise), `Dyn` otherwise. A view of `T: Sync` can be shared
/// across threads, a generic storage is not known to be.
fn shared<RS: Dim, T: Scalar, R: Dim, C: Dim, S: Storage<T, R, C>>(
    m: &Matrix<T, R, C, S>,
) -> Matrix<T, R, C, ViewStorage<'_, T, R, C, RS, Dyn>> {
    let (rs, cs) = m.strides();
    // SAFETY: the view reads exactly the entries of `m`, with `m`'s strides, and borrows `m`.
    Matrix::from_data(unsafe {
        ViewStorage::from_raw_parts(
            m.data.ptr(),
            m.shape_generic(),
            (RS::from_usize(rs), Dyn(cs)),
        )
    })
}

/// [`shared`] with both sizes `Dyn`, so that blocks of it meet nalgebra's shape constraints
/// whatever the sizes' types.
fn unsized_view<RS: Dim, T: Scalar, R: Dim, C: Dim, S: Storage<T, R, C>>(
    m: &Matrix<T, R, C, S>,
) -> Matrix<T, Dyn, Dyn, ViewStorage<'_, T, Dyn, Dyn, RS, Dyn>> {
    let ((r, c), (rs, cs)) = (m.shape(), m.strides());
    // SAFETY: the view reads exactly the entries of `m`, with `m`'s strides, and borrows `m`.
    Matrix::from_data(unsafe {
        ViewStorage::from_raw_parts(
            m.data.ptr(),
            (Dyn(r), Dyn(c)),
            (RS::from_usize(rs), Dyn(cs)),
        )
    })
}

/// The address of an output matrix, shared by the threads that write disjoint blocks of it.
pub(crate) struct Out<T, R, C> {
    ptr: *mut T,
    shape: (R, C),
    strides: (usize, usize),
}

// SAFETY: each thread builds a view of a block no other thread's view overlaps (see
// `rows`/`columns`), so sharing the address is sharing `&mut` to disjoint parts.
unsafe impl<T: Send, R: Dim, C: Dim> Sync for Out<T, R, C> {}

impl<T: Scalar, R: Dim, C: Dim> Out<T, R, C> {
    pub(crate) fn new<S: StorageMut<T, R, C>>(m: &mut Matrix<T, R, C, S>) -> Self {
        let (shape, strides) = (m.shape_generic(), m.strides());
        Self {
            ptr: m.data.ptr_mut(),
            shape,
            strides,
        }
    }

    /// The same address with both sizes `Dyn` (see [`unsized_view`]).
    fn unsized_dims(self) -> Out<T, Dyn, Dyn> {
        Out {
            ptr: self.ptr,
            shape: (Dyn(self.shape.0.value()), Dyn(self.shape.1.value())),
            strides: self.strides,
        }
    }

    /// Columns `start .. start + len`.
    ///
    /// # Safety
    /// The block is inside the matrix, and no other live view overlaps it.
    unsafe fn columns(
        &self,
        start: usize,
        len: usize,
    ) -> Matrix<T, R, Dyn, ViewStorageMut<'_, T, R, Dyn, Dyn, Dyn>> {
        let (rs, cs) = self.strides;
        // SAFETY: the caller's contract.
        Matrix::from_data(unsafe {
            ViewStorageMut::from_raw_parts(
                self.ptr.add(start * cs),
                (self.shape.0, Dyn(len)),
                (Dyn(rs), Dyn(cs)),
            )
        })
    }

    /// Rows `start .. start + len`, with row stride `RS` (as in [`shared`]).
    ///
    /// # Safety
    /// The block is inside the matrix, and no other live view overlaps it.
    pub(crate) unsafe fn rows<RS: Dim>(
        &self,
        start: usize,
        len: usize,
    ) -> Matrix<T, Dyn, C, ViewStorageMut<'_, T, Dyn, C, RS, Dyn>> {
        let (rs, cs) = self.strides;
        // SAFETY: the caller's contract.
        Matrix::from_data(unsafe {
            ViewStorageMut::from_raw_parts(
                self.ptr.add(start * rs),
                (Dyn(len), self.shape.1),
                (RS::from_usize(rs), Dyn(cs)),
            )
        })
    }
}

/// Whether the columns of every matrix are contiguous (row stride 1).
fn contiguous(row_strides: &[usize]) -> bool {
    row_strides.iter().all(|&s| s == 1)
}

/// Whether any of the sizes of a product's output and factors is dynamic.
fn any_dynamic<R0: Dim, C0: Dim, R1: Dim, C1: Dim, C2: Dim>() -> bool {
    [
        R0::is::<Dyn>(),
        C0::is::<Dyn>(),
        R1::is::<Dyn>(),
        C1::is::<Dyn>(),
        C2::is::<Dyn>(),
    ]
    .contains(&true)
}

/// Rows or columns of the output per block of a split matrix product, at least: each block is
/// a `gemm` of its own, which packs all of one factor again.
const MIN_BLOCK_SIDE: usize = 16;

/// `c ← α a b + β c` (nalgebra's `gemm`): for a vector `b`, blocks of columns of `a` (contiguous
/// in memory) split across threads, each one `gemv` into a product of its own, added in block
/// order; for a matrix `b`, blocks of rows of `a` and `c` or of columns of `b` and `c`, each one
/// `gemm` (matrixmultiply's, on the block's thread) writing its own block of `c`, equal bit for
/// bit to the whole.
#[inline]
pub fn gemm<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
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
    gemm_formed(c, alpha, a, None::<&fn() -> Matrix<T, R1, C1, S1>>, b, beta);
}

/// [`gemm`] for a factor `a` that `form_a` computes from the inputs (`A + Aᵀ`, just written by
/// the calling thread): a block that reads all of `a` on another thread forms its own copy,
/// as reading the caller's fresh copy from the other core took longer on the 2-core machine.
/// The gradient of `tr(Xᵀ A X)` at 100 × 100 took 0.76-0.84× its one-thread time on two
/// threads so (three runs of the benchmark table), 0.88-1.13× in eight runs before.
pub(crate) fn gemm_formed<T, R0, C0, S0, R1, C1, S1, R2, C2, S2, F, SF>(
    c: &mut Matrix<T, R0, C0, S0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    form_a: Option<&F>,
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
    F: Fn() -> Matrix<T, R1, C1, SF> + Sync,
    SF: Storage<T, R1, C1>,
    ShapeConstraint: SameNumberOfRows<R0, R1> + SameNumberOfColumns<C0, C2> + DimEq<C1, R2>,
{
    let parts = gemm_parts(any_dynamic::<R0, C0, R1, C1, C2>(), a, b);
    if parts <= 1 {
        return crate::columns::gemm(c, alpha, a, b, beta);
    }
    let (m, n) = (a.nrows(), b.ncols());
    assert_eq!(c.shape(), (m, n), "Gemm: dimensions mismatch.");
    let out = Out::new(c);
    if n > 1 {
        gemm_blocks_of_c(out, alpha, a, form_a, b, beta, parts);
    } else if contiguous(&[out.strides.0, a.strides().0, b.strides().0]) {
        gemm_blocks::<U1, _, _, _, _, _, _, _, _, _>(out, alpha, a, b, beta, parts);
    } else {
        gemm_blocks::<Dyn, _, _, _, _, _, _, _, _, _>(out, alpha, a, b, beta, parts);
    }
}

/// The number of blocks [`gemm`] cuts `a b` into, given whether a size of the product is
/// dynamic.
pub(crate) fn gemm_parts<T, R1, C1, S1, R2, C2, S2>(
    dynamic: bool,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
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
    match n {
        1 => blocks(dynamic, m * k, k),
        _ if m > 5 && k > 5 => blocks(
            dynamic,
            m.saturating_mul(k).saturating_mul(n),
            m.max(n) / MIN_BLOCK_SIDE,
        ),
        _ => 1,
    }
}

fn gemm_blocks<RS, T, R0, C0, R1, C1, S1, R2, C2, S2>(
    c: Out<T, R0, C0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    parts: usize,
) where
    RS: Dim,
    T: ComplexField,
    R0: Dim,
    C0: Dim,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    ShapeConstraint: SameNumberOfRows<R0, R1> + SameNumberOfColumns<C0, C2> + DimEq<C1, R2>,
{
    let (a, b) = (
        unsized_view::<RS, _, _, _, _>(a),
        unsized_view::<RS, _, _, _, _>(b),
    );
    let (m, k) = a.shape();
    let c = c.unsized_dims();
    // Block 0 goes into `c` (with β), the others into partial products of
    // their own, added to `c` in block order once all are done.
    let partials: Vec<Mutex<Option<DMatrix<T>>>> = (1..parts).map(|_| Mutex::new(None)).collect();
    split(parts, parts, |first, count| {
        for p in first..first + count {
            let (start, end) = (k * p / parts, k * (p + 1) / parts);
            let (a, b) = (a.columns(start, end - start), b.rows(start, end - start));
            if p == 0 {
                // SAFETY: only block 0 writes into `c`, and only here.
                let mut c = unsafe { c.rows::<RS>(0, m) };
                crate::columns::gemm::<T, Dyn, Dyn, _, Dyn, Dyn, _, Dyn, Dyn, _>(
                    &mut c,
                    alpha.clone(),
                    &a,
                    &b,
                    beta.clone(),
                );
            } else {
                let mut partial = DMatrix::zeros(m, b.ncols());
                crate::columns::gemm::<T, Dyn, Dyn, _, Dyn, Dyn, _, Dyn, Dyn, _>(
                    &mut partial,
                    alpha.clone(),
                    &a,
                    &b,
                    nalgebra::zero(),
                );
                *partials[p - 1].lock().expect("a block's product") = Some(partial);
            }
        }
    });
    // SAFETY: every block is done; this is the only view of `c`.
    let mut c = unsafe { c.rows::<RS>(0, m) };
    for partial in partials {
        let partial = partial.into_inner().expect("a block's product");
        c += partial.expect("every block ran");
    }
}

/// `c ← α a b + β c` for a matrix `b`, `parts` threads each computing a block of
/// [`MIN_BLOCK_SIDE`] or more rows of `c` from the same rows of `a`, or columns of `c` from the
/// same columns of `b`, whichever side of `c` is longer. (On the 2-core machine, in one process:
/// 2000 × 200 · 200 × 200 took 0.59-0.65× one thread's time by rows (matrixmultiply's threads
/// 0.55×), the gradient of `tr(Xᵀ A X)` at 200 × 200 0.75-0.82×.)
fn gemm_blocks_of_c<T, R0, C0, R1, C1, S1, R2, C2, S2, F, SF>(
    c: Out<T, R0, C0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    form_a: Option<&F>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    parts: usize,
) where
    T: ComplexField,
    R0: Dim,
    C0: Dim,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    F: Fn() -> Matrix<T, R1, C1, SF> + Sync,
    SF: Storage<T, R1, C1>,
{
    // The thread whose blocks read `a` as given (only needed when other threads form theirs).
    let caller = form_a.map(|_| std::thread::current().id());
    let (a, b) = (
        unsized_view::<Dyn, _, _, _, _>(a),
        unsized_view::<Dyn, _, _, _, _>(b),
    );
    let c = c.unsized_dims();
    let (m, n) = (a.nrows(), b.ncols());
    // Decided once for the whole product, so that its blocks compute the same columns the same
    // way as the whole would (see `narrow`).
    let narrow = crate::narrow::narrow_columns(&a, &b, c.strides.0);
    // One block per part, along the longer side of `c`: a block packs all of the other factor.
    // (An output whose every column `narrow`'s loops compute is split by rows whatever its
    // shape.)
    let along_rows = m > n || narrow == n;
    let extent = if along_rows { m } else { n - narrow };
    split(parts, parts, |first, count| {
        let (start, end) = (extent * first / parts, extent * (first + count) / parts);
        // SAFETY: `split` hands out disjoint ranges of the blocks, so of the rows or columns.
        if along_rows {
            let mut c = unsafe { c.rows::<Dyn>(start, end - start) };
            let a = a.rows(start, end - start);
            crate::narrow::gemm_with(&mut c, alpha.clone(), &a, &b, beta.clone(), narrow);
        } else {
            let mut c = unsafe { c.columns(start, end - start) };
            let b = b.columns(start, end - start);
            // Every block of columns reads all of `a`.
            match form_a.filter(|_| Some(std::thread::current().id()) != caller) {
                Some(form_a) => {
                    let a = form_a();
                    c.gemm(
                        alpha.clone(),
                        &unsized_view::<Dyn, _, _, _, _>(&a),
                        &b,
                        beta.clone(),
                    )
                }
                None => c.gemm(alpha.clone(), &a, &b, beta.clone()),
            }
        }
    });
    if narrow > 0 && !along_rows {
        // SAFETY: every block is done; this is the only view of `c`.
        let mut c = unsafe { c.rows::<Dyn>(0, m) };
        crate::narrow::last_columns(&mut c, alpha, &a, &b, beta, narrow);
    }
}

/// `c ← α aᵀ b + β c` (nalgebra's `gemm_tr`): for a vector `b` (`gemv_tr`), the rows of `c`
/// (columns of `a`) split across threads.
#[inline]
pub fn gemm_tr<T, R0, C0, S0, R1, C1, S1, R2, C2, S2>(
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
    let parts = gemm_tr_parts(any_dynamic::<R0, C0, R1, C1, C2>(), a, b);
    if parts <= 1 {
        return crate::dots::gemm_tr(c, alpha, a, b, beta);
    }
    let (m, n) = (a.ncols(), b.ncols());
    assert_eq!(c.shape(), (m, n), "Gemm: dimensions mismatch.");
    let out = Out::new(c);
    if contiguous(&[out.strides.0, a.strides().0, b.strides().0]) {
        gemm_tr_blocks::<U1, _, _, _, _, _, _, _, _, _>(out, alpha, a, b, beta, parts);
    } else {
        gemm_tr_blocks::<Dyn, _, _, _, _, _, _, _, _, _>(out, alpha, a, b, beta, parts);
    }
}

/// The number of blocks [`gemm_tr`] cuts `aᵀ b` into, given whether a size of the product is
/// dynamic: only a vector `b`'s product is split.
pub(crate) fn gemm_tr_parts<T, R1, C1, S1, R2, C2, S2>(
    dynamic: bool,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
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
    let ((k, m), n) = (a.shape(), b.ncols());
    if n == 1 {
        blocks(dynamic, m * k, m)
    } else {
        1
    }
}

fn gemm_tr_blocks<RS, T, R0, C0, R1, C1, S1, R2, C2, S2>(
    c: Out<T, R0, C0>,
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    parts: usize,
) where
    RS: Dim,
    T: ComplexField,
    R0: Dim,
    C0: Dim,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    ShapeConstraint: SameNumberOfColumns<C0, C2> + DimEq<R1, R2>,
{
    let (a, b) = (shared::<RS, _, _, _, _>(a), shared::<RS, _, _, _, _>(b));
    split(a.ncols(), parts, |start, len| {
        // SAFETY: `split` hands out disjoint ranges of the rows.
        let mut c = unsafe { c.rows::<RS>(start, len) };
        crate::dots::gemm_tr::<T, Dyn, C0, _, R1, Dyn, _, R2, C2, _>(
            &mut c,
            alpha.clone(),
            &a.columns(start, len),
            &b,
            beta.clone(),
        );
    });
}

#[cfg(test)]
mod tests {
    use crate::test_matrices::filled;
    use nalgebra::DVector;

    use super::{gemm, gemm_tr, set_threads, threads};

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-12 * scale, "{x} against {y}");
        }
    }

    /// Large enough to be split, with sizes that do not divide evenly, and views with strides.
    #[test]
    fn split_products_equal_nalgebra() {
        set_threads(threads().max(3));
        let (a, x) = (
            filled(1001, 301, 0.3),
            DVector::from_fn(1001, |i, _| (i as f64).cos()),
        );
        let mut y = DVector::from_element(301, 0.5);
        let mut expected = y.clone();
        expected.gemv_tr(2.0, &a, &x, -1.0);
        gemm_tr(&mut y, 2.0, &a, &x, -1.0);
        close(y.as_slice(), expected.as_slice());

        let big = filled(900, 700, 0.7);
        let view = big.view((3, 5), (801, 600));
        let mut y = DVector::zeros(600);
        gemm_tr(&mut y, 1.0, &view, &x.rows(0, 801), 0.0);
        close(y.as_slice(), view.tr_mul(&x.rows(0, 801)).as_slice());

        for (m, k, n) in [
            (1001, 301, 1),
            (301, 1001, 1),
            (700, 10, 300),
            (300, 200, 7),
            (300, 200, 10),
            (6, 3000, 9),
            (40, 300, 1003),
        ] {
            let (a, b, c0) = (filled(m, k, 0.3), filled(k, n, 0.9), filled(m, n, 0.1));
            let (mut c, mut expected) = (c0.clone(), c0.clone());
            expected.gemm(-2.0, &a, &b, 0.5);
            gemm(&mut c, -2.0, &a, &b, 0.5);
            close(c.as_slice(), expected.as_slice());
            if n > 1 {
                // Blocks of rows or columns: each entry computed as in the whole product on
                // one thread (its last few columns by `narrow`'s loops, where they apply).
                let mut whole = c0.clone();
                crate::narrow::gemm(&mut whole, -2.0, &a, &b, 0.5);
                assert_eq!(c, whole);
            }

            let at = a.transpose();
            let mut c = c0.clone();
            gemm_tr(&mut c, -2.0, &at, &b, 0.5);
            close(c.as_slice(), expected.as_slice());
            let mut c = c0.clone();
            gemm(&mut c, -2.0, &at.transpose(), &b, 0.5);
            close(c.as_slice(), expected.as_slice());
        }
    }
}
