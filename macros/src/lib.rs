//! Procedural macros of [matgrad](https://docs.rs/matgrad): gradients of nalgebra
//! loss functions, derived symbolically at compile time. Use them through the
//! `matgrad` crate, which re-exports them with the runtime helpers they need.

mod attr;
mod compose;
mod derivatives;
mod diff;
mod emit;
mod errors;
#[cfg(test)]
mod eval;
mod expand;
#[cfg(test)]
mod expand_tests;
mod formula;
mod ir;
mod kron_form;
mod ops;
mod parse;
mod plan;
#[cfg(test)]
mod random_tests;
mod shape;
mod signature;
mod simplify;
#[cfg(test)]
mod simplify_tests;

use proc_macro::TokenStream;

/// Generates `<name>_grad`, returning the value and the exact gradient with
/// respect to the listed parameters (the first one when none is listed).
#[proc_macro_attribute]
pub fn grad(attr: TokenStream, item: TokenStream) -> TokenStream {
    first_step(expand::Kind::Grad, attr, item)
}

/// Generates `<name>_hessian`, returning the value, the gradient (as
/// `#[grad]`) and the Hessian `∂²f/∂vec(X)∂vec(X)ᵀ` over the listed parameters,
/// and, for one parameter, `<name>_hvp`, the Hessian-vector product.
#[proc_macro_attribute]
pub fn hessian(attr: TokenStream, item: TokenStream) -> TokenStream {
    first_step(expand::Kind::Hessian, attr, item)
}

/// Generates `<name>_jacobian`, returning the value and, per listed parameter,
/// `∂vec(F)/∂vec(X)ᵀ` (numerator layout; `layout = denominator` transposes).
#[proc_macro_attribute]
pub fn jacobian(attr: TokenStream, item: TokenStream) -> TokenStream {
    first_step(expand::Kind::Jacobian, attr, item)
}

/// Marks a helper function that `#[grad]`, `#[hessian]`, `#[jacobian]` and
/// other helpers may call with differentiated arguments: the function stays
/// as written, and its body is read inline at each such call.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    compose::carry::differentiable(attr.into(), item.into()).into()
}

/// Continues an expansion with a helper's body (generated code only).
#[doc(hidden)]
#[proc_macro]
pub fn resume(input: TokenStream) -> TokenStream {
    compose::carry::resume(input.into()).into()
}

fn first_step(kind: expand::Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(kind, attr.into(), item.into()).into()
}
