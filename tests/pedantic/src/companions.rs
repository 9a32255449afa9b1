//! Annotated functions and methods that nothing calls but their generated companions: none may
//! warn `dead_code` (the crate denies warnings). Private, `pub(crate)` and `pub` items of a private
//! module, so that each would be dead code without the attribute's `#[allow(dead_code)]`.

use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Vector2};
use matgrad::{grad, hessian, jacobian};

#[grad(w)]
fn private_grad(w: &DVector<f64>, x: &DMatrix<f64>) -> f64 {
    (x * w).norm_squared()
}

#[grad(w)]
pub(crate) fn crate_grad(w: &DVector<f64>) -> f64 {
    w.norm_squared()
}

#[grad(w)]
pub fn pub_grad(w: &Vector2<f64>) -> f64 {
    w.dot(w)
}

#[hessian(w)]
fn private_hessian(w: &Vector2<f64>) -> f64 {
    w.dot(w) * w.x
}

/// Reached only through `_hvp`.
#[hessian(w)]
pub(crate) fn crate_hessian_hvp_only(w: &Vector2<f64>) -> f64 {
    w.norm_squared() * w.y
}

#[hessian(w)]
pub fn pub_hessian(w: &Vector2<f64>) -> f64 {
    w.norm_squared()
}

#[jacobian(x)]
fn private_jacobian(x: &Vector2<f64>, a: &Matrix2<f64>) -> Vector2<f64> {
    a * x
}

#[jacobian(x)]
pub(crate) fn crate_jacobian(x: &Vector2<f64>) -> Vector2<f64> {
    x * 2.0
}

#[jacobian(x)]
pub fn pub_jacobian(x: &Vector2<f64>) -> Vector2<f64> {
    x.map(f64::sin)
}

/// Data for the methods.
pub struct Fit {
    pub a: Matrix2<f64>,
}

impl Fit {
    #[grad(w)]
    fn private_method(&self, w: &Vector2<f64>) -> f64 {
        let a: Matrix2<f64> = self.a;
        (a * w).norm_squared()
    }

    #[grad(w)]
    pub(crate) fn crate_method(&self, w: &Vector2<f64>) -> f64 {
        let a: Matrix2<f64> = self.a;
        (a * w).sum()
    }

    #[hessian(w)]
    pub fn pub_method(&self, w: &Vector2<f64>) -> f64 {
        let a: Matrix2<f64> = self.a;
        (a * w).norm_squared()
    }

    /// An associated function, no `self`.
    #[jacobian(x)]
    fn associated(x: &Vector2<f64>) -> Vector2<f64> {
        x * 3.0
    }
}

/// Calls every companion once and returns the sum of what they computed.
#[must_use]
pub fn run() -> f64 {
    let w = Vector2::new(1.0, -2.0);
    let a = Matrix2::new(1.0, 2.0, 3.0, 4.0);
    let dw = DVector::from_vec(vec![1.0, -2.0]);
    let fit = Fit { a };
    let mut total = private_grad_grad(&dw, &DMatrix::identity(2, 2)).0;
    total += crate_grad_grad(&dw).1.sum();
    total += pub_grad_grad(&w).1.sum();
    total += private_hessian_hessian(&w).2.sum();
    total += crate_hessian_hvp_only_hvp(&w, &w).1.sum();
    total += pub_hessian_hessian(&w).2.sum();
    total += private_jacobian_jacobian(&w, &a).1.sum();
    total += crate_jacobian_jacobian(&w).1.sum();
    total += pub_jacobian_jacobian(&w).1.sum();
    total += fit.private_method_grad(&w).1.sum();
    total += fit.crate_method_grad(&w).1.sum();
    total += fit.pub_method_hessian(&w).2.sum();
    total += Fit::associated_jacobian(&w).1.sum();
    total
}
