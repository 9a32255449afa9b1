//! What the processor and the scalar type allow: the loops of [`crate::narrow`] and
//! [`crate::columns`] run on `f64` with AVX-512 only.

use std::any::{Any, TypeId};

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
