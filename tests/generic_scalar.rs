//! Losses generic over the scalar type, written once and differentiated for
//! `f32` and `f64`; literals as `T::from_f64(…).unwrap()`, `nalgebra::convert`,
//! `T::one()` and `T::zero()`.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{self, DMatrix, DVector, Matrix3, RealField};

#[grad(w)]
fn lsq<T: RealField + Copy>(w: &DVector<T>, x: &DMatrix<T>, y: &DVector<T>) -> T {
    let r = x * w - y;
    r.norm_squared() * T::from_f64(0.5).unwrap() + w.norm_squared() * nalgebra::convert(1e-2)
}

#[grad(a, s)]
fn mixed<T>(a: &Matrix3<T>, s: T) -> T
where
    T: RealField + Copy,
{
    let b = a.map(|v| (v * T::from_f64(0.5).unwrap()).tanh() + T::one()) * s;
    b.trace() + a.determinant().abs().sqrt() + (s + T::zero()).exp()
        - a.norm() / T::from_f64(3.0).unwrap()
}

#[test]
fn least_squares_in_f64_and_f32() {
    let (w, x, y) = (dv::<f64>(3, 1), dm::<f64>(5, 3, 2), dv::<f64>(5, 3));
    check!(lsq(&w, &x, &y) => lsq_grad[w]);
    let (w, x, y) = (dv::<f32>(3, 1), dm::<f32>(5, 3, 2), dv::<f32>(5, 3));
    check!(lsq(&w, &x, &y) => lsq_grad[w]);
}

#[test]
fn static_sizes_in_f64_and_f32() {
    let (a, s) = (sm_well::<f64, 3>(4), 0.7);
    check!(mixed(&a, s) => mixed_grad[a, s]);
    let (a, s) = (sm_well::<f32, 3>(4), 0.7f32);
    check!(mixed(&a, s) => mixed_grad[a, s]);
}
