//! Maps of costly scalar functions (`exp`, `ln`, `tanh`, …) over matrices of dynamic size,
//! their entries split across threads under the `parallel` feature.
//!
//! A `tanh` takes 5-15 ns, as long as 30-90 multiply-adds of a matrix-vector product, so a map
//! of a few hundred entries is worth as much work as a product of 10⁴ multiply-adds: the
//! generated code passes the weight of one entry (in multiply-adds, what `#[grad]` estimates
//! from the closure), and the split is decided on the work, not on the number of entries. Each
//! entry is computed by the same closure whoever computes it, so the result is the same bit for
//! bit on any number of threads.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Dyn, Matrix, OMatrix, Scalar, Storage};

/// How many times more a map's work counts than a product's against the threshold of a split
/// ([`crate::parallel::MIN_WORK`] multiply-adds): a map's ranges need no packing of a factor
/// and no partial results added up, so a map splits from about 4 µs of work (512 `tanh`, at a
/// weight of 33 each). On the 2-core machine, the worker asleep at the start of each batch of
/// 50 maps (`tanh` of entries in [−1, 1]), two threads took 0.88-1.13× one thread's time on
/// 128 and 256 entries, 0.76-0.78× on 512, 0.68-0.71× on 1024, 0.54-0.62× on 2048 and 8192.
const MAP_SCALE: usize = 8;

/// `f.(m)` in `m`'s own buffer, `weight` the multiply-adds one entry of `f` costs about.
///
/// ```
/// # use matgrad::__private::map_costly;
/// # use matgrad::nalgebra::DVector;
/// let m = DVector::from_vec(vec![0.0, 1.0]);
/// assert_eq!(map_costly(m, 64, f64::exp), DVector::from_vec(vec![1.0, 1f64.exp()]));
/// ```
#[inline]
pub fn map_costly<T, R, C, F>(mut m: OMatrix<T, R, C>, weight: usize, f: F) -> OMatrix<T, R, C>
where
    T: Scalar + Copy + Send + Sync,
    R: Dim,
    C: Dim,
    F: Fn(T) -> T + Sync,
    DefaultAllocator: Allocator<R, C>,
{
    match parts::<R, C>(m.len(), weight) {
        1 => m.apply(|x| *x = f(*x)),
        parts => split_in_place(m.as_mut_slice(), parts, &f),
    }
    m
}

/// `f.(a)` into a new matrix, `weight` as for [`map_costly`]: on one thread nalgebra's
/// `a.map(f)`, split a copy of `a` mapped in place.
///
/// ```
/// # use matgrad::__private::map_costly_of;
/// # use matgrad::nalgebra::DVector;
/// let a = DVector::from_vec(vec![0.0, 1.0]);
/// assert_eq!(map_costly_of(&a, 64, f64::exp), a.map(f64::exp));
/// ```
#[inline]
pub fn map_costly_of<T, R, C, S, F>(a: &Matrix<T, R, C, S>, weight: usize, f: F) -> OMatrix<T, R, C>
where
    T: Scalar + Copy + Send + Sync,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    F: Fn(T) -> T + Sync,
    DefaultAllocator: Allocator<R, C>,
{
    match parts::<R, C>(a.len(), weight) {
        1 => a.map(f),
        parts => {
            let mut m = a.clone_owned();
            split_in_place(m.as_mut_slice(), parts, &f);
            m
        }
    }
}

/// The threads a map of `entries` entries of `weight` each is split across.
#[inline]
fn parts<R: Dim, C: Dim>(entries: usize, weight: usize) -> usize {
    let dynamic = R::is::<Dyn>() || C::is::<Dyn>();
    let work = entries.saturating_mul(weight).saturating_mul(MAP_SCALE);
    crate::parallel::blocks(dynamic, work, entries)
}

/// `entries ← f.(entries)`, split across `parts` threads.
fn split_in_place<T: Copy + Send, F: Fn(T) -> T + Sync>(entries: &mut [T], parts: usize, f: &F) {
    let (out, n) = (Entries(entries.as_mut_ptr()), entries.len());
    crate::parallel::split(n, parts, |start, len| {
        // SAFETY: the ranges of a split are disjoint and inside `0..n`, and `entries` is
        // borrowed until the split returns.
        let block = unsafe { std::slice::from_raw_parts_mut(out.at(start), len) };
        block.iter_mut().for_each(|x| *x = f(*x));
    });
}

/// The entries of a matrix, written by threads in disjoint ranges.
struct Entries<T>(*mut T);

// SAFETY: each thread writes its own range of entries (see `split_in_place`).
unsafe impl<T: Send> Sync for Entries<T> {}

impl<T> Entries<T> {
    /// The address of entry `k`.
    ///
    /// # Safety
    /// `k` is inside the matrix.
    unsafe fn at(&self, k: usize) -> *mut T {
        // SAFETY: the caller's contract.
        unsafe { self.0.add(k) }
    }
}
