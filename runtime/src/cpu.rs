//! What the processor and the scalar type allow: the loops of [`crate::narrow`],
//! [`crate::columns`] and [`crate::dots`] run on `f64` with AVX-512 only, and write new matrices
//! without filling them first.

use std::any::{Any, TypeId};
use std::mem::MaybeUninit;

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, RawStorageMut, Scalar};

/// Whether `T` is `f64`.
pub(crate) fn is_f64<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f64>()
}

/// `x` as the `f64` it is (checked by [`is_f64`] first).
pub(crate) fn as_f64<T: 'static>(x: &T) -> f64 {
    *(x as &dyn Any)
        .downcast_ref::<f64>()
        .expect("checked to be f64")
}

/// Whether the processor has AVX-512 (the standard library caches the answer).
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// A new `rows × cols` matrix, not filled first: `write` is handed a pointer to its first entry
/// and its strides (between rows, between columns), and writes every entry as an `f64`.
///
/// # Safety
/// `T` is `f64`, and `write` writes every entry.
pub(crate) unsafe fn written<T, R, C>(
    rows: R,
    cols: C,
    write: impl FnOnce(*mut f64, (usize, usize)),
) -> OMatrix<T, R, C>
where
    T: Scalar,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    let mut out: Matrix<MaybeUninit<T>, R, C, _> = Matrix::uninit(rows, cols);
    let strides = RawStorage::strides(&out.data);
    let strides = (strides.0.value(), strides.1.value());
    write(out.data.ptr_mut() as *mut f64, strides);
    // SAFETY: `write` wrote every entry (the caller's promise).
    unsafe { out.assume_init() }
}
