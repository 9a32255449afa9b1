//! Factorisations against central finite differences: the value, the
//! gradient, and the Hessian-vector product of every form — a Cholesky
//! factorisation bound once and used several times (`l()`, `solve(&b)`,
//! `inverse()`, `determinant()`, `ln_determinant()`) or chained, an LU
//! factorisation (`solve(&b).unwrap()`, `determinant()`,
//! `try_inverse().unwrap()`), the triangular solves — fixed (`Matrix3`,
//! `Matrix4`) and dynamic sizes, `f64`, `f32` and a generic scalar; then two
//! losses as people port them: scikit-learn's Gaussian-process log marginal
//! likelihood and PyTorch's multivariate normal `log_prob`; and `#[jacobian]`
//! of functions returning what a factorisation gives.
//!
//! Matrices that are factorised are symmetric positive definite in their
//! lower triangle and carry unrelated entries above it (`lower_spd`), so a
//! gradient that symmetrised, or that read the upper triangle, would fail.
//! The Hessian-vector product `H v` is checked as the gradient of
//! `⟨∇f(x), v⟩` (`H` is symmetric), by the same finite differences.

// Factorised matrices are cloned as users write it (`a.clone().cholesky()`),
// fixed-size ones too, which are `Copy`.
#![allow(clippy::too_many_arguments, clippy::clone_on_copy)]

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Matrix4, RealField, SMatrix, Vector3, Vector4};
use matgrad::{grad, hessian, jacobian};

/// `n·I + (R + Rᵀ)/4` in the lower triangle, unrelated entries in [−1, 1]
/// strictly above: nalgebra's `cholesky()` reads the lower triangle only.
fn lower_spd<T: Real>(n: usize, seed: u32) -> DMatrix<T> {
    let spd = dm_spd::<T>(n, seed);
    let noise = dm::<T>(n, n, seed + 100);
    DMatrix::from_fn(
        n,
        n,
        |i, j| if i >= j { spd[(i, j)] } else { noise[(i, j)] },
    )
}

fn lower_spd_s<T: Real, const N: usize>(seed: u32) -> SMatrix<T, N, N> {
    SMatrix::from_iterator(lower_spd::<T>(N, seed).iter().copied())
}

/// Entries in [−1, 1], with a diagonal of magnitude in [1, 2] (so a
/// triangle of it is well conditioned) and both signs.
fn triangular_ok<T: Real>(n: usize, seed: u32) -> DMatrix<T> {
    let r = dm::<T>(n, n, seed);
    DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            let v = r[(i, j)];
            v.signum() * (T::one() + v.abs())
        } else {
            r[(i, j)] * T::of(0.5)
        }
    })
}

fn triangular_ok_s<T: Real, const N: usize>(seed: u32) -> SMatrix<T, N, N> {
    SMatrix::from_iterator(triangular_ok::<T>(N, seed).iter().copied())
}

/// Asserts that `hv` is the gradient of `x ↦ ⟨∇f(x), v⟩`, i.e. `H v`.
#[track_caller]
fn hvp<P, F>(what: &str, grad_dot_v: F, x: &P, hv: &P)
where
    P: matgrad::Point,
    P::Scalar: Real,
    F: FnMut(&P::Owned) -> P::Scalar,
{
    fd(what, grad_dot_v, x, hv);
}

mod cholesky {
    use super::*;

    /// Bound once, every method read, on the stack.
    #[grad(a, b)]
    #[hessian(a)]
    fn every_method_m3(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
        let chol = a.clone().cholesky().unwrap();
        let x = chol.solve(b);
        x.norm_squared() + chol.ln_determinant() + 0.1 * chol.l().norm_squared()
            - 0.05 * chol.inverse().trace()
            + 0.01 * chol.determinant()
    }

    #[grad(a, b)]
    #[hessian(a)]
    fn every_method_m4(a: Matrix4<f32>, b: &Matrix4<f32>) -> f32 {
        let chol = a.cholesky().expect("not positive definite");
        chol.solve(b).dot(b) + chol.ln_determinant() * 0.5 + chol.l().sum()
            - chol.inverse().norm_squared()
            + 0.001 * chol.determinant()
    }

    /// Chained without a binding, a matrix right-hand side, dynamic sizes.
    #[grad(k, y)]
    #[hessian(k)]
    fn chained_d64(k: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        k.clone().cholesky().unwrap().solve(y).norm_squared()
            + k.clone()
                .cholesky()
                .unwrap()
                .l()
                .diagonal()
                .map(|v| v.ln())
                .sum()
    }

    #[grad(k, y)]
    #[hessian(k)]
    fn every_method_d32(k: &DMatrix<f32>, y: &DVector<f32>) -> f32 {
        let chol = k.clone().cholesky().unwrap();
        let l = chol.l();
        y.dot(&chol.solve(y))
            + chol.ln_determinant()
            + (l.transpose() * y).norm()
            + chol.inverse().trace()
    }

    #[grad(k)]
    fn generic<T: RealField + Copy>(k: &DMatrix<T>, y: &DVector<T>) -> T {
        let chol = k.clone().cholesky().unwrap();
        y.dot(&chol.solve(y)) + chol.ln_determinant() * T::from_f64(0.5).unwrap()
    }

    #[test]
    fn fixed_f64() {
        let (a, b) = (lower_spd_s::<f64, 3>(1), sm::<f64, 3, 1>(2));
        check!(every_method_m3(&a, &b) => every_method_m3_grad[a, b]);
        let v = sm::<f64, 3, 3>(3);
        let (value, _, hv) = every_method_m3_hvp(&a, &b, &v);
        same_value("hvp value", value, every_method_m3(&a, &b));
        hvp("m3", |a| every_method_m3_grad(a, &b).1.dot(&v), &a, &hv);
    }

    #[test]
    fn fixed_f32() {
        let (a, b) = (lower_spd_s::<f32, 4>(4), sm::<f32, 4, 4>(5));
        check!(every_method_m4(a, &b) => every_method_m4_grad[a, b]);
        let v = sm::<f32, 4, 4>(6);
        let (_, _, hv) = every_method_m4_hvp(a, &b, &v);
        hvp("m4", |a| every_method_m4_grad(*a, &b).1.dot(&v), &a, &hv);
    }

    #[test]
    fn dynamic_f64() {
        let (k, y) = (lower_spd::<f64>(5, 7), dm::<f64>(5, 2, 8));
        check!(chained_d64(&k, &y) => chained_d64_grad[k, y]);
        let v = dm::<f64>(5, 5, 9);
        let (_, _, hv) = chained_d64_hvp(&k, &y, &v);
        hvp("chained", |k| chained_d64_grad(k, &y).1.dot(&v), &k, &hv);
    }

    /// Past the side from which `L⁻ᵀ Diag(p) L⁻¹` takes the Gram matrix of `L⁻¹` by halves
    /// (64).
    #[test]
    fn dynamic_f64_past_the_gram_by_halves() {
        let (k, y) = (lower_spd::<f64>(90, 21), dm::<f64>(90, 2, 22));
        let (value, gk, _) = chained_d64_grad(&k, &y);
        same_value("chained", value, chained_d64(&k, &y));
        fd_along("chained", |k| chained_d64(k, &y), &k, &gk);
    }

    #[test]
    fn dynamic_f32() {
        let (k, y) = (lower_spd::<f32>(6, 10), dv::<f32>(6, 11));
        check!(every_method_d32(&k, &y) => every_method_d32_grad[k, y]);
        let v = dm::<f32>(6, 6, 12);
        let (_, _, hv) = every_method_d32_hvp(&k, &y, &v);
        hvp("d32", |k| every_method_d32_grad(k, &y).1.dot(&v), &k, &hv);
    }

    #[test]
    fn generic_scalar() {
        let (k, y) = (lower_spd::<f64>(4, 13), dv::<f64>(4, 14));
        check!(generic(&k, &y) => generic_grad[k]);
        let (k, y) = (lower_spd::<f32>(4, 13), dv::<f32>(4, 14));
        check!(generic(&k, &y) => generic_grad[k]);
    }

    /// One factorisation read in a loop (a sum over samples).
    #[grad(k)]
    #[hessian(k)]
    fn in_a_loop(k: &DMatrix<f64>, ys: &DMatrix<f64>) -> f64 {
        let chol = k.clone().cholesky().unwrap();
        let mut total = 0.0;
        for j in 0..ys.ncols() {
            let y = ys.column(j);
            total += y.dot(&chol.solve(&y)) * (j as f64 + 1.0);
        }
        total + chol.ln_determinant()
    }

    #[test]
    fn read_in_a_loop() {
        let (k, ys) = (lower_spd::<f64>(4, 23), dm::<f64>(4, 3, 24));
        check!(in_a_loop(&k, &ys) => in_a_loop_grad[k]);
        let v = dm::<f64>(4, 4, 25);
        let (_, _, hv) = in_a_loop_hvp(&k, &ys, &v);
        hvp("loop", |k| in_a_loop_grad(k, &ys).1.dot(&v), &k, &hv);
    }

    /// The gradient of a function written with `cholesky()` is `∂f/∂A_ij` of
    /// the function as written: zero above the diagonal (nalgebra never reads
    /// it), both halves of the symmetric matrix below it, never symmetrised.
    #[test]
    fn lower_triangle_rule() {
        let (a, b) = (lower_spd_s::<f64, 3>(15), sm::<f64, 3, 1>(16));
        let (value, ga, _) = every_method_m3_grad(&a, &b);
        let mut moved = a;
        moved[(0, 1)] += 3.0;
        moved[(0, 2)] -= 2.0;
        moved[(1, 2)] += 1.0;
        assert_eq!(
            every_method_m3(&moved, &b),
            value,
            "the value reads the lower triangle only"
        );
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            assert_eq!(ga[(i, j)], 0.0, "gradient above the diagonal at ({i}, {j})");
        }
        // Below the diagonal: both halves, so not the symmetrised gradient,
        // whose entries there would be half as large.
        let symmetrised =
            every_method_m3_grad(&Matrix3::from_fn(|i, j| a[(i.max(j), i.min(j))]), &b).1;
        assert_ne!(ga, (symmetrised + symmetrised.transpose()) * 0.5);
        check!(every_method_m3(&a, &b) => every_method_m3_grad[a]);
        let (k, y) = (lower_spd::<f64>(5, 17), dm::<f64>(5, 2, 18));
        let gk = chained_d64_grad(&k, &y).1;
        assert!((0..5).all(|j| (0..j).all(|i| gk[(i, j)] == 0.0)), "{gk}");
        assert!((1..5).any(|i| gk[(i, 0)].abs() > 1e-3), "{gk}");
    }

    /// A matrix that is not positive definite: the `_grad` function panics as
    /// the function itself does, with the user's message.
    #[test]
    #[should_panic(expected = "not positive definite")]
    fn not_positive_definite_panics_with_the_message() {
        let a = -lower_spd_s::<f32, 4>(19);
        let b = sm::<f32, 4, 4>(20);
        let _ = every_method_m4_grad(a, &b);
    }

    #[test]
    fn not_positive_definite_panics_like_the_function() {
        let a = -lower_spd_s::<f64, 3>(21);
        let b = sm::<f64, 3, 1>(22);
        let plain = std::panic::catch_unwind(|| every_method_m3(&a, &b));
        let generated = std::panic::catch_unwind(|| every_method_m3_grad(&a, &b));
        assert!(plain.is_err() && generated.is_err());
    }
}

mod lu {
    use super::*;

    #[grad(a, b)]
    #[hessian(a)]
    fn every_method_m3(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
        let lu = a.clone().lu();
        lu.solve(b).unwrap().norm_squared()
            + lu.determinant()
            + lu.try_inverse().expect("singular").trace()
    }

    /// Beyond 3×3 the determinant's second derivative goes through an SVD.
    #[grad(a, b)]
    #[hessian(a)]
    fn with_determinant_m4(a: &Matrix4<f32>, b: &Vector4<f32>) -> f32 {
        let lu = a.clone().lu();
        lu.solve(b).unwrap().dot(b) + lu.determinant() * 0.01
    }

    #[grad(a, b)]
    #[hessian(a)]
    fn solve_m4(a: Matrix4<f32>, b: &Vector4<f32>) -> f32 {
        let lu = a.lu();
        lu.solve(b).unwrap().dot(b) + lu.try_inverse().unwrap().sum() * 0.1
    }

    #[grad(a, b)]
    #[hessian(a)]
    fn chained_d64(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        a.clone().lu().solve(b).expect("singular").norm_squared()
            + (a.clone().lu().try_inverse().unwrap() * b).sum()
    }

    #[grad(a)]
    #[hessian(a)]
    fn d32(a: &DMatrix<f32>, b: &DVector<f32>) -> f32 {
        let lu = a.clone().lu();
        let x = lu.solve(b).unwrap();
        x.norm_squared() + lu.determinant().ln()
    }

    #[test]
    fn fixed_f64() {
        let (a, b) = (sm_well::<f64, 3>(1), sm::<f64, 3, 1>(2));
        check!(every_method_m3(&a, &b) => every_method_m3_grad[a, b]);
        let v = sm::<f64, 3, 3>(3);
        let (_, _, hv) = every_method_m3_hvp(&a, &b, &v);
        hvp("lu m3", |a| every_method_m3_grad(a, &b).1.dot(&v), &a, &hv);
    }

    #[test]
    fn fixed_f32() {
        let (a, b) = (sm_well::<f32, 4>(4), sm::<f32, 4, 1>(5));
        check!(with_determinant_m4(&a, &b) => with_determinant_m4_grad[a, b]);
        check!(solve_m4(a, &b) => solve_m4_grad[a, b]);
        let v = sm::<f32, 4, 4>(6);
        let (_, _, hv) = with_determinant_m4_hvp(&a, &b, &v);
        let grad_dot_v = |a: &Matrix4<f32>| with_determinant_m4_grad(a, &b).1.dot(&v);
        hvp("lu det m4", grad_dot_v, &a, &hv);
        let (_, _, hv) = solve_m4_hvp(a, &b, &v);
        hvp("lu m4", |a| solve_m4_grad(*a, &b).1.dot(&v), &a, &hv);
    }

    #[test]
    fn dynamic_f64() {
        // Not diagonally dominant: the factorisation exchanges rows.
        let a = dm_well::<f64>(5, 7) + dm::<f64>(5, 5, 8) * 2.0;
        let b = dm::<f64>(5, 3, 9);
        check!(chained_d64(&a, &b) => chained_d64_grad[a, b]);
        let v = dm::<f64>(5, 5, 10);
        let (_, _, hv) = chained_d64_hvp(&a, &b, &v);
        hvp("lu d64", |a| chained_d64_grad(a, &b).1.dot(&v), &a, &hv);
    }

    /// Past the side from which the inverse's `U⁻¹ L⁻¹` skips the zeros of its triangular
    /// factors by halves (64).
    #[test]
    fn dynamic_f64_past_the_triangular_products_by_halves() {
        let (a, b) = (dm_well::<f64>(90, 23), dm::<f64>(90, 2, 24));
        let (value, ga, _) = chained_d64_grad(&a, &b);
        same_value("lu chained", value, chained_d64(&a, &b));
        fd_along("lu chained", |a| chained_d64(a, &b), &a, &ga);
    }

    #[test]
    fn dynamic_f32() {
        let (a, b) = (dm_well::<f32>(6, 11), dv::<f32>(6, 12));
        check!(d32(&a, &b) => d32_grad[a]);
        let v = dm::<f32>(6, 6, 13);
        let (_, _, hv) = d32_hvp(&a, &b, &v);
        hvp("lu d32", |a| d32_grad(a, &b).1.dot(&v), &a, &hv);
    }

    #[test]
    #[should_panic(expected = "singular")]
    fn singular_panics_with_the_message() {
        let a = DMatrix::<f64>::zeros(3, 3);
        let _ = chained_d64_grad(&a, &dm(3, 1, 1));
    }
}

/// An exactly symmetric positive definite matrix is factorised by Cholesky
/// where the loss inverts it, takes its determinant or solves with it (an
/// LU elsewhere); finite differences, which perturb one entry at a time,
/// leave it non-symmetric, so they check the one path against the other.
mod symmetric_positive_definite {
    use super::*;

    #[grad(sigma)]
    #[hessian(sigma)]
    fn gauss_nll_d64(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
        sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
    }

    #[grad(sigma)]
    fn gauss_nll_m4(sigma: &Matrix4<f64>, s: &Matrix4<f64>) -> f64 {
        sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
    }

    #[grad(a, b)]
    fn solve_and_logdet_d32(a: &DMatrix<f32>, b: &DVector<f32>) -> f32 {
        let lu = a.clone().lu();
        lu.solve(b).unwrap().dot(b) + matgrad::logdet(a) + lu.determinant().ln()
    }

    #[test]
    fn dynamic_f64_at_sizes_of_each_inverse() {
        // Closed form of the triangular inverse below 8, blocked from 8, split in halves from 17.
        for (n, seed) in [(4, 1), (12, 2), (30, 3)] {
            let (sigma, s) = (dm_spd::<f64>(n, seed), dm_spd::<f64>(n, seed + 10));
            check!(gauss_nll_d64(&sigma, &s) => gauss_nll_d64_grad[sigma]);
        }
        let (sigma, s) = (dm_spd::<f64>(9, 4), dm_spd::<f64>(9, 14));
        let v = dm::<f64>(9, 9, 5);
        let (_, _, hv) = gauss_nll_d64_hvp(&sigma, &s, &v);
        let grad_dot_v = |sigma: &DMatrix<f64>| gauss_nll_d64_grad(sigma, &s).1.dot(&v);
        hvp("gauss_nll d64", grad_dot_v, &sigma, &hv);
    }

    #[test]
    fn fixed_f64() {
        let (sigma, s) = (sm_spd::<f64, 4>(6), sm_spd::<f64, 4>(7));
        check!(gauss_nll_m4(&sigma, &s) => gauss_nll_m4_grad[sigma]);
    }

    #[test]
    fn dynamic_f32() {
        let (a, b) = (dm_spd::<f32>(10, 8), dv::<f32>(10, 9));
        check!(solve_and_logdet_d32(&a, &b) => solve_and_logdet_d32_grad[a, b]);
    }

    #[test]
    fn symmetric_but_indefinite_takes_the_lu() {
        // det > 0 (two negative eigenvalues) so that `ln det` is finite.
        let mut sigma = dm_spd::<f64>(10, 11);
        sigma[(0, 0)] = -sigma[(0, 0)];
        sigma[(1, 1)] = -sigma[(1, 1)];
        let s = dm_spd::<f64>(10, 12);
        assert!(sigma.clone().cholesky().is_none() && sigma.determinant() > 0.0);
        check!(gauss_nll_d64(&sigma, &s) => gauss_nll_d64_grad[sigma]);
    }
}

mod triangular {
    use super::*;

    /// Full matrices: each solve reads one triangle of its own.
    #[grad(a, b)]
    #[hessian(a)]
    fn both_m3(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
        let lower = a.solve_lower_triangular(b).unwrap();
        let upper = a
            .solve_upper_triangular(&lower)
            .expect("zero on the diagonal");
        upper.norm_squared()
            + a.tr_solve_lower_triangular(b).unwrap().sum()
            + a.tr_solve_upper_triangular(&b.column(0)).unwrap().norm()
    }

    #[grad(a, b)]
    #[hessian(a)]
    fn both_m4(a: Matrix4<f32>, b: Vector4<f32>) -> f32 {
        a.solve_upper_triangular(&b).unwrap().norm_squared()
            + b.dot(&a.solve_lower_triangular(&b).unwrap())
    }

    #[grad(a, b)]
    #[hessian(a)]
    fn both_d64(a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
        let x = a.solve_lower_triangular(b).unwrap();
        x.norm_squared() + a.solve_upper_triangular(&x).unwrap().sum()
    }

    #[grad(a)]
    #[hessian(a)]
    fn lower_d32(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
        a.solve_lower_triangular(b).unwrap().norm_squared()
    }

    #[test]
    fn fixed_f64() {
        let (a, b) = (triangular_ok_s::<f64, 3>(1), sm::<f64, 3, 3>(2));
        check!(both_m3(&a, &b) => both_m3_grad[a, b]);
        let v = sm::<f64, 3, 3>(3);
        let (_, _, hv) = both_m3_hvp(&a, &b, &v);
        hvp("tri m3", |a| both_m3_grad(a, &b).1.dot(&v), &a, &hv);
    }

    #[test]
    fn fixed_f32() {
        let (a, b) = (triangular_ok_s::<f32, 4>(4), sm::<f32, 4, 1>(5));
        check!(both_m4(a, b) => both_m4_grad[a, b]);
        let v = sm::<f32, 4, 4>(6);
        let (_, _, hv) = both_m4_hvp(a, b, &v);
        hvp("tri m4", |a| both_m4_grad(*a, b).1.dot(&v), &a, &hv);
    }

    #[test]
    fn dynamic_f64() {
        let (a, b) = (triangular_ok::<f64>(5, 7), dv::<f64>(5, 8));
        check!(both_d64(&a, &b) => both_d64_grad[a, b]);
        let v = dm::<f64>(5, 5, 9);
        let (_, _, hv) = both_d64_hvp(&a, &b, &v);
        hvp("tri d64", |a| both_d64_grad(a, &b).1.dot(&v), &a, &hv);
    }

    #[test]
    fn dynamic_f32() {
        let (a, b) = (triangular_ok::<f32>(6, 10), dm::<f32>(6, 2, 11));
        check!(lower_d32(&a, &b) => lower_d32_grad[a]);
        let v = dm::<f32>(6, 6, 12);
        let (_, _, hv) = lower_d32_hvp(&a, &b, &v);
        hvp("tri d32", |a| lower_d32_grad(a, &b).1.dot(&v), &a, &hv);
    }

    /// The gradient is zero in the triangle a solve does not read.
    #[test]
    fn only_the_triangle_read() {
        let (a, b) = (triangular_ok::<f64>(5, 13), dm::<f64>(5, 2, 14));
        let g = lower_d32_grad(&a.map(|v| v as f32), &b.map(|v| v as f32)).1;
        assert!((0..5).all(|j| (0..j).all(|i| g[(i, j)] == 0.0)), "{g}");
        assert!((1..5).any(|i| g[(i, 0)] != 0.0), "{g}");
    }

    /// A zero on the diagonal: the `_grad` function panics where the
    /// function does, with the same message (`unwrap`'s, or the `expect`'s).
    #[test]
    fn zero_on_the_diagonal_panics_like_the_function() {
        let b = sm::<f64, 3, 3>(16);
        let mut a = triangular_ok_s::<f64, 3>(15);
        a[(1, 1)] = 0.0;
        let plain = panic_message(|| both_m3(&a, &b));
        assert!(plain.contains("on a `None` value"), "{plain}");
        assert_eq!(panic_message(|| both_m3_grad(&a, &b).0), plain);
        let mut a = triangular_ok_s::<f64, 3>(15);
        a[(2, 2)] = 0.0;
        let plain = panic_message(|| upper_only(&a));
        assert_eq!(plain, "zero on the diagonal");
        assert_eq!(panic_message(|| upper_only_grad(&a).0), plain);
    }

    #[grad(a)]
    fn upper_only(a: &Matrix3<f64>) -> f64 {
        a.solve_upper_triangular(&a.column(0))
            .expect("zero on the diagonal")
            .sum()
    }

    fn panic_message<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> String {
        let err = std::panic::catch_unwind(f).err().expect("a panic");
        err.downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    }
}

/// Losses as people port them.
mod ported {
    use super::*;

    /// scikit-learn's `GaussianProcessRegressor.log_marginal_likelihood`
    /// (negated), the kernel matrix a parameter. (`eye` is the identity,
    /// passed in.)
    #[grad(kernel, noise)]
    #[hessian(kernel)]
    fn gp_nlml(kernel: &DMatrix<f64>, y: &DVector<f64>, eye: &DMatrix<f64>, noise: f64) -> f64 {
        let n = y.len();
        let k = kernel + eye * noise;
        let chol = k.clone().cholesky().unwrap();
        let alpha = chol.solve(y);
        0.5 * y.dot(&alpha)
            + chol.l().diagonal().map(|v| v.ln()).sum()
            + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
    }

    #[grad(kernel, noise)]
    fn gp_nlml_f32(kernel: &DMatrix<f32>, y: &DVector<f32>, eye: &DMatrix<f32>, noise: f32) -> f32 {
        let n = y.len();
        let k = kernel + eye * noise;
        let chol = k.clone().cholesky().unwrap();
        let alpha = chol.solve(y);
        0.5 * y.dot(&alpha)
            + chol.l().diagonal().map(|v| v.ln()).sum()
            + 0.5 * n as f32 * (2.0 * std::f32::consts::PI).ln()
    }

    /// The same with the identity built in the body, as users write it, and
    /// the kernel an RBF of the inputs built with `from_fn` from a
    /// differentiated length scale, all through a helper.
    #[matgrad::differentiable]
    fn rbf(xs: &DVector<f64>, length: f64) -> DMatrix<f64> {
        let n = xs.len();
        DMatrix::from_fn(n, n, |i, j| {
            let d = (xs[i] - xs[j]) / length;
            (-0.5 * d * d).exp()
        })
    }

    #[grad(length, noise)]
    #[hessian(length, noise)]
    fn gp_of_hyperparameters(xs: &DVector<f64>, y: &DVector<f64>, length: f64, noise: f64) -> f64 {
        let n = y.len();
        let k = rbf(xs, length) + DMatrix::identity(n, n) * noise;
        let chol = k.clone().cholesky().unwrap();
        let alpha = chol.solve(y);
        0.5 * y.dot(&alpha)
            + chol.l().diagonal().map(|v| v.ln()).sum()
            + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
    }

    #[test]
    fn gaussian_process_hyperparameters() {
        let n = 7;
        let xs = DVector::from_fn(n, |i, _| i as f64 * 0.7 - 2.0);
        let y = xs.map(|x| x.sin());
        let (length, noise) = (0.9, 0.05);
        check!(gp_of_hyperparameters(&xs, &y, length, noise) => gp_of_hyperparameters_grad[length, noise]);
        let (_, gl, gn, h) = gp_of_hyperparameters_hessian(&xs, &y, length, noise);
        let at = |p: &DVector<f64>| {
            let (_, a, b) = gp_of_hyperparameters_grad(&xs, &y, p[0], p[1]);
            DVector::from_vec(vec![a, b])
        };
        let fd = fd_hessian(at, &DVector::from_vec(vec![length, noise]));
        let h = DMatrix::from_column_slice(2, 2, h.as_slice());
        assert_close(&h, &fd, 1e-6, "Hessian of the GP in its hyperparameters");
        assert!(gl.is_finite() && gn.is_finite());
    }

    /// PyTorch's `MultivariateNormal.log_prob` from `scale_tril`.
    #[grad(x, mu, scale_tril)]
    #[hessian(scale_tril)]
    fn mvn_log_prob(x: &DVector<f64>, mu: &DVector<f64>, scale_tril: &DMatrix<f64>) -> f64 {
        let n = x.len();
        let diff = x - mu;
        let m = scale_tril
            .solve_lower_triangular(&diff)
            .unwrap()
            .norm_squared();
        let half_log_det = scale_tril.diagonal().map(|v| v.ln()).sum();
        -0.5 * (n as f64 * (2.0 * std::f64::consts::PI).ln() + m) - half_log_det
    }

    /// The same from a covariance matrix, factorised first.
    #[grad(x, cov)]
    #[hessian(cov)]
    fn mvn_from_covariance(x: &Vector3<f64>, cov: &Matrix3<f64>) -> f64 {
        let l = cov.clone().cholesky().unwrap().l();
        let m = l.solve_lower_triangular(x).unwrap().norm_squared();
        -0.5 * (3.0 * (2.0 * std::f64::consts::PI).ln() + m) - l.diagonal().map(|v| v.ln()).sum()
    }

    /// Squared-exponential kernel matrix of `n` points on a line.
    fn kernel<T: Real>(n: usize) -> DMatrix<T> {
        DMatrix::from_fn(n, n, |i, j| {
            let d = (i as f64 - j as f64) * 0.4;
            T::of((-0.5 * d * d).exp())
        })
    }

    #[test]
    fn gaussian_process() {
        let n = 8;
        let (k, y, eye, noise) = (
            kernel::<f64>(n),
            dv::<f64>(n, 1),
            DMatrix::identity(n, n),
            0.1,
        );
        check!(gp_nlml(&k, &y, &eye, noise) => gp_nlml_grad[k, noise]);
        let v = dm::<f64>(n, n, 2);
        let (_, _, hv) = gp_nlml_hvp(&k, &y, &eye, noise, &v);
        hvp(
            "gp",
            |k| gp_nlml_grad(k, &y, &eye, noise).1.dot(&v),
            &k,
            &hv,
        );
        // The closed form: ∇K = ½ (K⁻¹ − α αᵀ), mapped onto the lower triangle.
        let kn = &k + &eye * noise;
        let inv = kn.clone().try_inverse().expect("SPD");
        let alpha = &inv * &y;
        let sym = (&inv - &alpha * alpha.transpose()) * 0.5;
        let expected = DMatrix::from_fn(n, n, |i, j| match i.cmp(&j) {
            std::cmp::Ordering::Greater => 2.0 * sym[(i, j)],
            std::cmp::Ordering::Equal => sym[(i, j)],
            std::cmp::Ordering::Less => 0.0,
        });
        let got = gp_nlml_grad(&k, &y, &eye, noise).1;
        assert!((&got - &expected).amax() < 1e-10, "{got} vs {expected}");
        let (k, y, eye) = (kernel::<f32>(n), dv::<f32>(n, 1), DMatrix::identity(n, n));
        let noise = 0.1f32;
        check!(gp_nlml_f32(&k, &y, &eye, noise) => gp_nlml_f32_grad[k, noise]);
    }

    #[test]
    fn multivariate_normal() {
        let n = 5;
        let (x, mu) = (dv::<f64>(n, 3), dv::<f64>(n, 4));
        let scale_tril = lower_spd::<f64>(n, 5).lower_triangle();
        check!(mvn_log_prob(&x, &mu, &scale_tril) => mvn_log_prob_grad[x, mu, scale_tril]);
        let v = dm::<f64>(n, n, 6);
        let (_, _, hv) = mvn_log_prob_hvp(&x, &mu, &scale_tril, &v);
        hvp(
            "mvn",
            |s| mvn_log_prob_grad(&x, &mu, s).3.dot(&v),
            &scale_tril,
            &hv,
        );
        // Against PyTorch's value for the same distribution, written out.
        let cov = &scale_tril * scale_tril.transpose();
        let diff = &x - &mu;
        let expected = -0.5 * diff.dot(&(cov.clone().try_inverse().expect("SPD") * &diff))
            - 0.5 * cov.determinant().ln()
            - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
        assert!((mvn_log_prob(&x, &mu, &scale_tril) - expected).abs() < 1e-10);

        let (x, cov) = (sm::<f64, 3, 1>(7), lower_spd_s::<f64, 3>(8));
        check!(mvn_from_covariance(&x, &cov) => mvn_from_covariance_grad[x, cov]);
        let v = sm::<f64, 3, 3>(9);
        let (_, _, hv) = mvn_from_covariance_hvp(&x, &cov, &v);
        hvp(
            "mvn cov",
            |c| mvn_from_covariance_grad(&x, c).2.dot(&v),
            &cov,
            &hv,
        );
    }
}

/// `#[jacobian]` of vector- and matrix-valued functions through factorisations,
/// column by column against central differences of the function.
mod jacobians {
    use super::*;

    #[jacobian(k, b)]
    fn cholesky_solve(k: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
        let chol = k.clone().cholesky().unwrap();
        chol.solve(b) + chol.l() * b
    }

    #[jacobian(a)]
    fn lu_and_triangular(a: &Matrix3<f64>, b: &Matrix3<f64>) -> Matrix3<f64> {
        a.clone().lu().solve(b).unwrap() + a.solve_upper_triangular(b).unwrap()
    }

    /// Column `k` of `∂vec(f)/∂vec(x)ᵀ` by central differences.
    fn fd_column<M: Clone + std::ops::IndexMut<usize, Output = f64>>(
        f: impl Fn(&M) -> Vec<f64>,
        x: &M,
        k: usize,
    ) -> Vec<f64> {
        let h = 1e-6;
        let (mut up, mut down) = (x.clone(), x.clone());
        up[k] += h;
        down[k] -= h;
        f(&up)
            .iter()
            .zip(f(&down))
            .map(|(u, d)| (u - d) / (2.0 * h))
            .collect()
    }

    #[track_caller]
    fn assert_columns(j: &DMatrix<f64>, columns: usize, column: impl Fn(usize) -> Vec<f64>) {
        assert_eq!(j.ncols(), columns);
        for k in 0..columns {
            let fd = column(k);
            for (i, want) in fd.iter().enumerate() {
                let got = j[(i, k)];
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "J[({i}, {k})] = {got}, differences {want}"
                );
            }
        }
    }

    #[test]
    fn cholesky_dynamic() {
        let (k, b) = (lower_spd::<f64>(4, 1), dv::<f64>(4, 2));
        let (value, jk, jb) = cholesky_solve_jacobian(&k, &b);
        assert_eq!(value, cholesky_solve(&k, &b));
        let flat = |v: DVector<f64>| v.iter().copied().collect::<Vec<_>>();
        assert_columns(&jk, 16, |c| {
            fd_column(|k: &DMatrix<f64>| flat(cholesky_solve(k, &b)), &k, c)
        });
        assert_columns(&jb, 4, |c| {
            fd_column(|b: &DVector<f64>| flat(cholesky_solve(&k, b)), &b, c)
        });
        // Nothing above the diagonal is read.
        assert!((0..4).all(|j| (0..j).all(|i| jk.column(j * 4 + i).iter().all(|&v| v == 0.0))));
    }

    #[test]
    fn lu_and_triangular_fixed() {
        let (a, b) = (sm_well::<f64, 3>(3), sm::<f64, 3, 3>(4));
        let (_, ja) = lu_and_triangular_jacobian(&a, &b);
        let ja = DMatrix::from_iterator(ja.nrows(), ja.ncols(), ja.iter().copied());
        let flat = |m: Matrix3<f64>| m.iter().copied().collect::<Vec<_>>();
        assert_columns(&ja, 9, |c| {
            fd_column(|a: &Matrix3<f64>| flat(lu_and_triangular(a, &b)), &a, c)
        });
    }
}
