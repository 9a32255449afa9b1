//! Procedural macros of [matgrad](https://docs.rs/matgrad): gradients of nalgebra
//! loss functions, derived symbolically at compile time. Use them through the
//! `matgrad` crate, which re-exports them with the runtime helpers they need.

mod attr;
mod batch;
mod code;
#[cfg(test)]
mod complex_tests;
mod compose;
mod derivatives;
mod diff;
mod emit;
mod errors;
#[cfg(test)]
mod eval;
#[cfg(test)]
mod eval_complex;
mod expand;
#[cfg(test)]
mod expand_tests;
mod formula;
mod id;
mod ir;
mod kron_form;
mod notation;
mod parse;
mod plan;
#[cfg(test)]
mod random_complex_tests;
#[cfg(test)]
mod random_tests;
mod shape;
mod share;
mod signature;
#[cfg(test)]
mod simplify_tests;
mod steps;

use proc_macro::TokenStream;

/// Generates `<name>_grad`, returning the value and the exact gradient with
/// respect to the listed parameters (the first one when none is listed).
///
/// # Example
///
/// ```
/// use matgrad::grad;
/// use matgrad::nalgebra::{Matrix2, Vector2};
///
/// /// A quadratic form plus a linear term.
/// #[grad(x, b)]
/// fn energy(x: &Vector2<f64>, a: &Matrix2<f64>, b: &Vector2<f64>) -> f64 {
///     0.5 * x.dot(&(a * x)) - b.dot(x)
/// }
///
/// let a = Matrix2::new(2.0, 1.0, 1.0, 3.0);
/// let (x, b) = (Vector2::new(1.0, -1.0), Vector2::new(0.5, 2.0));
/// // The value, then one gradient per listed parameter, in the attribute's order.
/// let (value, dx, db) = energy_grad(&x, &a, &b);
/// assert_eq!(value, energy(&x, &a, &b));
/// assert!((dx - (0.5 * (a + a.transpose()) * x - b)).norm() < 1e-12); // ½(A + Aᵀ)x − b
/// assert_eq!(db, -x);
/// ```
#[proc_macro_attribute]
pub fn grad(attr: TokenStream, item: TokenStream) -> TokenStream {
    first_step(attr::Kind::Grad, attr, item)
}

/// Generates `<name>_hessian`, returning the value, the gradient (as
/// `#[grad]`) and the Hessian `∂²f/∂vec(X)∂vec(X)ᵀ` over the listed parameters,
/// and, for one parameter, `<name>_hvp`, the Hessian-vector product.
///
/// # Example
///
/// ```
/// use matgrad::hessian;
/// use matgrad::nalgebra::{DMatrix, Vector2};
///
/// /// Rosenbrock's function.
/// #[hessian(p)]
/// fn rosenbrock(p: &Vector2<f64>) -> f64 {
///     (1.0 - p.x).powi(2) + 100.0 * (p.y - p.x * p.x).powi(2)
/// }
///
/// let p = Vector2::new(1.0, 1.0); // the minimum
/// let (value, grad, h) = rosenbrock_hessian(&p);
/// assert_eq!(value, 0.0);
/// assert_eq!(grad, Vector2::zeros());
/// // H = [[2 + 1200x² − 400y, −400x], [−400x, 200]] at (1, 1); a DMatrix over vec(p).
/// assert_eq!(h, DMatrix::from_row_slice(2, 2, &[802.0, -400.0, -400.0, 200.0]));
///
/// // The Hessian times a direction, without forming H.
/// let v = Vector2::new(1.0, 0.0);
/// let (_, _, hv) = rosenbrock_hvp(&p, &v);
/// assert_eq!(hv, Vector2::new(802.0, -400.0));
/// ```
#[proc_macro_attribute]
pub fn hessian(attr: TokenStream, item: TokenStream) -> TokenStream {
    first_step(attr::Kind::Hessian, attr, item)
}

/// Generates `<name>_jacobian`, returning the value and, per listed parameter,
/// `∂vec(F)/∂vec(X)ᵀ` (numerator layout; `layout = denominator` transposes).
///
/// # Example
///
/// ```
/// use matgrad::jacobian;
/// use matgrad::nalgebra::{Matrix2, Vector2};
///
/// /// A linear map followed by `tanh`.
/// #[jacobian(x)]
/// fn layer(x: &Vector2<f64>, w: &Matrix2<f64>) -> Vector2<f64> {
///     (w * x).map(|v| v.tanh())
/// }
///
/// let w = Matrix2::new(1.0, 2.0, -1.0, 0.5);
/// let x = Vector2::new(0.0, 0.0);
/// let (value, j) = layer_jacobian(&x, &w);
/// assert_eq!(value, Vector2::zeros());
/// // J = diag(1 − tanh²(Wx)) W, which is W at x = 0 (an SMatrix, every size being fixed).
/// assert_eq!(j, w);
/// ```
#[proc_macro_attribute]
pub fn jacobian(attr: TokenStream, item: TokenStream) -> TokenStream {
    first_step(attr::Kind::Jacobian, attr, item)
}

/// Marks a helper function that `#[grad]`, `#[hessian]`, `#[jacobian]` and
/// other helpers may call with differentiated arguments: the function stays
/// as written, and its body is read inline at each such call (see the
/// guide's "Helper functions").
///
/// # Example
///
/// ```
/// use matgrad::nalgebra::DVector;
/// use matgrad::{differentiable, grad};
///
/// #[differentiable]
/// fn logistic(z: f64) -> f64 {
///     1.0 / (1.0 + (-z).exp())
/// }
///
/// /// The log-likelihood of one positive example.
/// #[grad(w)]
/// fn log_likelihood(w: &DVector<f64>, x: &DVector<f64>) -> f64 {
///     logistic(w.dot(x)).ln()
/// }
///
/// let (w, x) = (DVector::from_vec(vec![0.5, -0.25]), DVector::from_vec(vec![1.0, 2.0]));
/// let (value, dw) = log_likelihood_grad(&w, &x);
/// assert_eq!(value, log_likelihood(&w, &x));
/// // ∇ = (1 − σ(wᵀx)) x, and wᵀx = 0 here.
/// assert!((dw - x * 0.5).amax() < 1e-15);
/// ```
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    compose::carry::differentiable(attr.into(), item.into()).into()
}

/// Continues an expansion with a helper's body (generated code only).
#[doc(hidden)]
#[proc_macro]
pub fn resume(input: TokenStream) -> TokenStream {
    steps::resume(input.into()).into()
}

fn first_step(kind: attr::Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    steps::expand(kind, attr.into(), item.into()).into()
}
