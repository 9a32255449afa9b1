//! Complex parameters: the gradient of a real loss has the parameter's type,
//! entry (i, j) being `∂L/∂Re z_ij + i ∂L/∂Im z_ij` (PyTorch's convention:
//! `z -= step * g` descends). Every operation is checked against central
//! differences taken separately in the real and the imaginary part of every
//! entry (`check_gradient` on a complex point), for dynamic and fixed sizes;
//! `f32` at the end. A conjugated gradient (JAX's convention) fails.

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{
    Complex, DMatrix, DVector, Matrix2x3, Matrix3, Matrix3x2, SMatrix, Vector3,
};
use matgrad::{check_gradient, grad};

mod products_and_adjoints {
    use super::*;

    /// `‖A Z W‖² + Re tr(Zᴴ A Z) − Im tr(Zᵀ W̄ᵀ)`: `*`, `adjoint`, `transpose`,
    /// `conjugate`, `trace`, `.re`, `.im`, on a non-square `Z`.
    #[grad(z, w)]
    fn dynamic(
        z: &DMatrix<Complex<f64>>,
        w: &DMatrix<Complex<f64>>,
        a: &DMatrix<Complex<f64>>,
    ) -> f64 {
        let azw = a * z * w;
        azw.norm_squared() + (z.adjoint() * a * z).trace().re
            - (z.transpose() * w.conjugate().transpose()).trace().im
    }

    #[grad(z, w)]
    fn fixed(
        z: &Matrix3x2<Complex<f64>>,
        w: &Matrix2x3<Complex<f64>>,
        a: &Matrix3<Complex<f64>>,
    ) -> f64 {
        let azw = a * z * w;
        azw.norm_squared() + (z.adjoint() * a * z).trace().re
            - (z.transpose() * w.conjugate().transpose()).trace().im
    }

    #[test]
    fn gradients() {
        let (z, w, a) = (
            dmc::<f64>(3, 2, 1),
            dmc::<f64>(2, 3, 2),
            dmc::<f64>(3, 3, 3),
        );
        check!(dynamic(&z, &w, &a) => dynamic_grad[z, w]);
        let (z, w, a) = (
            smc::<f64, 3, 2>(1),
            smc::<f64, 2, 3>(2),
            smc::<f64, 3, 3>(3),
        );
        check!(fixed(&z, &w, &a) => fixed_grad[z, w]);
    }
}

mod sums_and_scalings {
    use super::*;

    /// `+`, `-`, unary `-`, `z * s` for a complex `s`, `scale(r)` and
    /// `unscale(r)` for a real `r`, and real and complex parameters together.
    #[grad(z, s, r)]
    fn dynamic(
        z: &DMatrix<Complex<f64>>,
        w: &DMatrix<Complex<f64>>,
        s: Complex<f64>,
        r: f64,
    ) -> f64 {
        let u = (z * s - w).scale(r) + (-z).unscale(r * r);
        u.norm_squared() + (z.adjoint() * &u).trace().im
    }

    #[grad(z, s, r)]
    fn fixed(z: &Matrix3<Complex<f64>>, w: &Matrix3<Complex<f64>>, s: Complex<f64>, r: f64) -> f64 {
        let u = (z * s - w).scale(r) + (-z).unscale(r * r);
        u.norm_squared() + (z.adjoint() * u).trace().im
    }

    #[test]
    fn gradients() {
        let (z, w, s, r) = (
            dmc::<f64>(3, 3, 4),
            dmc::<f64>(3, 3, 5),
            csc::<f64>(6),
            sc::<f64>(7),
        );
        check!(dynamic(&z, &w, s, r) => dynamic_grad[z, s, r]);
        let (z, w) = (smc::<f64, 3, 3>(4), smc::<f64, 3, 3>(5));
        check!(fixed(&z, &w, s, r) => fixed_grad[z, s, r]);
    }
}

mod inner_products_and_norms {
    use super::*;

    /// `dotc` (conjugating its receiver), `dot` (conjugating neither),
    /// `norm` and `norm_squared` of complex vectors.
    #[grad(x, y)]
    fn dynamic(x: &DVector<Complex<f64>>, y: &DVector<Complex<f64>>) -> f64 {
        x.dotc(y).re + 2.0 * x.dot(y).im + x.norm() * y.norm_squared()
    }

    #[grad(x, y)]
    fn fixed(x: &Vector3<Complex<f64>>, y: &Vector3<Complex<f64>>) -> f64 {
        x.dotc(y).re + 2.0 * x.dot(y).im + x.norm() * y.norm_squared()
    }

    #[test]
    fn gradients() {
        let (x, y) = (dvc::<f64>(4, 8), dvc::<f64>(4, 9));
        check!(dynamic(&x, &y) => dynamic_grad[x, y]);
        let (x, y) = (smc::<f64, 3, 1>(8), smc::<f64, 3, 1>(9));
        check!(fixed(&x, &y) => fixed_grad[x, y]);
    }
}

mod determinants_and_inverses {
    use super::*;

    /// `determinant` and `try_inverse().unwrap()`: through an LU factorisation
    /// for a dynamic matrix, by closed forms for a 3×3 one.
    #[grad(z)]
    fn dynamic(z: &DMatrix<Complex<f64>>, w: &DMatrix<Complex<f64>>) -> f64 {
        let inv = z.clone().try_inverse().unwrap();
        z.determinant().norm_sqr().ln() + (inv * w).trace().re + z.determinant().im
    }

    #[grad(z)]
    fn fixed(z: &Matrix3<Complex<f64>>, w: &Matrix3<Complex<f64>>) -> f64 {
        let inv = z.try_inverse().unwrap();
        z.determinant().norm_sqr().ln() + (inv * w).trace().re + z.determinant().im
    }

    /// `ln |det Z|² = 2 Re ln det Z`, whose gradient is `2 Z⁻ᴴ` (MATH.md).
    #[grad(z)]
    fn log_abs_det(z: &DMatrix<Complex<f64>>) -> f64 {
        z.determinant().norm_sqr().ln()
    }

    #[test]
    fn gradients() {
        let (z, w) = (dmc_well::<f64>(4, 10), dmc::<f64>(4, 4, 11));
        check!(dynamic(&z, &w) => dynamic_grad[z]);
        let (z, w) = (smc_well::<f64, 3>(10), smc::<f64, 3, 3>(11));
        check!(fixed(&z, &w) => fixed_grad[z]);
    }

    #[test]
    fn log_abs_det_is_twice_the_inverse_adjoint() {
        let z = dmc_well::<f64>(4, 12);
        let (_, g) = log_abs_det_grad(&z);
        let expected = z.try_inverse().unwrap().adjoint().scale(2.0);
        assert!((g - expected).norm() < 1e-12);
    }
}

mod entrywise {
    use super::*;

    /// `component_mul`, and `map` with closures that are holomorphic
    /// (`exp`), not (`conj`, `norm_sqr`), complex to real (`.re`) and real
    /// to complex (`Complex::new` of a real parameter: phases).
    #[grad(z, theta)]
    fn dynamic(z: &DMatrix<Complex<f64>>, w: &DMatrix<Complex<f64>>, theta: &DMatrix<f64>) -> f64 {
        let phases = theta.map(|t| Complex::new(t.cos(), t.sin()));
        let u = z.component_mul(&phases).component_mul(w);
        u.map(|v| v.exp() * v.conj()).trace().re
            + z.map(|v| v.norm_sqr()).norm()
            + u.map(|v| v.re).norm_squared()
    }

    #[grad(z, theta)]
    fn fixed(z: &Matrix3<Complex<f64>>, w: &Matrix3<Complex<f64>>, theta: &Matrix3<f64>) -> f64 {
        let phases = theta.map(|t| Complex::new(t.cos(), t.sin()));
        let u = z.component_mul(&phases).component_mul(w);
        u.map(|v| v.exp() * v.conj()).trace().re
            + z.map(|v| v.norm_sqr()).norm()
            + u.map(|v| v.re).norm_squared()
    }

    #[test]
    fn gradients() {
        let (z, w, theta) = (
            dmc::<f64>(3, 3, 13),
            dmc::<f64>(3, 3, 14),
            dm::<f64>(3, 3, 15),
        );
        check!(dynamic(&z, &w, &theta) => dynamic_grad[z, theta]);
        let (z, w, theta) = (
            smc::<f64, 3, 3>(13),
            smc::<f64, 3, 3>(14),
            sm::<f64, 3, 3>(15),
        );
        check!(fixed(&z, &w, &theta) => fixed_grad[z, theta]);
    }
}

mod scalars {
    use super::*;

    /// The complex scalar methods: `.re`, `.im`, `norm_sqr`, `norm`, `conj`,
    /// `ln`, `exp`, arithmetic with complex and real operands, and
    /// `Complex::new` of real parameters.
    #[grad(z, u, r)]
    fn f(z: Complex<f64>, u: Complex<f64>, r: f64) -> f64 {
        let q = z * u.conj() / (u + 2.0) - Complex::new(r, r * r);
        q.norm_sqr() + (z.ln() * u.exp()).im + q.norm() * z.re + (u * r).im
    }

    #[test]
    fn gradients() {
        let (z, u, r) = (csc::<f64>(16), csc::<f64>(17), sc::<f64>(18));
        check!(f(z, u, r) => f_grad[z, u, r]);
    }
}

mod convention {
    use super::*;

    /// `Re tr(M Z)`, whose gradient is `Mᴴ`.
    #[grad(z)]
    fn f(z: &DMatrix<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
        (m * z).trace().re
    }

    #[test]
    fn the_gradient_is_d_re_plus_i_d_im_and_its_conjugate_fails() {
        let (z, m) = (dmc::<f64>(3, 3, 19), dmc::<f64>(3, 3, 20));
        let (_, g) = f_grad(&z, &m);
        assert!((&g - m.adjoint()).norm() < 1e-12);
        check_gradient(|z| f(z, &m), &z, &g).assert_within(1e-6);
        // JAX's convention, the conjugate, is off in every imaginary part.
        let report = check_gradient(|z| f(z, &m), &z, &g.conjugate());
        assert!(!report.is_within(1e-2), "{report}");
        assert_eq!(report.parts, 2);
    }

    #[test]
    fn a_step_against_the_gradient_descends() {
        let (z, m) = (dmc::<f64>(3, 3, 21), dmc::<f64>(3, 3, 22));
        let loss = |z: &DMatrix<Complex<f64>>| (z - &m).norm_squared();
        #[grad(z)]
        fn dist(z: &DMatrix<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
            (z - m).norm_squared()
        }
        let (value, g) = dist_grad(&z, &m);
        let step = z.clone() - g.scale(0.5);
        assert!(
            loss(&step) < 1e-20 * value.max(1.0),
            "z − ½ ∇ = m is the minimum"
        );
    }
}

mod single_precision {
    use super::*;

    #[grad(z, s)]
    fn dynamic(
        z: &DMatrix<Complex<f32>>,
        w: &DMatrix<Complex<f32>>,
        s: Complex<f32>,
        r: f32,
    ) -> f32 {
        let u = (z.adjoint() * w * s).scale(r);
        u.norm_squared()
            + z.dotc(w).re
            + z.clone().determinant().norm()
            + z.map(|v| v.exp()).trace().im
    }

    #[grad(z, s)]
    fn fixed(
        z: &SMatrix<Complex<f32>, 2, 2>,
        w: &SMatrix<Complex<f32>, 2, 2>,
        s: Complex<f32>,
        r: f32,
    ) -> f32 {
        let u = (z.adjoint() * w * s).scale(r);
        u.norm_squared()
            + z.dotc(w).re
            + z.determinant().norm()
            + z.try_inverse().unwrap().trace().re
    }

    #[test]
    fn gradients() {
        let (z, w, s, r) = (
            dmc_well::<f32>(3, 23),
            dmc::<f32>(3, 3, 24),
            csc::<f32>(25),
            sc::<f32>(26),
        );
        check!(dynamic(&z, &w, s, r) => dynamic_grad[z, s]);
        let (z, w) = (smc_well::<f32, 2>(23), smc::<f32, 2, 2>(24));
        check!(fixed(&z, &w, s, r) => fixed_grad[z, s]);
    }
}

mod second_derivatives {
    use super::*;
    use matgrad::hessian;

    /// The real coordinates of a complex matrix, column by column, each entry
    /// as its real part then its imaginary part (the Hessian's order).
    fn coords(z: &DMatrix<Complex<f64>>) -> DVector<f64> {
        DVector::from_iterator(2 * z.len(), z.iter().flat_map(|v| [v.re, v.im]))
    }
    fn from_coords(x: &DVector<f64>, r: usize, c: usize) -> DMatrix<Complex<f64>> {
        DMatrix::from_fn(r, c, |i, j| {
            let k = 2 * (i + j * r);
            Complex::new(x[k], x[k + 1])
        })
    }

    /// Products, adjoints, a determinant, an inverse and a non-holomorphic map.
    #[hessian(z)]
    fn f(z: &DMatrix<Complex<f64>>, a: &DMatrix<Complex<f64>>) -> f64 {
        let q = (z.adjoint() * a * z).trace().re;
        q * z.norm()
            + z.determinant().norm_sqr()
            + z.clone().try_inverse().unwrap().trace().im
            + z.map(|v| v.exp() * v.conj()).trace().re
    }

    #[hessian(z)]
    fn f_fixed(z: &Matrix3<Complex<f64>>, a: &Matrix3<Complex<f64>>) -> f64 {
        let q = (z.adjoint() * a * z).trace().re;
        q * z.norm()
            + z.determinant().norm_sqr()
            + z.try_inverse().unwrap().trace().im
            + z.map(|v| v.exp() * v.conj()).trace().re
    }

    #[test]
    fn hessian_and_hvp_against_differences_of_the_gradient() {
        let (z, a) = (dmc_well::<f64>(3, 27), dmc::<f64>(3, 3, 28));
        let (value, g, h) = f_hessian(&z, &a);
        same_value("f", value, f(&z, &a));
        assert!((&g - f_grad_of(&z, &a)).norm() < 1e-12 * g.norm());
        assert_eq!(h.shape(), (18, 18));
        let numeric = fd_hessian(
            |x| coords(&f_hessian(&from_coords(x, 3, 3), &a).1),
            &coords(&z),
        );
        assert_close(&h, &numeric, 1e-6, "H of f");
        assert_close(&h, &h.transpose(), 1e-10, "H is symmetric");
        // H v, as a complex matrix of z's shape, in real coordinates H coords(v).
        let v = dmc::<f64>(3, 3, 29);
        let (_, _, hv) = f_hvp(&z, &a, &v);
        let expected = &h * coords(&v);
        assert_close(
            &DMatrix::from_column_slice(18, 1, coords(&hv).as_slice()),
            &DMatrix::from_column_slice(18, 1, expected.as_slice()),
            1e-10,
            "H v",
        );
        // Fixed sizes: the same numbers.
        let (zf, af) = (
            Matrix3::from_iterator(z.iter().copied()),
            Matrix3::from_iterator(a.iter().copied()),
        );
        let (_, gf, hf) = f_fixed_hessian(&zf, &af);
        assert!((DMatrix::from_iterator(3, 3, gf.iter().copied()) - &g).norm() < 1e-10);
        assert_close(
            &DMatrix::from_iterator(18, 18, hf.iter().copied()),
            &h,
            1e-10,
            "fixed H",
        );
    }

    fn f_grad_of(z: &DMatrix<Complex<f64>>, a: &DMatrix<Complex<f64>>) -> DMatrix<Complex<f64>> {
        f_hvp(z, a, &DMatrix::zeros(z.nrows(), z.ncols())).1
    }

    /// Real and complex parameters together: the Hessian's blocks follow the
    /// attribute's order, a real parameter one coordinate per entry.
    #[hessian(r, s)]
    fn mixed(r: f64, s: Complex<f64>, w: &DVector<Complex<f64>>) -> f64 {
        (w.scale(r) * s).norm_squared() * r + (s * s.conj() * s).im + (s.ln() * r).re
    }

    #[test]
    fn mixed_real_and_complex_parameters() {
        let (r, s, w) = (sc::<f64>(30), csc::<f64>(31), dvc::<f64>(3, 32));
        let (_, gr, gs, h) = mixed_hessian(r, s, &w);
        assert_eq!(h.shape(), (3, 3));
        let grad = |x: &DVector<f64>| {
            let (_, gr, gs, _) = mixed_hessian(x[0], Complex::new(x[1], x[2]), &w);
            DVector::from_vec(vec![gr, gs.re, gs.im])
        };
        let x = DVector::from_vec(vec![r, s.re, s.im]);
        assert_eq!(grad(&x), DVector::from_vec(vec![gr, gs.re, gs.im]));
        let h = DMatrix::from_iterator(3, 3, h.iter().copied());
        assert_close(&h, &fd_hessian(grad, &x), 1e-6, "mixed H");
    }
}

mod jacobians_helpers_and_indexing {
    use super::*;
    use matgrad::nalgebra::{Matrix2, Vector2};
    use matgrad::{differentiable, jacobian};

    /// `∂vec(F)/∂(Re z₁, Im z₁, Re z₂, Im z₂)`: a real function of a complex
    /// vector, one column per real coordinate.
    #[jacobian(z)]
    fn intensities(z: &Vector2<Complex<f64>>, a: &Matrix2<f64>) -> Vector2<f64> {
        a * z.map(|v| v.norm_sqr())
    }

    #[test]
    fn jacobian_over_real_coordinates() {
        let (z, a) = (smc::<f64, 2, 1>(33), sm::<f64, 2, 2>(34));
        let (value, j) = intensities_jacobian(&z, &a);
        assert_eq!(value, intensities(&z, &a));
        // d|z_k|²/d Re z_k = 2 Re z_k, d/d Im z_k = 2 Im z_k.
        for k in 0..2 {
            for (part, d) in [(0, 2.0 * z[k].re), (1, 2.0 * z[k].im)] {
                let column = a.column(k) * d;
                assert!((j.column(2 * k + part) - column).norm() < 1e-12);
            }
        }
    }

    #[differentiable]
    fn energy(z: &DVector<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
        (z.adjoint() * m * z).trace().re
    }

    /// A helper of complex arguments, and entries read by index.
    #[grad(z)]
    fn through_a_helper(z: &DVector<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
        energy(z, m) + z[0].re * z[1].im + (z[2] * z[0].conj()).norm_sqr()
    }

    #[test]
    fn gradients() {
        let (z, m) = (dvc::<f64>(3, 35), dmc::<f64>(3, 3, 36));
        check!(through_a_helper(&z, &m) => through_a_helper_grad[z]);
    }
}

mod complex_methods_of_real_matrices {
    use super::*;

    /// nalgebra's complex methods on real matrices are their real
    /// counterparts: `adjoint` the transpose, `conjugate` the identity,
    /// `dotc` the dot product, `ad_mul` `tr_mul`, `scale` the product.
    #[grad(x, y)]
    fn f(x: &DMatrix<f64>, y: &DMatrix<f64>, r: f64) -> f64 {
        (x.adjoint() * y.conjugate()).trace()
            + x.dotc(y) * x.ad_mul(y).norm()
            + x.scale(r).unscale(2.0).norm_squared()
    }

    #[test]
    fn gradients() {
        let (x, y, r) = (dm::<f64>(3, 2, 37), dm::<f64>(3, 2, 38), sc::<f64>(39));
        check!(f(&x, &y, r) => f_grad[x, y]);
    }
}

mod singular_determinants {
    use super::*;

    #[grad(z)]
    fn det_re(z: &DMatrix<Complex<f64>>) -> f64 {
        z.determinant().re + 2.0 * z.determinant().im
    }

    /// At a complex 4×4 matrix of rank 3 the determinant's gradient is the
    /// conjugate cofactor matrix, not zero: through an SVD of the matrix, as
    /// its inverse does not exist.
    #[test]
    fn gradient_at_rank_three() {
        // F diag(1, 1, 1, 0) G with invertible F and G: rank 3 exactly.
        let d = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 1.0, 1.0, 0.0]));
        let d = d.map(|v| Complex::new(v, 0.0));
        let z = dmc_well::<f64>(4, 40) * d * dmc_well::<f64>(4, 41);
        let (_, g) = det_re_grad(&z);
        assert!(
            g.norm() > 0.1,
            "the cofactors of a rank-3 matrix are not all zero"
        );
        check_gradient(det_re, &z, &g).assert_within(1e-6);
    }
}
