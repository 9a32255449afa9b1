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
