//! Numerical edge cases: the generated function behaves as the user's own code
//! on the same input — a singular matrix under `unwrap()`/`expect()` panics with
//! the same message, NaN and infinities propagate without a panic in matgrad's
//! code.

use std::panic::{catch_unwind, AssertUnwindSafe};

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3};

#[grad(a)]
fn small_unwrap(a: &Matrix3<f64>) -> f64 {
    a.try_inverse().unwrap().trace()
}

#[grad(a)]
fn small_expect(a: &Matrix3<f64>) -> f64 {
    a.try_inverse()
        .expect("covariance must be invertible")
        .sum()
}

#[grad(a)]
fn large_unwrap(a: &DMatrix<f64>) -> f64 {
    a.clone().try_inverse().unwrap().trace()
}

#[grad(a)]
fn large_expect(a: &DMatrix<f64>) -> f64 {
    (a.clone()
        .try_inverse()
        .expect("covariance must be invertible")
        * a)
        .norm()
}

/// The panic message of `f`, or `None` if it returned.
fn panic_message(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
}

#[test]
fn singular_inverse_panics_like_the_plain_function() {
    let singular3 = Matrix3::new(1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0, 1.0, 1.0);
    let singular5 = DMatrix::from_fn(5, 5, |i, j| if j == 4 { 0.0 } else { (i * 5 + j) as f64 });
    let cases: Vec<(Option<String>, Option<String>)> = vec![
        (
            panic_message(|| {
                let _ = small_unwrap(&singular3);
            }),
            panic_message(|| {
                let _ = small_unwrap_grad(&singular3);
            }),
        ),
        (
            panic_message(|| {
                let _ = small_expect(&singular3);
            }),
            panic_message(|| {
                let _ = small_expect_grad(&singular3);
            }),
        ),
        (
            panic_message(|| {
                let _ = large_unwrap(&singular5);
            }),
            panic_message(|| {
                let _ = large_unwrap_grad(&singular5);
            }),
        ),
        (
            panic_message(|| {
                let _ = large_expect(&singular5);
            }),
            panic_message(|| {
                let _ = large_expect_grad(&singular5);
            }),
        ),
    ];
    for (plain, generated) in cases {
        assert!(plain.is_some(), "the plain function panics");
        assert_eq!(plain, generated);
    }
}

#[grad(w)]
fn smooth(w: &DVector<f64>, x: &DMatrix<f64>) -> f64 {
    let r = x * w;
    r.map(|v| v.tanh() + matgrad::softplus(v)).sum() + w.norm() + matgrad::log_sum_exp(&r)
}

#[grad(a)]
fn logdet(a: &DMatrix<f64>) -> f64 {
    a.determinant().ln() + a.clone().try_inverse().unwrap().trace()
}

#[test]
fn nan_and_infinity_propagate_without_panicking() {
    let x = DMatrix::from_fn(4, 3, |i, j| (i + 2 * j) as f64 * 0.1);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let w = DVector::from_vec(vec![0.5, bad, -0.25]);
        let (value, grad) = smooth_grad(&w, &x);
        let plain = smooth(&w, &x);
        assert!(
            value.is_nan() == plain.is_nan() && (value.is_nan() || value == plain),
            "{value} vs {plain}"
        );
        assert!(grad.iter().any(|g| !g.is_finite()), "{grad}");
    }
    let mut a = DMatrix::<f64>::identity(4, 4) * 2.0;
    a[(1, 2)] = f64::NAN;
    let (value, grad) = logdet_grad(&a);
    assert!(value.is_nan() && logdet(&a).is_nan());
    assert!(grad.iter().any(|g| g.is_nan()));
}
