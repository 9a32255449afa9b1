//! `matgrad::logm`, its Fréchet derivatives `logm_frechet`, `logm_frechet2`,
//! and its first and second derivatives in `#[grad]`, `#[hessian]` and
//! `#[jacobian]` bodies: values against `exp(logm X) = X`, the eigen-based
//! logarithm of symmetric positive definite matrices and closed forms;
//! derivatives against finite differences; fixed and dynamic sizes, `f64`
//! and `f32`.

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix1, Matrix2, Matrix3, SMatrix, Vector3};
use matgrad::{commutation_matrix, grad, hessian, jacobian, kron, logm};

/// `n·I/2 + R` with R in [-1, 1]: not symmetric, eigenvalues with positive real parts.
fn general(n: usize, seed: u32) -> DMatrix<f64> {
    DMatrix::identity(n, n) * (n as f64 / 2.0 + 1.0) + dm::<f64>(n, n, seed)
}

/// `Q diag(λ) Qᵀ` with λ in [0.1, 10] and `Q` orthogonal.
fn spd(n: usize, seed: u32) -> DMatrix<f64> {
    let q = dm::<f64>(n, n, seed).qr().q();
    let lambda = DVector::from_fn(n, |i, _| 10f64.powf(rnd(seed + 1, i, 0)));
    &q * DMatrix::from_diagonal(&lambda) * q.transpose()
}

fn relative(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).amax() / b.amax().max(1.0)
}

fn as_dynamic<const N: usize>(m: &SMatrix<f64, N, N>) -> DMatrix<f64> {
    DMatrix::from_iterator(N, N, m.iter().copied())
}

#[test]
fn exp_of_logm_is_the_matrix_at_sizes_1_to_50() {
    for n in 1..=50 {
        let x = general(n, n as u32);
        let l = logm(&x);
        let err = relative(&l.clone().exp(), &x);
        assert!(err < 1e-12, "n = {n}: exp(logm X) off by {err:e}");
        // A non-symmetric X has a non-symmetric logarithm.
        if n > 1 {
            assert!((&l - l.transpose()).amax() > 1e-3);
        }
    }
}

#[test]
fn symmetric_positive_definite_against_the_eigen_logarithm() {
    for n in 1..=50 {
        let x = spd(n, 100 + n as u32);
        let eig = x.clone().symmetric_eigen();
        let ln = eig.eigenvalues.map(f64::ln);
        let expected =
            &eig.eigenvectors * DMatrix::from_diagonal(&ln) * eig.eigenvectors.transpose();
        let err = relative(&logm(&x), &expected);
        assert!(err < 1e-12, "n = {n}: {err:e}");
    }
}

#[test]
fn fixed_sizes_keep_their_type_and_agree_with_dynamic() {
    fn agree<const N: usize>(x: SMatrix<f64, N, N>) {
        let l: SMatrix<f64, N, N> = logm(&x);
        // (The same algorithm; nalgebra's products round differently by size kind.)
        assert!(relative(&as_dynamic(&l), &logm(&as_dynamic(&x))) < 1e-14);
        assert!(relative(&as_dynamic(&l).exp(), &as_dynamic(&x)) < 1e-13);
    }
    agree(Matrix1::new(3.0));
    agree(Matrix2::new(1.5, 0.4, -0.3, 0.9));
    agree(sm_well::<f64, 3>(1));
    agree(sm_well::<f64, 4>(2));
    agree(sm_well::<f64, 6>(3));
    // A 1×1 matrix is the scalar logarithm.
    assert!((logm(&Matrix1::new(3.0))[0] - 3f64.ln()).abs() < 1e-14);
    assert_eq!(logm(&Matrix3::<f64>::identity()), Matrix3::zeros());
}

#[test]
fn complex_eigenvalues_rotation_and_scaling() {
    // r R(θ) has logarithm ln r I + θ J for |θ| < π, even close to π.
    for (r, theta) in [(2.0f64, 0.5f64), (0.3, -1.2), (5.0, 3.0), (1.0, 3.1)] {
        let (c, s) = (theta.cos(), theta.sin());
        let x = Matrix2::new(c, -s, s, c) * r;
        let expected = Matrix2::new(r.ln(), -theta, theta, r.ln());
        let err = (logm(&x) - expected).amax();
        assert!(err < 1e-12, "r = {r}, θ = {theta}: {err:e}");
    }
    // Next to the negative real axis, θ = π − δ: the condition number is
    // about π/δ, so an error of about ε π/δ is the best to expect (the
    // product form of the square-root iteration gave 9e-5 at δ = 1e-6, and
    // NaN from δ = 1e-8 on).
    for (delta, tol) in [(1e-3, 1e-12), (1e-6, 1e-9), (1e-10, 1e-5)] {
        let theta = std::f64::consts::PI - delta;
        let (c, s) = (theta.cos(), theta.sin());
        let x = Matrix2::new(c, -s, s, c);
        let expected = Matrix2::new(0.0, -theta, theta, 0.0);
        let err = (logm(&x) - expected).amax();
        assert!(err < tol, "δ = {delta}: {err:e}");
    }
    // A rotation block and a real eigenvalue, seen through a similarity:
    // log(S B S⁻¹) = S log(B) S⁻¹.
    let (c, s) = (2.0f64.cos(), 2.0f64.sin());
    let b = Matrix3::new(1.5 * c, -1.5 * s, 0.0, 1.5 * s, 1.5 * c, 0.0, 0.0, 0.0, 0.2);
    let log_b = Matrix3::new(
        1.5f64.ln(),
        -2.0,
        0.0,
        2.0,
        1.5f64.ln(),
        0.0,
        0.0,
        0.0,
        0.2f64.ln(),
    );
    let sim: Matrix3<f64> = sm_well(7);
    let inv = sim.try_inverse().unwrap();
    let x = sim * b * inv;
    assert!((logm(&x) - sim * log_b * inv).amax() < 1e-12);
}

#[test]
fn far_from_identity_and_far_from_normal() {
    // Large and small scales: log(cX) = ln c I + log X.
    let x = general(6, 3);
    for c in [1e-6, 1e6, 1e12] {
        let expected = logm(&x) + DMatrix::identity(6, 6) * f64::ln(c);
        assert!(relative(&logm(&(&x * c)), &expected) < 1e-11, "c = {c}");
    }
    // A Jordan-like block: log [[a, b], [0, a]] = [[ln a, b/a], [0, ln a]].
    let x = Matrix2::new(2.0, 50.0, 0.0, 2.0);
    let expected = Matrix2::new(2f64.ln(), 25.0, 0.0, 2f64.ln());
    assert!((logm(&x) - expected).amax() < 1e-11);
}

#[test]
fn outside_the_domain_is_nan() {
    let all_nan = |m: &DMatrix<f64>| m.iter().all(|v| v.is_nan());
    // A negative eigenvalue, plainly and through a similarity.
    assert!(logm(&Matrix2::new(-1.0, 0.0, 0.0, 2.0_f64))
        .iter()
        .all(|v| v.is_nan()));
    let s = general(3, 9);
    let x = &s
        * DMatrix::from_diagonal(&DVector::from_vec(vec![-0.5, 1.0, 2.0]))
        * s.clone().try_inverse().unwrap();
    assert!(all_nan(&logm(&x)));
    // −I (a double eigenvalue at −1) and a singular matrix (0 is on the closed axis).
    assert!(all_nan(&logm(&(-DMatrix::<f64>::identity(4, 4)))));
    assert!(logm(&Matrix2::new(1.0, 2.0, 2.0, 4.0_f64))
        .iter()
        .all(|v| v.is_nan()));
    // The derivatives too.
    let e = DMatrix::identity(3, 3);
    assert!(all_nan(&matgrad::logm_frechet(&x, &e)));
    assert!(all_nan(&matgrad::logm_frechet2(&x, &e, &e)));
    // f32 like f64.
    assert!(logm(&Matrix2::new(-1.0f32, 0.0, 0.0, 2.0))
        .iter()
        .all(|v| v.is_nan()));
}

#[test]
fn single_precision() {
    let x: Matrix3<f32> = sm_well(11);
    let x64 = x.map(f64::from);
    // (The 2^s square roots multiply the rounding error of f32 by about 2^s:
    // here s = 3 or 4, an error of a few 1e-6 on entries near 1.)
    let err = (logm(&x).map(f64::from) - logm(&x64)).amax();
    assert!(err < 1e-5, "{err:e}");
    let d = dm_well::<f32>(7, 12);
    let err = (logm(&d).map(f64::from) - logm(&d.map(f64::from))).amax();
    assert!(err < 1e-5, "{err:e}");
}

#[test]
fn frechet_derivatives_against_differences() {
    for n in [1, 2, 3, 5, 8] {
        let x = general(n, 20 + n as u32);
        let (e, f) = (dm::<f64>(n, n, 40), dm::<f64>(n, n, 41));
        let h = 1e-5;
        let fd = (logm(&(&x + &e * h)) - logm(&(&x - &e * h))) / (2.0 * h);
        let l = matgrad::logm_frechet(&x, &e);
        assert!(
            relative(&l, &fd) < 1e-8,
            "n = {n}: L_log {:e}",
            relative(&l, &fd)
        );
        // It inverts L_exp at log X.
        assert!(relative(&matgrad::expm_frechet(&logm(&x), &l), &e) < 1e-11);
        // The second derivative: differences of the first, symmetric in E, F.
        let fd2 = (matgrad::logm_frechet(&(&x + &f * h), &e)
            - matgrad::logm_frechet(&(&x - &f * h), &e))
            / (2.0 * h);
        let l2 = matgrad::logm_frechet2(&x, &e, &f);
        assert!(
            relative(&l2, &fd2) < 1e-8,
            "n = {n}: L²_log {:e}",
            relative(&l2, &fd2)
        );
        assert!(relative(&matgrad::logm_frechet2(&x, &f, &e), &l2) < 1e-12);
        // The same for the exponential.
        let a = dm::<f64>(n, n, 60 + n as u32);
        let fd2 = (matgrad::expm_frechet(&(&a + &f * h), &e)
            - matgrad::expm_frechet(&(&a - &f * h), &e))
            / (2.0 * h);
        let l2 = matgrad::expm_frechet2(&a, &e, &f);
        assert!(
            relative(&l2, &fd2) < 1e-8,
            "n = {n}: L²_exp {:e}",
            relative(&l2, &fd2)
        );
        assert!(relative(&matgrad::expm_frechet2(&a, &f, &e), &l2) < 1e-12);
    }
}

#[test]
fn frechet_derivative_is_the_corner_of_the_block_logarithm() {
    // log([[X, E], [0, X]]) has L_log(X, E) in its top-right block.
    let x = general(3, 70);
    let e = dm::<f64>(3, 3, 71);
    let mut block = DMatrix::zeros(6, 6);
    block.view_mut((0, 0), (3, 3)).copy_from(&x);
    block.view_mut((3, 3), (3, 3)).copy_from(&x);
    block.view_mut((0, 3), (3, 3)).copy_from(&e);
    let corner = logm(&block).view((0, 3), (3, 3)).into_owned();
    assert!(relative(&matgrad::logm_frechet(&x, &e), &corner) < 1e-12);
}

// ---------------------------------------------------------------------------
// In derived functions.

#[grad(x)]
fn trace_log(x: &DMatrix<f64>) -> f64 {
    matgrad::logm(x).trace()
}

#[grad(x)]
fn log_norm(x: &Matrix3<f64>) -> f64 {
    logm(x).norm_squared()
}

#[grad(x, b)]
fn log_times(x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (logm(x) * b).sum()
}

#[grad(x)]
fn log_f32(x: &Matrix3<f32>, w: &Matrix3<f32>) -> f32 {
    (matgrad::logm(&(x * x.transpose())) * w).trace() + logm(x).norm_squared()
}

#[grad(x)]
fn log_dyn_f32(x: &DMatrix<f32>) -> f32 {
    logm(x).norm_squared()
}

#[test]
fn gradients_against_finite_differences() {
    // ∇ tr(log X) = X⁻ᵀ (tr log X = ln det X).
    let x = general(4, 1);
    let (value, g) = trace_log_grad(&x);
    same_value("tr log X", value, x.determinant().ln());
    assert_close(
        &g,
        &x.clone().try_inverse().unwrap().transpose(),
        1e-12,
        "X⁻ᵀ",
    );
    check!(trace_log(&x) => trace_log_grad[x]);

    let x: Matrix3<f64> = sm_well(2);
    check!(log_norm(&x) => log_norm_grad[x]);
    let (x, b) = (general(5, 3), dm(5, 2, 4));
    check!(log_times(&x, &b) => log_times_grad[x, b]);

    let (x, w): (Matrix3<f32>, Matrix3<f32>) = (sm_well(5), sm(6));
    check!(log_f32(&x, &w) => log_f32_grad[x]);
    let x = dm_well::<f32>(4, 7);
    check!(log_dyn_f32(&x) => log_dyn_f32_grad[x]);
}

#[hessian(x)]
fn trace_log_h(x: &DMatrix<f64>) -> f64 {
    logm(x).trace()
}

#[hessian(x)]
fn log_norm_h(x: &Matrix2<f64>) -> f64 {
    matgrad::logm(x).norm_squared()
}

#[hessian(x)]
fn log_times_h(x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (logm(x) * b).sum() + logm(&(x * x)).norm_squared() * 0.1
}

#[hessian(x)]
fn log_fixed3(x: &Matrix3<f64>, w: &Vector3<f64>) -> f64 {
    (logm(x) * w).norm_squared() + logm(&x.transpose()).exp().trace()
}

#[hessian(x)]
fn log_h_f32(x: &Matrix3<f32>) -> f32 {
    logm(x).norm_squared()
}

#[hessian(x)]
fn log_h_f64(x: &Matrix3<f64>) -> f64 {
    logm(x).norm_squared()
}

/// The Hessian of `f` at `x` against central differences of its gradient
/// (`grad`, read off `<name>_hvp`, which costs one Hessian column rather than
/// all), its symmetry, and `hvp = H vec(v)`.
fn hessian_agrees(
    what: &str,
    x: &DMatrix<f64>,
    h: &DMatrix<f64>,
    grad: impl Fn(&DMatrix<f64>) -> DMatrix<f64>,
    hvp: impl Fn(&DMatrix<f64>) -> DMatrix<f64>,
) {
    let (r, c) = x.shape();
    let flat = DVector::from_column_slice(x.as_slice());
    let fd = fd_hessian(
        |p| {
            DVector::from_column_slice(
                grad(&DMatrix::from_column_slice(r, c, p.as_slice())).as_slice(),
            )
        },
        &flat,
    );
    assert_close(h, &fd, 1e-6, what);
    assert_close(h, &h.transpose(), 1e-10, what);
    let v = dm::<f64>(r, c, 99);
    let hv = h * DVector::from_column_slice(v.as_slice());
    assert_close(
        &DMatrix::from_column_slice(r, c, hvp(&v).as_slice()),
        &DMatrix::from_column_slice(r, c, hv.as_slice()),
        1e-10,
        what,
    );
}

#[test]
fn hessians_against_differences_of_the_gradient() {
    // tr(log X): H = −(X⁻¹ ⊗ X⁻ᵀ) K, as for ln det X.
    let x = general(3, 30);
    let (_, g, h) = trace_log_h_hessian(&x);
    let inv = x.clone().try_inverse().unwrap();
    assert_close(&g, &inv.transpose(), 1e-12, "∇ tr log X");
    let expected = -kron(&inv, &inv.transpose()) * commutation_matrix::<f64>(3, 3);
    assert_close(&h, &expected, 1e-10, "H tr log X");
    hessian_agrees(
        "tr log X",
        &x,
        &h,
        |y| trace_log_h_hvp(y, &x).1,
        |v| trace_log_h_hvp(&x, v).2,
    );

    let x = Matrix2::new(1.5, 0.3, -0.4, 0.8);
    let (_, _, h) = log_norm_h_hessian(&x);
    let to2 = |m: &DMatrix<f64>| Matrix2::from_iterator(m.iter().copied());
    hessian_agrees(
        "‖log X‖² Matrix2",
        &as_dynamic(&x),
        &DMatrix::from_iterator(4, 4, h.iter().copied()),
        |y| as_dynamic(&log_norm_h_hvp(&to2(y), &x).1),
        |v| as_dynamic(&log_norm_h_hvp(&x, &to2(v)).2),
    );

    let (x, b) = (general(4, 31), dm::<f64>(4, 3, 32));
    let (_, _, h) = log_times_h_hessian(&x, &b);
    hessian_agrees(
        "(log X) B",
        &x,
        &h,
        |y| log_times_h_hvp(y, &b, &x).1,
        |v| log_times_h_hvp(&x, &b, v).2,
    );

    let (x, w): (Matrix3<f64>, Vector3<f64>) = (sm_well(33), sm(34));
    let (_, _, h) = log_fixed3_hessian(&x, &w);
    let to3 = |m: &DMatrix<f64>| Matrix3::from_iterator(m.iter().copied());
    hessian_agrees(
        "‖log(X) w‖² + tr exp(log Xᵀ)",
        &as_dynamic(&x),
        &DMatrix::from_iterator(9, 9, h.iter().copied()),
        |y| as_dynamic(&log_fixed3_hvp(&to3(y), &w, &x).1),
        |v| as_dynamic(&log_fixed3_hvp(&x, &w, &to3(v)).2),
    );
}

#[test]
fn hessian_in_single_precision() {
    let x: Matrix3<f32> = sm_well(35);
    let (_, g, h) = log_h_f32_hessian(&x);
    let (_, g64, h64) = log_h_f64_hessian(&x.map(f64::from));
    assert!((g.map(f64::from) - g64).amax() < 1e-4 * g64.amax().max(1.0));
    assert!((h.map(f64::from) - h64).amax() < 1e-4 * h64.amax().max(1.0));
    let to3 = |m: &DMatrix<f64>| Matrix3::from_iterator(m.iter().copied());
    hessian_agrees(
        "‖log X‖² (the f64 twin)",
        &as_dynamic(&x.map(f64::from)),
        &DMatrix::from_iterator(9, 9, h64.iter().copied()),
        |y| as_dynamic(&log_h_f64_hvp(&to3(y), &to3(y)).1),
        |v| as_dynamic(&log_h_f64_hvp(&x.map(f64::from), &to3(v)).2),
    );
}

#[jacobian(x)]
fn log_of(x: &Matrix2<f64>) -> Matrix2<f64> {
    matgrad::logm(x)
}

#[test]
fn jacobian_of_the_logarithm() {
    let x = Matrix2::new(1.5, 0.3, -0.4, 0.8);
    let (value, j) = log_of_jacobian(&x);
    assert_eq!(value, logm(&x));
    for k in 0..4 {
        let e = Matrix2::from_fn(|i, l| f64::from(i + 2 * l == k));
        let column = matgrad::logm_frechet(&x, &e);
        let h = 1e-6;
        let fd = (logm(&(x + e * h)) - logm(&(x - e * h))) / (2.0 * h);
        for i in 0..4 {
            assert!((j[(i, k)] - column[i]).abs() < 1e-12);
            assert!((j[(i, k)] - fd[i]).abs() < 1e-8);
        }
    }
}
