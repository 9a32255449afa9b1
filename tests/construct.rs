//! Matrices built in the body from parameters and data: `Vector3::new`,
//! `Matrix3::new` (row-major arguments), `SVector::from([..])`,
//! `from_element`, `repeat`, `zeros`, `identity`, `from_diagonal`,
//! `from_diagonal_element`, `from_fn`, `from_column_slice`, writes into them,
//! and `Rotation3::new(v)` (the SO(3) exponential map, at and near θ = 0);
//! against central finite differences, fixed and dynamic sizes, `f64`, `f32`
//! and a generic scalar, with Hessians for a representative subset.

#![allow(dead_code)]

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{
    DMatrix, DVector, Matrix2, Matrix2x3, Matrix3, Rotation3, RowVector3, SVector, Vector2,
    Vector3, Vector4, Vector6,
};
use matgrad::{grad, hessian};

/// Fixed-size vectors and matrices from a parameter's entries and a scalar.
#[grad(x, s)]
fn entries(x: &Vector3<f64>, s: f64) -> f64 {
    let v = Vector2::new(x[0] * s, x[2].sin());
    let w = Vector4::new(x[1], s, 2.0, x[0] * x[1]);
    let m = Matrix3::new(x[0], x[1], x[2], s, 1.0, 0.0, x[2], x[0] * s, 3.0);
    let r = RowVector3::new(s, x[0], x[1] * x[1]);
    let a = Matrix2x3::new(x[0], 0.5, x[1], s, x[2], 1.0);
    let u = SVector::<f64, 3>::from([x[1], s * s, x[0]]);
    let six = Vector6::new(x[0], x[1], x[2], s, s * x[0], 1.0);
    v.norm_squared()
        + w.dot(&w.map(|e| e.tanh()))
        + (m * x).dot(&u)
        + (r * m * x)[0] * 0.1
        + (a * x).sum()
        + six.norm()
        + Matrix2::new(x[0], s, x[1], x[2]).determinant()
}

#[test]
fn new_and_from_array_fixed_f64() {
    let (x, s) = (sm::<f64, 3, 1>(1), 0.7);
    check!(entries(&x, s) => entries_grad[x, s]);
}

/// `Matrix3::new` takes its arguments row by row: the value would differ if
/// they were read column by column (checked against nalgebra's own here).
#[grad(x)]
fn row_major(x: &Vector3<f64>) -> f64 {
    let m = Matrix3::new(x[0], 2.0 * x[1], 3.0 * x[2], 0.0, 1.0, 0.0, 0.0, 0.0, 1.0);
    m[(0, 2)] * 10.0 + m[(2, 0)]
}

#[test]
fn new_is_row_major() {
    let x = Vector3::new(1.0, 2.0, 3.0);
    let (value, g) = row_major_grad(&x);
    assert_eq!(value, 90.0);
    assert_eq!(g, Vector3::new(0.0, 0.0, 30.0));
}

/// Fills and identities of run-time sizes, a hand-written broadcast of a
/// bias, and writes into a zero vector.
#[grad(w, b, s)]
fn sized(w: &DMatrix<f64>, b: &DVector<f64>, s: f64, x: &DMatrix<f64>, k: usize) -> f64 {
    let n = x.nrows();
    let ones = DVector::from_element(n, 1.0);
    let bias = &ones * b.transpose();
    let z = (x * w + bias).map(|v| v.tanh());
    let mut e = DVector::zeros(k + 1);
    e[k] = s * z[(0, 0)];
    let id = DMatrix::identity(w.nrows(), w.nrows()) * s;
    let rep = DVector::repeat(3, s);
    let d = DMatrix::from_diagonal_element(w.nrows(), w.ncols(), s * s);
    z.component_mul(&DMatrix::from_element(n, w.ncols(), s))
        .sum()
        + e.norm_squared()
        + (&id * w).norm_squared()
        + rep.sum() * rep[2]
        + d.dot(w)
}

#[test]
fn sized_constructors_dynamic_f64() {
    let (w, b, s, x) = (dm(3, 2, 1), dv(2, 2), 0.8, dm(4, 3, 3));
    check!(sized(&w, &b, s, &x, 2) => sized_grad[w, b, s]);
}

/// The same in f32 and fixed sizes.
#[grad(w, s)]
fn sized_fixed(w: &Matrix3<f32>, s: f32) -> f32 {
    let ones = Vector3::repeat(1.0);
    let z = Matrix3::from_element(s) + Matrix3::identity() * s + w;
    let mut e = Vector3::zeros();
    e[1] = s * w[(0, 1)];
    let d = Matrix3::from_diagonal(&(w * ones));
    (z * ones).norm_squared()
        + e.norm_squared()
        + d.trace() * s
        + Matrix3::from_diagonal_element(s).dot(w)
}

#[test]
fn sized_constructors_fixed_f32() {
    let (w, s) = (sm::<f32, 3, 3>(4), 0.6_f32);
    check!(sized_fixed(&w, s) => sized_fixed_grad[w, s]);
}

/// An RBF kernel built entry by entry, its log-determinant.
#[grad(x, ell)]
fn rbf_kernel(x: &DVector<f64>, ell: f64, noise: f64) -> f64 {
    let n = x.len();
    let k = DMatrix::from_fn(n, n, |i, j| {
        let d = x[i] - x[j];
        (-(d * d) / (2.0 * ell * ell)).exp() + if i == j { noise } else { 0.0 }
    });
    k.determinant().ln() + k.sum()
}

#[test]
fn from_fn_kernel_dynamic_f64() {
    let (x, ell) = (dv(4, 5), 0.9);
    check!(rbf_kernel(&x, ell, 0.5) => rbf_kernel_grad[x, ell]);
}

/// `from_fn` of fixed size, a vector's, with `_` for the unused index.
#[grad(x)]
fn from_fn_fixed(x: &Vector3<f32>) -> f32 {
    let m = Matrix3::from_fn(|i, j| x[i] * x[j] + (i + j) as f32);
    let v = SVector::<f32, 3>::from_fn(|i, _| x[i] * x[i]);
    (m * v).norm_squared()
}

#[test]
fn from_fn_fixed_f32() {
    let x = sm::<f32, 3, 1>(6);
    check!(from_fn_fixed(&x) => from_fn_fixed_grad[x]);
}

/// Reshaping a parameter's entries.
#[grad(w)]
fn reshaped(w: &DVector<f64>, x: &DVector<f64>) -> f64 {
    let m = DMatrix::from_column_slice(x.len(), 2, w.as_slice());
    let n = DMatrix::from_vec(2, x.len(), w.as_slice().to_vec());
    let v = matgrad::nalgebra::RowDVector::from_vec(m.as_slice().to_vec());
    (m.transpose() * x).norm_squared() + (n * x).sum() + (v * w)[0]
}

#[test]
fn from_column_slice_dynamic_f64() {
    let (w, x) = (dv(6, 7), dv(3, 8));
    check!(reshaped(&w, &x) => reshaped_grad[w]);
}

#[test]
#[should_panic(expected = "Matrix init. error")]
fn from_column_slice_panics_on_a_wrong_count() {
    let (w, x) = (dv(5, 7), dv(3, 8));
    let _ = reshaped_grad(&w, &x);
}

/// A two-layer network's weights cut from one flat vector, as optimisers hand them over:
/// ranges of `as_slice()` (`a..b`, `a..`, `a..=b`) as `from_column_slice`, `from_vec` and a
/// vector's `from_column_slice`.
#[grad(theta)]
fn unpacked(theta: &DVector<f64>, x: &DVector<f64>, y: &DVector<f64>, h: usize) -> f64 {
    let (d, o) = (x.len(), y.len());
    let w1 = DMatrix::from_column_slice(h, d, &theta.as_slice()[0..h * d]);
    let b1 = DVector::from_column_slice(&theta.as_slice()[h * d..=h * d + h - 1]);
    let w2 = DMatrix::from_vec(o, h, theta.as_slice()[h * d + h..].to_vec());
    let a = (w1 * x + b1).map(|v| v.tanh());
    (w2 * a - y).norm_squared()
}

/// A fixed-size matrix from a range of a dynamic vector's entries.
#[grad(p)]
fn fixed_from_range(p: &DVector<f64>, v: &Vector3<f64>) -> f64 {
    let m = Matrix2x3::from_column_slice(&p.as_slice()[1..7]);
    (m * v).norm_squared() * p[0]
}

#[test]
fn ranges_of_a_flat_parameter_vector() {
    let (x, y, h) = (dv(3, 1), dv(2, 2), 4);
    let theta = dv(4 * 3 + 4 + 2 * 4, 3);
    check!(unpacked(&theta, &x, &y, h) => unpacked_grad[theta]);
    let (p, v) = (dv(8, 4), Vector3::new(0.3, -0.2, 0.9));
    check!(fixed_from_range(&p, &v) => fixed_from_range_grad[p]);
}

#[test]
#[should_panic(expected = "Matrix init. error")]
fn a_range_of_the_wrong_length_panics() {
    let (x, y) = (dv(3, 1), dv(2, 2));
    let short = dv(4 * 3 + 4 + 2 * 4 - 1, 3);
    let _ = unpacked_grad(&short, &x, &y, 4);
}

/// Reprojection residual of bundle adjustment: a camera's axis-angle
/// rotation and translation applied to a point, then a pinhole projection.
#[grad(aa, t, p)]
fn reprojection(aa: &Vector3<f64>, t: &Vector3<f64>, p: &Vector3<f64>, obs: &Vector2<f64>) -> f64 {
    let r = Rotation3::new(*aa);
    let q = r * p + t;
    let u = Vector2::new(q.x / q.z, q.y / q.z);
    (u - obs).norm_squared()
}

#[test]
fn rotation_reprojection_f64() {
    let (aa, t, obs) = (
        Vector3::new(0.3, -0.2, 0.5),
        Vector3::new(0.1, 0.2, 4.0),
        Vector2::new(0.1, -0.05),
    );
    let p = Vector3::new(0.4, -0.3, 1.0);
    check!(reprojection(&aa, &t, &p, &obs) => reprojection_grad[aa, t, p]);
}

/// The gradient at the zero rotation and next to it: `dR = [dv]×` at 0.
#[grad(aa)]
fn rotate(aa: &Vector3<f64>, p: &Vector3<f64>, target: &Vector3<f64>) -> f64 {
    let r = Rotation3::from_scaled_axis(*aa);
    (r.matrix() * p - target).norm_squared() + (r.inverse() * p)[0]
}

#[test]
fn rotation_at_and_near_zero() {
    let (p, target) = (Vector3::new(0.4, -0.3, 1.0), Vector3::new(0.1, 0.7, -0.2));
    for aa in [
        Vector3::zeros(),
        Vector3::new(1e-9, -2e-9, 5e-10),
        Vector3::new(0.0, 0.0, 3.0),
    ] {
        let (value, g) = rotate_grad(&aa, &p, &target);
        assert!(g.iter().all(|e| e.is_finite()));
        same_value("rotate", value, rotate(&aa, &p, &target));
        // At θ = 0, R p ≈ p + v × p: the gradient is linear algebra.
        if aa.norm() < 1e-6 {
            let d = p - target;
            let want = 2.0 * p.cross(&d) - p.cross(&Vector3::x());
            assert!((g - want).norm() < 1e-8, "{g} vs {want}");
        }
        fd(
            "rotate",
            |aa: &Vector3<f64>| rotate(aa, &p, &target),
            &aa,
            &g,
        );
    }
}

/// A rotation's Hessian: the tangent of the adjoint, at θ = 0, 1e-9 and
/// away from 0.
#[hessian(aa)]
fn rotated_residual(aa: &Vector3<f64>, p: &Vector3<f64>, target: &Vector3<f64>) -> f64 {
    let r = Rotation3::new(*aa);
    let q = r * p;
    (q - target).norm_squared()
        + (r * r * p).dot(target)
        + r.transform_vector(&q)[0]
        + r.inverse_transform_vector(p)[1]
}

#[test]
fn rotation_hessian_at_and_near_zero() {
    let (p, target) = (Vector3::new(0.4, -0.3, 1.0), Vector3::new(0.1, 0.7, -0.2));
    let dynamic = |v: &DVector<f64>| Vector3::new(v[0], v[1], v[2]);
    for aa in [
        Vector3::zeros(),
        Vector3::new(1e-9, 0.0, -1e-9),
        Vector3::new(0.5, -1.0, 2.0),
    ] {
        let (value, g, h) = rotated_residual_hessian(&aa, &p, &target);
        same_value("rotated", value, rotated_residual(&aa, &p, &target));
        fd(
            "rotated",
            |a: &Vector3<f64>| rotated_residual(a, &p, &target),
            &aa,
            &g,
        );
        let grad = |v: &DVector<f64>| {
            let g = rotated_residual_hessian(&dynamic(v), &p, &target).1;
            DVector::from_column_slice(g.as_slice())
        };
        let at = DVector::from_column_slice(aa.as_slice());
        let h = DMatrix::from_column_slice(3, 3, h.as_slice());
        assert_close(&h, &fd_hessian(grad, &at), 1e-6, "rotation Hessian");
        assert_close(&h, &h.transpose(), 1e-10, "symmetry");
        let v = Vector3::new(0.3, -0.1, 0.2);
        let (_, _, hv) = rotated_residual_hvp(&aa, &p, &target, &v);
        let want = &h * DVector::from_column_slice(v.as_slice());
        assert!((DVector::from_column_slice(hv.as_slice()) - want).amax() < 1e-10);
    }
}

/// Hessians through sized constructors, `from_fn`, entries and reshapes.
#[hessian(x)]
fn built_hessian(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    let n = x.len();
    let k = DMatrix::from_fn(n, n, |i, j| x[i] * x[j] + if i == j { 1.0 } else { 0.0 });
    let fill = DVector::from_element(a.nrows(), x[0] * x[1]);
    let v = Vector3::new(x[0], x[1] * x[2], 1.0);
    let m = DMatrix::from_column_slice(n, 1, x.as_slice());
    let mut z = DVector::zeros(n + 1);
    z[n] = x.sum();
    k.determinant().ln()
        + (a * x + fill).norm_squared()
        + v.norm_squared() * x[1]
        + (m.transpose() * &k * x)[0]
        + z.norm_squared()
        + (DMatrix::identity(n, n) * x[2]).dot(&k)
}

#[test]
fn hessian_through_constructors() {
    let (x, a) = (dv(3, 20), dm(4, 3, 21));
    let (_, g, h) = built_hessian_hessian(&x, &a);
    fd("built", |x: &DVector<f64>| built_hessian(x, &a), &x, &g);
    assert_close(
        &h,
        &fd_hessian(|p| built_hessian_hessian(p, &a).1, &x),
        1e-6,
        "Hessian",
    );
    assert_close(&h, &h.transpose(), 1e-10, "symmetry");
    let v = dv(3, 22);
    let (_, _, hv) = built_hessian_hvp(&x, &a, &v);
    let col = |v: &DVector<f64>| DMatrix::from_column_slice(v.len(), 1, v.as_slice());
    assert_close(&col(&hv), &col(&(&h * &v)), 1e-10, "hvp");
}

/// A generic scalar: literals as `T::one()`, constructors of `T`.
#[grad(aa, w)]
fn generic_built<T: matgrad::nalgebra::RealField + Copy>(aa: &Vector3<T>, w: &DVector<T>) -> T {
    let r = Rotation3::new(*aa);
    let two = T::one() + T::one();
    let v = Vector3::new(w[0], w[1] * two, T::one());
    let k = DMatrix::from_fn(w.len(), w.len(), |i, j| w[i] * w[j]);
    let ones = DVector::from_element(w.len(), T::one());
    (r * v).norm_squared() + (k * ones).dot(w) + DMatrix::<T>::identity(2, 3).sum() * w[2]
}

#[test]
fn generic_scalar_f64_and_f32() {
    let (aa, w) = (sm::<f64, 3, 1>(30), dv::<f64>(3, 31));
    check!(generic_built(&aa, &w) => generic_built_grad[aa, w]);
    let (aa, w) = (sm::<f32, 3, 1>(30), dv::<f32>(3, 31));
    check!(generic_built(&aa, &w) => generic_built_grad[aa, w]);
}

/// A rotation in f32, and a rotation's transpose times a matrix.
#[grad(aa, m)]
fn rotation_f32(aa: &Vector3<f32>, m: &Matrix3<f32>) -> f32 {
    let r = Rotation3::from_scaled_axis(*aa);
    (r.inverse() * m * r).trace() + (r * m).norm_squared()
}

#[test]
fn rotation_fixed_f32() {
    let (aa, m) = (sm::<f32, 3, 1>(32), sm::<f32, 3, 3>(33));
    check!(rotation_f32(&aa, &m) => rotation_f32_grad[aa, m]);
}

/// The Jacobian of a rotated, translated point in the axis-angle (a
/// vector-valued function, as bundle adjustment's residuals), at θ = 0 and
/// away; and of a vector built from entries and reductions.
#[matgrad::jacobian(aa)]
fn rotated_point(aa: &DVector<f64>, p: &Vector3<f64>) -> DVector<f64> {
    let v = Vector3::new(aa[0], aa[1], aa[2]);
    let q = Rotation3::new(v) * p;
    DVector::from_column_slice(q.as_slice()) * aa[3] + DVector::from_element(3, aa.mean())
}

#[test]
fn jacobian_of_a_rotated_point() {
    let p = Vector3::new(0.4, -0.3, 1.0);
    for aa in [
        DVector::from_vec(vec![0.0, 0.0, 0.0, 1.5]),
        DVector::from_vec(vec![0.3, -0.7, 0.2, 0.8]),
    ] {
        let (value, j) = rotated_point_jacobian(&aa, &p);
        assert!((value - rotated_point(&aa, &p)).amax() < 1e-12);
        let mut fd = DMatrix::zeros(3, 4);
        for k in 0..4 {
            let h = 1e-6;
            let (mut plus, mut minus) = (aa.clone(), aa.clone());
            plus[k] += h;
            minus[k] -= h;
            fd.set_column(
                k,
                &((rotated_point(&plus, &p) - rotated_point(&minus, &p)) / (2.0 * h)),
            );
        }
        assert_close(&j, &fd, 1e-8, "Jacobian of a rotated point");
    }
}
