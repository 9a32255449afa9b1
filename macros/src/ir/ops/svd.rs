//! The SVD a determinant's second derivative beyond 3×3 is taken through
//! (the tangent of [`super::LuCofactors`]): one per matrix, computed before a
//! Hessian's loop over directions since it does not depend on them.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// `F = svd(A)`, `A = U S Vᵀ` (the runtime's `CofactorSvd`), standing for `A`.
/// Built by tangent code only, which is not differentiated again.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SvdOf;

impl Rule for SvdOf {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "SVD")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    /// A real matrix by Jacobi rotations (exact at rank deficiency, on the
    /// stack); a complex one by nalgebra's SVD.
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        match cx.field() {
            Field::Real => quote!(#p::CofactorSvd::new(#x)),
            Field::Complex => quote!(#p::Svd::new(#x)),
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("third derivatives of `determinant` are not supported")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        a[0].clone()
    }
}

/// `d adj(A)ᵀ[E]`, the derivative of the cofactor matrix along `E`, from the
/// SVD: `U (Diag(Q f) − Q ∘ Fᵀ) Vᵀ` with `F = Uᵀ E V`, `f = diag(F)`,
/// `Q_ij = Π_{k∉{i,j}} s_k` (`i ≠ j`, zero diagonal) — the derivation is the
/// runtime's `CofactorSvd`'s doc comment. Products of singular values and
/// no division: exact at and near singular matrices, where the form
/// `det(A)(tr(A⁻¹E) A⁻ᵀ − A⁻ᵀ Eᵀ A⁻ᵀ)` divides by zero or loses its digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SvdCofactorsTangent;

impl Rule for SvdCofactorsTangent {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (f, e) = (a[0].receiver(), a[1].operand());
        match cx.field() {
            Field::Real => quote!(#f.tangent(#e)),
            Field::Complex => quote!(#f.cofactors_tangent(#e)),
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("third derivatives of `determinant` are not supported")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("d adjᵀ", a)
    }
}
