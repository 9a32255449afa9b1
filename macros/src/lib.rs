//! Procedural macros of [matgrad](https://docs.rs/matgrad): gradients of nalgebra
//! loss functions, derived symbolically at compile time. Use them through the
//! `matgrad` crate, which re-exports them with the runtime helpers they need.

mod attr;
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
mod ops;
mod parse;
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
    expand::grad(attr.into(), item.into()).into()
}
