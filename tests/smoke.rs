use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

/// Least squares.
#[grad(w)]
pub fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.norm_squared()
}

#[test]
fn lsq_matches() {
    let x = DMatrix::from_fn(5, 3, |i, j| (i as f64 + 1.0) * 0.3 - j as f64 * 0.7);
    let y = DVector::from_fn(5, |i, _| i as f64 * 0.5);
    let w = DVector::from_vec(vec![0.1, -0.2, 0.3]);
    let (v, dw) = lsq_grad(&w, &x, &y);
    assert_eq!(v, lsq(&w, &x, &y));
    let expected = 2.0 * x.transpose() * (&x * &w - &y);
    assert!((dw - expected).norm() < 1e-12);
}

#[grad(a, v, s)]
fn mixed(a: &DMatrix<f64>, v: &matgrad::nalgebra::Vector3<f64>, s: &f64) -> f64 {
    (a * v).norm_squared() * *s + (a.transpose() * a * 0.5).trace()
}

#[grad]
fn identity(x: f64) -> f64 {
    x
}

#[test]
fn mixed_static_and_dynamic() {
    use matgrad::nalgebra::{Matrix3, Vector3};
    let a = DMatrix::from_fn(4, 3, |i, j| (i as f64 - j as f64) * 0.3 + 0.1);
    let v = Vector3::new(0.5, -1.0, 2.0);
    let (_, ga, gv, gs) = mixed_grad(&a, &v, &1.5);
    matgrad::check_gradient(|a: &DMatrix<f64>| mixed(a, &v, &1.5), &a, &ga).assert_within(1e-6);
    matgrad::check_gradient(|v: &Vector3<f64>| mixed(&a, v, &1.5), &v, &gv).assert_within(1e-6);
    matgrad::check_gradient(|s: &f64| mixed(&a, &v, s), &1.5, &gs).assert_within(1e-6);
    let _ = Matrix3::<f64>::identity();
    assert_eq!(identity_grad(3.0), (identity(3.0), 1.0));
}
