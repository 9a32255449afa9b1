//! Second derivatives through the matrix exponential: `#[hessian]` of losses
//! of `a.exp()` against central differences of the gradient and the closed
//! form of `tr e^A`, symmetric, `hvp = H vec(V)`; Matrix2, Matrix3, DMatrix,
//! `f64` and `f32`.

#[macro_use]
mod common;

use common::*;
use matgrad::hessian;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Matrix3, SMatrix};

fn flat<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> DMatrix<f64> {
    DMatrix::from_iterator(R, C, m.iter().copied())
}

/// The Hessian `h` at `x` against central differences of the gradient
/// `grad`, its symmetry, and `hvp(v) = H vec(v)`.
fn agrees(
    what: &str,
    x: &DMatrix<f64>,
    h: &DMatrix<f64>,
    grad: impl Fn(&DMatrix<f64>) -> DMatrix<f64>,
    hvp: impl Fn(&DMatrix<f64>) -> DMatrix<f64>,
) {
    let (r, c) = x.shape();
    let fd = fd_hessian(
        |p| {
            let g = grad(&DMatrix::from_column_slice(r, c, p.as_slice()));
            DVector::from_column_slice(g.as_slice())
        },
        &DVector::from_column_slice(x.as_slice()),
    );
    assert_close(h, &fd, 1e-6, what);
    assert_close(h, &h.transpose(), 1e-10, what);
    let v = dm::<f64>(r, c, 77);
    let hv = h * DVector::from_column_slice(v.as_slice());
    let hv = DMatrix::from_column_slice(r, c, hv.as_slice());
    assert_close(&hvp(&v), &hv, 1e-10, what);
}

#[hessian(a)]
fn trace_exp(a: &DMatrix<f64>) -> f64 {
    a.exp().trace()
}

#[hessian(a)]
fn exp_times(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    (a.exp() * b).norm_squared()
}

#[hessian(a)]
fn exp_two(a: &Matrix2<f64>, w: &Matrix2<f64>) -> f64 {
    a.exp().dot(w) + (a * 0.5).exp().determinant() + (a.exp() * a).trace()
}

#[hessian(a, s)]
fn exp_scaled(a: &DMatrix<f64>, s: f64, b: &DMatrix<f64>) -> f64 {
    ((a * s).exp() * b).sum() + a.transpose().exp().exp().trace() * 0.1
}

#[hessian(a)]
fn exp_f32(a: &Matrix3<f32>, b: &Matrix3<f32>) -> f32 {
    (a.exp() * b).norm_squared()
}

#[hessian(a)]
fn exp_dyn_f32(a: &DMatrix<f32>) -> f32 {
    a.exp().trace()
}

#[test]
fn trace_of_exp_closed_form() {
    // ∇ tr e^A = e^{Aᵀ}, and its derivative along V is L_exp(Aᵀ, Vᵀ).
    let a = dm::<f64>(3, 3, 1);
    let (value, g, h) = trace_exp_hessian(&a);
    same_value("tr e^A", value, trace_exp(&a));
    assert_close(&g, &a.transpose().exp(), 1e-12, "∇ tr e^A");
    for k in 0..9 {
        let v = DMatrix::from_fn(3, 3, |i, j| f64::from(i + 3 * j == k));
        let column = matgrad::expm_frechet(&a.transpose(), &v.transpose());
        let hk = DMatrix::from_column_slice(3, 3, h.column(k).as_slice());
        assert_close(&hk, &column, 1e-12, "column of H tr e^A");
    }
    agrees(
        "tr e^A",
        &a,
        &h,
        |y| trace_exp_hvp(y, &a).1,
        |v| trace_exp_hvp(&a, v).2,
    );
}

#[test]
fn fixed_sizes() {
    let (a, b): (Matrix3<f64>, Matrix3<f64>) = (sm(2), sm(3));
    let (_, _, h) = exp_times_hessian(&a, &b);
    let to3 = |m: &DMatrix<f64>| Matrix3::from_iterator(m.iter().copied());
    agrees(
        "‖e^A B‖² Matrix3",
        &flat(&a),
        &flat(&h),
        |y| flat(&exp_times_hvp(&to3(y), &b, &a).1),
        |v| flat(&exp_times_hvp(&a, &b, &to3(v)).2),
    );

    let (a, w) = (
        Matrix2::new(0.3, -0.8, 0.5, 0.1),
        Matrix2::new(1.0, 0.5, -0.2, 0.7),
    );
    let (_, _, h) = exp_two_hessian(&a, &w);
    let to2 = |m: &DMatrix<f64>| Matrix2::from_iterator(m.iter().copied());
    agrees(
        "e^A, det e^{A/2}, tr(e^A A) Matrix2",
        &flat(&a),
        &flat(&h),
        |y| flat(&exp_two_hvp(&to2(y), &w, &a).1),
        |v| flat(&exp_two_hvp(&a, &w, &to2(v)).2),
    );
}

#[test]
fn dynamic_with_a_scalar_parameter() {
    let (a, s, b) = (dm::<f64>(3, 3, 4), 0.7, dm::<f64>(3, 2, 5));
    let (value, ga, gs, h) = exp_scaled_hessian(&a, s, &b);
    same_value("exp_scaled", value, exp_scaled(&a, s, &b));
    // The Hessian over [vec(a); s], by differences of the stacked gradient.
    let stacked = |p: &DVector<f64>| {
        let a = DMatrix::from_column_slice(3, 3, &p.as_slice()[..9]);
        let (_, ga, gs, _) = exp_scaled_hessian(&a, p[9], &b);
        DVector::from_iterator(10, ga.iter().copied().chain([gs]))
    };
    let point = DVector::from_iterator(10, a.iter().copied().chain([s]));
    assert_close(&h, &fd_hessian(stacked, &point), 1e-6, "exp_scaled");
    assert_close(&h, &h.transpose(), 1e-10, "exp_scaled symmetry");
    fd_gradient_agrees(&a, &ga, |a| exp_scaled(a, s, &b));
    assert!(
        (gs - (exp_scaled(&a, s + 1e-6, &b) - exp_scaled(&a, s - 1e-6, &b)) / 2e-6).abs() < 1e-6
    );
}

#[test]
fn single_precision() {
    let (a, b): (Matrix3<f32>, Matrix3<f32>) = (sm(6), sm(7));
    let (_, g, h) = exp_f32_hessian(&a, &b);
    let (_, g64, h64) = exp_times_hessian(&a.map(f64::from), &b.map(f64::from));
    assert!((g.map(f64::from) - g64).amax() < 1e-4 * g64.amax().max(1.0));
    assert!((h.map(f64::from) - h64).amax() < 1e-4 * h64.amax().max(1.0));

    let a = dm::<f32>(4, 4, 8);
    let (_, g, h) = exp_dyn_f32_hessian(&a);
    let a64 = a.map(f64::from);
    let (_, g64, h64) = trace_exp_hessian(&a64);
    assert!((g.map(f64::from) - &g64).amax() < 1e-5 * g64.amax().max(1.0));
    assert!((h.map(f64::from) - &h64).amax() < 1e-5 * h64.amax().max(1.0));
    agrees(
        "tr e^A 4×4",
        &a64,
        &h64,
        |y| trace_exp_hvp(y, &a64).1,
        |v| trace_exp_hvp(&a64, v).2,
    );
}

/// Finite differences of `f` at `a` against the gradient `g`.
fn fd_gradient_agrees(a: &DMatrix<f64>, g: &DMatrix<f64>, f: impl Fn(&DMatrix<f64>) -> f64) {
    matgrad::check_gradient(f, a, g).assert_within(1e-6);
}
