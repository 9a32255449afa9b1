//! The rest of the table of differentials against central finite differences:
//! `kronecker`, matrix `pow`, the matrix exponential, `cross`, the
//! log-determinant (also where `det` overflows), the determinant at singular
//! matrices, and the stable helpers `sigmoid`, `softplus`, `relu`,
//! `log_sum_exp`.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Matrix2x3, Matrix3, Matrix4, SMatrix, Vector3};

mod kronecker {
    use super::*;

    #[grad(a, b)]
    fn d64(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        a.kronecker(b).dot(w) + a.kronecker(b).norm_squared()
    }

    #[grad(a, b)]
    fn d32(a: DMatrix<f32>, b: &DMatrix<f32>, w: &DMatrix<f32>) -> f32 {
        a.kronecker(b).component_mul(w).sum()
    }

    #[grad(a, b)]
    fn s64(a: &Matrix2<f64>, b: Matrix2x3<f64>, w: &SMatrix<f64, 4, 6>) -> f64 {
        let k = a.kronecker(&b);
        k.dot(w) + (k.transpose() * k).trace()
    }

    #[grad(a, b)]
    fn s32(a: &Matrix2<f32>, b: &Matrix2x3<f32>, w: &SMatrix<f32, 4, 6>) -> f32 {
        a.kronecker(b).dot(w)
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, w) = (dm(2, 3, 1), dm(3, 2, 2), dm(6, 6, 3));
        check!(d64(&a, &b, &w) => d64_grad[a, b]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, b, w) = (dm(2, 3, 4), dm(3, 2, 5), dm(6, 6, 6));
        check!(d32(a.clone(), &b, &w) => d32_grad[a, b]);
    }

    #[test]
    fn static_f64() {
        let (a, b, w) = (sm(7), sm(8), sm(9));
        check!(s64(&a, b, &w) => s64_grad[a, b]);
    }

    #[test]
    fn static_f32() {
        let (a, b, w) = (sm(10), sm(11), sm(12));
        check!(s32(&a, &b, &w) => s32_grad[a, b]);
    }
}

mod matrix_pow {
    use super::*;

    #[grad(a)]
    fn d64(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        a.pow(3).dot(w) + a.pow(1).sum() + a.pow(0).trace()
    }

    #[grad(a)]
    fn d32(a: &DMatrix<f32>, w: &DMatrix<f32>) -> f32 {
        a.pow(4).dot(w)
    }

    #[grad(a)]
    fn s64(a: Matrix3<f64>, w: &Matrix3<f64>) -> f64 {
        a.pow(2).dot(w) + a.pow(5).trace()
    }

    #[grad(a)]
    fn s32(a: &Matrix3<f32>) -> f32 {
        a.pow(3).norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (a, w) = (dm(4, 4, 13), dm(4, 4, 14));
        check!(d64(&a, &w) => d64_grad[a]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, w) = (dm(3, 3, 15), dm(3, 3, 16));
        check!(d32(&a, &w) => d32_grad[a]);
    }

    #[test]
    fn static_f64() {
        let (a, w) = (sm(17), sm(18));
        check!(s64(a, &w) => s64_grad[a]);
    }

    #[test]
    fn static_f32() {
        let a = sm(19);
        check!(s32(&a) => s32_grad[a]);
    }
}

mod matrix_exp {
    use super::*;

    #[grad(a)]
    fn d64(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
        a.exp().dot(w)
    }

    #[grad(a)]
    fn d32(a: &DMatrix<f32>, w: &DMatrix<f32>) -> f32 {
        a.exp().dot(w)
    }

    #[grad(a, s)]
    fn s64(a: &Matrix3<f64>, s: f64, w: &Matrix3<f64>) -> f64 {
        (a * s).exp().dot(w) + a.exp().trace()
    }

    #[grad(a)]
    fn s32(a: &Matrix2<f32>) -> f32 {
        a.exp().norm_squared()
    }

    #[test]
    fn dynamic_f64() {
        let (a, w) = (dm(4, 4, 20), dm(4, 4, 21));
        check!(d64(&a, &w) => d64_grad[a]);
    }

    #[test]
    fn large_norm_needs_squarings() {
        // ‖A‖₁ ≈ 30: the Fréchet derivative is scaled and squared six times.
        let (a, w) = (dm(3, 3, 22) * 3.0, dm(3, 3, 23));
        check!(d64(&a, &w) => d64_grad[a]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, w) = (dm(3, 3, 24), dm(3, 3, 25));
        check!(d32(&a, &w) => d32_grad[a]);
    }

    #[test]
    fn static_f64() {
        let (a, s, w) = (sm(26), 0.7, sm(27));
        check!(s64(&a, s, &w) => s64_grad[a, s]);
    }

    #[test]
    fn static_f32() {
        let a = sm(28);
        check!(s32(&a) => s32_grad[a]);
    }
}

mod cross {
    use super::*;

    #[grad(a, b)]
    fn s64(a: &Vector3<f64>, b: Vector3<f64>, w: &Vector3<f64>) -> f64 {
        a.cross(&b).dot(w) + a.cross(&b).norm_squared()
    }

    #[grad(a, b)]
    fn s32(a: &Vector3<f32>, b: &Vector3<f32>) -> f32 {
        a.cross(b).sum()
    }

    #[grad(a, b)]
    fn d64(a: &DVector<f64>, b: &DVector<f64>, w: &DVector<f64>) -> f64 {
        a.cross(b).dot(w)
    }

    #[test]
    fn static_f64() {
        let (a, b, w) = (sm(29), sm(30), sm(31));
        check!(s64(&a, b, &w) => s64_grad[a, b]);
    }

    #[test]
    fn static_f32() {
        let (a, b) = (sm(32), sm(33));
        check!(s32(&a, &b) => s32_grad[a, b]);
    }

    #[test]
    fn dynamic_f64() {
        let (a, b, w) = (dv(3, 34), dv(3, 35), dv(3, 36));
        check!(d64(&a, &b, &w) => d64_grad[a, b]);
    }
}

mod log_determinant {
    use super::*;

    /// `ln det` with an inverse of the same matrix: one factorisation.
    #[grad(a)]
    fn d64(a: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
        a.determinant().ln() + (a.clone().try_inverse().unwrap() * s).trace()
    }

    #[grad(a)]
    fn d32(a: &DMatrix<f32>) -> f32 {
        matgrad::logdet(a)
    }

    #[grad(a)]
    fn s64(a: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
        a.determinant().ln() + (a.try_inverse().unwrap() * s).trace()
    }

    #[grad(a)]
    fn s64_lu(a: Matrix4<f64>) -> f64 {
        matgrad::logdet(&a) * 2.0 + a.determinant()
    }

    #[grad(a)]
    fn s32(a: &Matrix3<f32>) -> f32 {
        a.determinant().ln()
    }

    #[test]
    fn dynamic_f64() {
        let (a, s) = (dm_spd(5, 37), dm_spd(5, 38));
        check!(d64(&a, &s) => d64_grad[a]);
    }

    #[test]
    fn dynamic_f32() {
        let a = dm_spd(4, 39);
        check!(d32(&a) => d32_grad[a]);
    }

    #[test]
    fn static_f64() {
        let (a, s) = (sm_spd(40), sm_spd(41));
        check!(s64(&a, &s) => s64_grad[a]);
        let b = sm_spd(42);
        check!(s64_lu(b) => s64_lu_grad[b]);
    }

    #[test]
    fn static_f32() {
        let a = sm_spd(43);
        check!(s32(&a) => s32_grad[a]);
    }

    #[grad(a)]
    fn big(a: &DMatrix<f64>) -> f64 {
        a.determinant().ln()
    }

    /// det(A) overflows f64 for this 200×200 matrix; its logarithm and the
    /// gradient `A⁻ᵀ` do not.
    #[test]
    fn finite_where_the_determinant_overflows() {
        let a = dm_spd::<f64>(200, 44) * 1e3;
        assert!(a.determinant().is_infinite());
        let (value, grad) = big_grad(&a);
        // The plain function overflows; the generated one does not form det(A).
        assert!(big(&a).is_infinite() && value.is_finite());
        let lu = a.clone().lu();
        let expected: f64 = lu.u().diagonal().iter().map(|u| u.abs().ln()).sum();
        assert!(
            (value - expected).abs() < 1e-9 * expected.abs(),
            "{value} vs {expected}"
        );
        let inv_t = a.try_inverse().unwrap().transpose();
        assert!((&grad - &inv_t).norm() < 1e-10 * inv_t.norm());
    }
}

mod determinant_at_singular_matrices {
    use super::*;

    #[grad(a)]
    fn s2(a: &Matrix2<f64>) -> f64 {
        a.determinant()
    }

    #[grad(a)]
    fn s3(a: &Matrix3<f64>) -> f64 {
        a.determinant()
    }

    #[grad(a)]
    fn s4(a: &Matrix4<f64>) -> f64 {
        a.determinant()
    }

    #[grad(a)]
    fn d(a: &DMatrix<f64>) -> f64 {
        a.determinant() * 3.0
    }

    /// A rank `n − 1` matrix: `u vᵀ`-free, its last column the sum of the others.
    fn rank_deficient(n: usize, seed: u32) -> DMatrix<f64> {
        let mut a: DMatrix<f64> = dm(n, n, seed);
        let last = a.columns(0, n - 1).column_sum();
        a.set_column(n - 1, &last);
        a
    }

    /// The cofactor matrix by its definition.
    fn cofactors(a: &DMatrix<f64>) -> DMatrix<f64> {
        let n = a.nrows();
        DMatrix::from_fn(n, n, |i, j| {
            let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
            sign * a.clone().remove_row(i).remove_column(j).determinant()
        })
    }

    fn assert_cofactors(grad: &DMatrix<f64>, a: &DMatrix<f64>, scale: f64) {
        assert!(grad.iter().all(|g| g.is_finite()), "{grad}");
        let expected = cofactors(a) * scale;
        assert!(
            (grad - &expected).norm() < 1e-10 * (1.0 + expected.norm()),
            "{grad} vs {expected}"
        );
    }

    #[test]
    fn closed_forms() {
        let a2 = Matrix2::from_iterator(rank_deficient(2, 45).iter().copied());
        let (_, g2) = s2_grad(&a2);
        assert_cofactors(
            &DMatrix::from_iterator(2, 2, g2.iter().copied()),
            &rank_deficient(2, 45),
            1.0,
        );
        check!(s2(&a2) => s2_grad[a2]);
        let a3 = Matrix3::from_iterator(rank_deficient(3, 46).iter().copied());
        let (_, g3) = s3_grad(&a3);
        assert_cofactors(
            &DMatrix::from_iterator(3, 3, g3.iter().copied()),
            &rank_deficient(3, 46),
            1.0,
        );
        check!(s3(&a3) => s3_grad[a3]);
    }

    #[test]
    fn through_the_factorisation() {
        let a4 = Matrix4::from_iterator(rank_deficient(4, 47).iter().copied());
        let (_, g4) = s4_grad(&a4);
        assert_cofactors(
            &DMatrix::from_iterator(4, 4, g4.iter().copied()),
            &rank_deficient(4, 47),
            1.0,
        );
        check!(s4(&a4) => s4_grad[a4]);
        let a = rank_deficient(5, 48);
        let (value, g) = d_grad(&a);
        // Both are rounding noise around 0 (the factorisations differ).
        assert!(value.abs() < 1e-12 && d(&a).abs() < 1e-12);
        assert_cofactors(&g, &a, 3.0);
        fd("d", d, &a, &g);
    }

    #[test]
    fn exactly_singular_zero_matrix_row() {
        let mut a = dm(4, 4, 49);
        a.row_mut(2).fill(0.0);
        let (value, g) = d_grad(&a);
        assert_eq!(value, 0.0);
        assert_cofactors(&g, &a, 3.0);
    }
}

mod stable_helpers {
    use super::*;
    use matgrad::{log_sum_exp, relu, sigmoid, softplus};

    #[grad(x, s)]
    fn scalars(x: f64, s: f64) -> f64 {
        sigmoid(x * s) + matgrad::softplus(x - s) * 2.0 + relu(x) + relu(-s)
    }

    #[grad(w)]
    fn mapped(w: &DVector<f64>) -> f64 {
        w.map(|v| sigmoid(v) + softplus(v * 2.0) + relu(v - 0.1))
            .sum()
    }

    #[grad(w)]
    fn lse(w: &DVector<f64>, x: &DMatrix<f64>) -> f64 {
        log_sum_exp(&(x * w)) - matgrad::log_sum_exp(w)
    }

    #[grad(w)]
    fn lse32(w: &DVector<f32>) -> f32 {
        log_sum_exp(w) + w.map(softplus).sum()
    }

    #[grad(w)]
    fn static_mapped(w: &Vector3<f64>) -> f64 {
        w.map(|v| sigmoid(v) * relu(v)).norm_squared()
    }

    #[test]
    fn scalar_helpers() {
        let (x, s) = (0.3, -0.8);
        check!(scalars(x, s) => scalars_grad[x, s]);
    }

    #[test]
    fn inside_map() {
        let w = dv(6, 50);
        check!(mapped(&w) => mapped_grad[w]);
        let v = sm(51);
        check!(static_mapped(&v) => static_mapped_grad[v]);
    }

    #[test]
    fn log_sum_exp_f64_and_f32() {
        let (w, x) = (dv(4, 52), dm(5, 4, 53));
        check!(lse(&w, &x) => lse_grad[w]);
        let w32 = dv(4, 54);
        check!(lse32(&w32) => lse32_grad[w32]);
    }

    #[test]
    fn relu_subgradient_is_zero_at_the_kink() {
        let (_, dx, ds) = scalars_grad(0.0, 0.0);
        // σ′(0)·s + 2σ(0) + 0 (relu at its kink), and ∂/∂s: σ′(0)·x − 2σ(0) − 0.
        assert_eq!(dx, 0.25 * 0.0 + 2.0 * 0.5);
        assert_eq!(ds, -1.0);
    }

    /// At ±1e3 the naive formulas overflow; the helpers and their gradients do not.
    #[test]
    fn extreme_magnitudes() {
        for big in [1e3, -1e3] {
            let w = DVector::from_vec(vec![big, big * 0.5, -big]);
            let (value, g) = mapped_grad(&w);
            assert!(
                value.is_finite() && g.iter().all(|x| x.is_finite()),
                "{value} {g}"
            );
            let x = DMatrix::identity(3, 3);
            let (value, g) = lse_grad(&w, &x);
            assert!(value.abs() < 1e-12 && g.norm() < 1e-12, "{value} {g}");
        }
        let w = DVector::from_vec(vec![1e3, 1e3, 0.0]);
        let (value, g) = lse32_grad(&w.map(|v| v as f32));
        assert!(
            value.is_finite() && g.iter().all(|x| x.is_finite()),
            "{value} {g}"
        );
        assert_eq!(softplus(1e3_f64), 1e3);
        assert_eq!(sigmoid(-1e3_f64), 0.0);
        assert!((log_sum_exp(&w) - (1e3 + 2f64.ln())).abs() < 1e-12);
    }
}
