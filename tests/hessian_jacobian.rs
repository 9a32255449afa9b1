//! `#[hessian]` and `#[jacobian]`: Hessians against finite differences of the
//! gradient and the closed forms of MATH.md, symmetry, `hvp` against `H vec(V)`;
//! Jacobians against finite differences of the function in both layouts;
//! fixed and dynamic sizes, `f64` and `f32`.

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Matrix3, SMatrix, Vector3};
use matgrad::{commutation_matrix, hessian, jacobian, kron, unvec, vec};

fn dyn_of<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> DMatrix<f64> {
    DMatrix::from_iterator(R, C, m.iter().copied())
}

#[hessian(x)]
fn quad_form(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x).trace()
}

#[hessian(x)]
fn log_det(x: &DMatrix<f64>) -> f64 {
    x.determinant().ln()
}

#[test]
fn closed_forms_of_math_md() {
    // tr(XᵀAX): ∇ = (A + Aᵀ)X, H = I ⊗ (A + Aᵀ).
    let (x, a) = (dm(3, 2, 1), dm(3, 3, 2));
    let (value, g, h) = quad_form_hessian(&x, &a);
    same_value("tr(XᵀAX)", value, quad_form(&x, &a));
    assert_close(&g, &((&a + a.transpose()) * &x), 1e-12, "∇ tr(XᵀAX)");
    let expected = kron(&DMatrix::<f64>::identity(2, 2), &(&a + a.transpose()));
    assert_close(&h, &expected, 1e-12, "H tr(XᵀAX)");
    // ln det X: ∇ = X⁻ᵀ, H = −(X⁻¹ ⊗ X⁻ᵀ) K.
    let x = dm_spd(3, 3);
    let (_, g, h) = log_det_hessian(&x);
    let inv = x.clone().try_inverse().unwrap();
    assert_close(&g, &inv.transpose(), 1e-10, "∇ ln det X");
    let expected = -kron(&inv, &inv.transpose()) * commutation_matrix::<f64>(3, 3);
    assert_close(&h, &expected, 1e-10, "H ln det X");
}

#[hessian(w)]
fn logistic(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let z = (x * w).component_mul(y);
    z.map(|v| matgrad::softplus(-v)).sum() + w.norm_squared() * 0.1 + (w.dot(w) + 1.0).ln()
}

#[hessian(a, b)]
fn two_params(a: &DMatrix<f64>, b: &DVector<f64>, s: f64) -> f64 {
    let c = a * b;
    c.map(|v| v.tanh()).dot(&c) * s
        + a.clone().try_inverse().unwrap().trace()
        + (b.norm() * s).exp()
}

#[hessian(m)]
fn structured(m: &Matrix3<f64>, w: &Matrix3<f64>) -> f64 {
    m.pow(3).dot(w) + m.determinant() + m.kronecker(m).sum() * 0.01 + m.norm()
}

#[test]
fn hessians_match_finite_differences_of_the_gradient() {
    let (w, x, y) = (dv(4, 4), dm(6, 4, 5), dv(6, 6));
    let (_, g, h) = logistic_hessian(&w, &x, &y);
    let fd = fd_hessian(|w| logistic_hessian(w, &x, &y).1, &w);
    assert_close(&h, &fd, 1e-6, "logistic");
    assert_close(&h, &h.transpose(), 1e-12, "logistic symmetry");
    fd_gradient_agrees(&w, &g, |w| logistic(w, &x, &y));

    let (a, b, s) = (dm_well(3, 7), dv(3, 8), 0.6);
    let (_, ga, gb, h) = two_params_hessian(&a, &b, s);
    // The full Hessian over [vec(a); b], by differences of the stacked gradient.
    let stacked = |p: &DVector<f64>| {
        let a = DMatrix::from_column_slice(3, 3, &p.as_slice()[..9]);
        let b = DVector::from_column_slice(&p.as_slice()[9..]);
        let (_, ga, gb, _) = two_params_hessian(&a, &b, s);
        DVector::from_iterator(12, ga.iter().chain(gb.iter()).copied())
    };
    let p = DVector::from_iterator(12, a.iter().chain(b.iter()).copied());
    assert_close(&h, &fd_hessian(stacked, &p), 1e-6, "two parameters");
    assert_close(&h, &h.transpose(), 1e-10, "two parameters symmetry");
    assert_eq!((ga.shape(), gb.len()), ((3, 3), 3));

    let (m, wt) = (sm_well::<f64, 3>(9) * 0.3, sm(10));
    let (_, _, h) = structured_hessian(&m, &wt);
    let flat = |p: &DVector<f64>| {
        let m = Matrix3::from_column_slice(p.as_slice());
        DVector::from_column_slice(structured_hessian(&m, &wt).1.as_slice())
    };
    let hd = dyn_of(&h);
    assert_close(
        &hd,
        &fd_hessian(flat, &vec(&m)),
        1e-5,
        "pow, det, kronecker, norm",
    );
}

fn fd_gradient_agrees(x: &DVector<f64>, g: &DVector<f64>, f: impl Fn(&DVector<f64>) -> f64) {
    fd("gradient", |x: &DVector<f64>| f(x), x, g);
}

#[test]
fn hvp_is_the_hessian_times_a_direction() {
    let (w, x, y, v) = (dv(4, 11), dm(6, 4, 12), dv(6, 13), dv(4, 14));
    let (_, _, h) = logistic_hessian(&w, &x, &y);
    let (value, g, hv) = logistic_hvp(&w, &x, &y, &v);
    assert_eq!(value, logistic(&w, &x, &y));
    assert_close(
        &DMatrix::from_column_slice(4, 1, hv.as_slice()),
        &DMatrix::from_column_slice(4, 1, (&h * &v).as_slice()),
        1e-12,
        "hvp",
    );
    assert_close(
        &DMatrix::from_column_slice(4, 1, g.as_slice()),
        &DMatrix::from_column_slice(4, 1, logistic_hessian(&w, &x, &y).1.as_slice()),
        0.0,
        "gradient",
    );
    let (x, a, v) = (dm(3, 2, 15), dm(3, 3, 16), dm(3, 2, 17));
    let (_, _, hv) = quad_form_hvp(&x, &a, &v);
    let (_, _, h) = quad_form_hessian(&x, &a);
    assert_close(&hv, &unvec(&(h * vec(&v)), 3, 2), 1e-12, "hvp of tr(XᵀAX)");
}

#[hessian(x)]
fn small(x: &Vector3<f32>, a: &Matrix3<f32>) -> f32 {
    x.map(|v| v.sin()).norm_squared() + (a * x).dot(x)
}

#[test]
fn fixed_size_f32() {
    let (x, a): (Vector3<f32>, Matrix3<f32>) = (sm(18), sm(19));
    let (_, _, h) = small_hessian(&x, &a);
    // ∂²/∂x² of Σ sin²(xᵢ) + xᵀAx = diag(2 cos(2xᵢ)) + A + Aᵀ.
    let expected = Matrix3::from_diagonal(&x.map(|v| 2.0 * (2.0 * v).cos())) + a + a.transpose();
    assert!((h - expected).amax() < 1e-5, "{h} vs {expected}");
    let (_, _, hv) = small_hvp(&x, &a, &Vector3::new(1.0, 0.0, 0.0));
    assert!((hv - h.column(0)).amax() < 1e-6);
}

#[jacobian(x)]
fn affine(x: &DVector<f64>, a: &DMatrix<f64>) -> DVector<f64> {
    a * x
}

#[jacobian(x, layout = denominator)]
fn affine_denominator(x: &DVector<f64>, a: &DMatrix<f64>) -> DVector<f64> {
    a * x
}

#[jacobian(x, b)]
fn sandwich(x: &DMatrix<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    (a * x * b).map(|v| v.tanh()) + x.transpose() * 0.5
}

#[jacobian(m)]
fn inverse_of(m: &Matrix2<f64>) -> Matrix2<f64> {
    m.try_inverse().unwrap()
}

#[jacobian(x)]
fn scalar_valued(x: &Vector3<f64>) -> f64 {
    x.norm_squared()
}

/// Central differences of `vec(f)`: the numerator-layout Jacobian.
fn fd_jacobian(f: impl Fn(&DVector<f64>) -> DVector<f64>, x: &DVector<f64>) -> DMatrix<f64> {
    let cols: Vec<DVector<f64>> = (0..x.len())
        .map(|k| {
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus[k] += 1e-6;
            minus[k] -= 1e-6;
            (f(&plus) - f(&minus)) / 2e-6
        })
        .collect();
    DMatrix::from_columns(&cols)
}

#[test]
fn jacobians_in_both_layouts() {
    let (x, a) = (dv(3, 20), dm(4, 3, 21));
    let (value, j) = affine_jacobian(&x, &a);
    assert_eq!(value, affine(&x, &a));
    assert_close(&j, &a, 1e-12, "∂(Ax)/∂x = A");
    let (_, jd) = affine_denominator_jacobian(&x, &a);
    assert_close(&jd, &a.transpose(), 1e-12, "denominator layout: Aᵀ");

    let (x, a, b) = (dm(3, 3, 22), dm(3, 3, 23), dm(3, 3, 24));
    let (_, jx, jb) = sandwich_jacobian(&x, &a, &b);
    let fx = |v: &DVector<f64>| {
        vec(&sandwich(
            &DMatrix::from_column_slice(3, 3, v.as_slice()),
            &a,
            &b,
        ))
    };
    assert_close(&jx, &fd_jacobian(fx, &vec(&x)), 1e-7, "J_x");
    let fb = |v: &DVector<f64>| {
        vec(&sandwich(
            &x,
            &a,
            &DMatrix::from_column_slice(3, 3, v.as_slice()),
        ))
    };
    assert_close(&jb, &fd_jacobian(fb, &vec(&b)), 1e-7, "J_b");

    // F = X⁻¹: J = −X⁻ᵀ ⊗ X⁻¹.
    let m: Matrix2<f64> = sm_well(25);
    let (_, j) = inverse_of_jacobian(&m);
    let inv = dyn_of(&m.try_inverse().unwrap());
    assert_close(
        &dyn_of(&j),
        &-kron(&inv.transpose(), &inv),
        1e-12,
        "J of the inverse",
    );

    // A scalar function's Jacobian is the 1×n row ∇ᵀ.
    let x: Vector3<f64> = sm(26);
    let (_, j) = scalar_valued_jacobian(&x);
    assert_close(
        &dyn_of(&j),
        &dyn_of(&(x * 2.0).transpose()),
        1e-12,
        "1×n row",
    );
}

#[jacobian(x, a)]
fn softmaxish(x: &DVector<f32>, a: &DMatrix<f32>) -> DVector<f32> {
    (a * x).map(|v| v.exp()) / (x.norm_squared() + 1.0)
}

#[test]
fn jacobian_f32_dynamic() {
    let (x, a) = (dv::<f32>(3, 27), dm::<f32>(2, 3, 28));
    let (value, jx, ja) = softmaxish_jacobian(&x, &a);
    assert_eq!(value, softmaxish(&x, &a));
    assert_eq!((jx.shape(), ja.shape()), ((2, 3), (2, 6)));
    // Column k of J_x is the derivative along x_k.
    for k in 0..3 {
        let h = 1e-2f32;
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[k] += h;
        minus[k] -= h;
        let fd = (softmaxish(&plus, &a) - softmaxish(&minus, &a)) / (2.0 * h);
        assert!(
            (&fd - jx.column(k)).amax() < 2e-3,
            "column {k}: {fd} vs {}",
            jx.column(k)
        );
    }
}

#[hessian(a)]
fn det4(a: &matgrad::nalgebra::Matrix4<f64>) -> f64 {
    a.determinant()
}

#[hessian(a)]
fn det_dyn(a: &DMatrix<f64>) -> f64 {
    a.determinant()
}

/// `d²(det X)[E, F] = det X (tr(X⁻¹E) tr(X⁻¹F) − tr(X⁻¹E X⁻¹F))`, and as a
/// polynomial exact where `X` is singular: beyond 3×3 through an SVD of `X`,
/// checked at full rank and at ranks n−1 and n−2 against differences of the
/// gradient (the cofactor matrix, a polynomial).
#[test]
fn determinant_beyond_three_by_three_at_any_rank() {
    use matgrad::nalgebra::Matrix4;
    // F diag(1, …, 1, 0, …) G with k ones and invertible F, G: rank k exactly.
    let rank = |k: usize| {
        let d = DVector::from_fn(4, |i, _| if i < k { 1.0 } else { 0.0 });
        dm_well::<f64>(4, 41) * DMatrix::from_diagonal(&d) * dm_well::<f64>(4, 42)
    };
    for (what, x) in [
        ("full rank", dm_well::<f64>(4, 40)),
        ("rank 3", rank(3)),
        ("rank 2", rank(2)),
    ] {
        let (_, g, h) = det_dyn_hessian(&x);
        let numeric = fd_hessian(
            |v| {
                let m = DMatrix::from_column_slice(4, 4, v.as_slice());
                let (_, g, _) = det_dyn_hessian(&m);
                DVector::from_column_slice(g.as_slice())
            },
            &DVector::from_column_slice(x.as_slice()),
        );
        assert_close(&h, &numeric, 1e-8, what);
        assert_close(&h, &h.transpose(), 1e-12, what);
        let fixed = Matrix4::from_iterator(x.iter().copied());
        let (_, gf, hf) = det4_hessian(&fixed);
        assert_close(&dyn_of(&gf), &g, 1e-12, what);
        assert_close(&dyn_of(&hf), &h, 1e-12, what);
        let v = Matrix4::from_iterator(dm::<f64>(4, 4, 45).iter().copied());
        let (_, _, hv) = det4_hvp(&fixed, &v);
        let expected = &h * DVector::from_column_slice(v.as_slice());
        assert_close(
            &dyn_of(&hv),
            &DMatrix::from_column_slice(4, 4, expected.as_slice()),
            1e-12,
            what,
        );
    }
}
