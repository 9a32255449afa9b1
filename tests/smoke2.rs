#![deny(warnings)]
#![deny(clippy::all)]
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2x3, Matrix3, Vector3};

#[grad(a, b)]
pub fn many(a: &DMatrix<f64>, b: &DMatrix<f64>, s: f64) -> f64 {
    let c = a * b.transpose();
    let d = c.component_mul(&c).map(|v| (v * 0.5).tanh() + v.powi(2));
    let e = a.tr_mul(b);
    let f = e.trace() + d.sum() * s - c.norm() / 3.0 + (a.dot(b)).exp().ln();
    f + (b * a.transpose()).trace()
        + c.determinant().abs().sqrt()
        + c.clone().try_inverse().unwrap().trace()
}

#[grad(x, s)]
fn stat(x: Matrix3<f64>, v: &Vector3<f64>, m: &Matrix2x3<f64>, s: f64) -> f64 {
    let y = x * v;
    let z = m * y;
    let q = (x.transpose() * x).component_div(&x.map(|t| t.cos() + 2.0));
    z.norm_squared() * s.sin() + y.dot(v) / s + q.sum() + (s * x).trace().powf(1.5) + s.recip()
}

#[grad]
fn f32fn(x: &DVector<f32>) -> f32 {
    x.map(|v| v.exp()).sum() + x.norm()
}

#[test]
fn runs() {
    let a = DMatrix::from_fn(3, 3, |i, j| {
        0.3 + (i * 3 + j) as f64 * 0.1 + if i == j { 1.0 } else { 0.0 }
    });
    let b = DMatrix::from_fn(3, 3, |i, j| {
        0.2 - (i + 2 * j) as f64 * 0.05 + if i == j { 1.0 } else { 0.0 }
    });
    let (v, ga, gb) = many_grad(&a, &b, 0.7);
    assert_eq!(v, many(&a, &b, 0.7));
    let ca = matgrad::check_gradient(|a: &DMatrix<f64>| many(a, &b, 0.7), &a, &ga);
    ca.assert_within(1e-6);
    let cb = matgrad::check_gradient(|b: &DMatrix<f64>| many(&a, b, 0.7), &b, &gb);
    cb.assert_within(1e-6);
    let x = Matrix3::new(1.0, 0.2, 0.3, 0.1, 1.5, 0.2, 0.0, 0.3, 2.0);
    let vv = Vector3::new(0.3, -0.2, 0.5);
    let m = Matrix2x3::new(1.0, 2.0, 3.0, -1.0, 0.5, 0.2);
    let (_, gx, gs) = stat_grad(x, &vv, &m, 1.3);
    matgrad::check_gradient(|x: &Matrix3<f64>| stat(*x, &vv, &m, 1.3), &x, &gx).assert_within(1e-6);
    matgrad::check_gradient(|s: &f64| stat(x, &vv, &m, *s), &1.3, &gs).assert_within(1e-6);
    let xf = DVector::from_vec(vec![0.1f32, 0.2, -0.3]);
    let (_, g) = f32fn_grad(&xf);
    matgrad::check_gradient(|x: &DVector<f32>| f32fn(x), &xf, &g).assert_within(1e-2);
}
