//! The matrix exponential and logarithm, and their first and second Fréchet
//! derivatives, which their adjoints and tangents are made of.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// A matrix function with a Fréchet derivative: `exp` (`a.exp()`) or the
/// principal logarithm `log` (`matgrad::logm(&a)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fun {
    Exp,
    Log,
}

impl Fun {
    fn name(self) -> &'static str {
        match self {
            Fun::Exp => "exp",
            Fun::Log => "log",
        }
    }
}

/// `C = f(A)` for `f` = `exp` or `log` of a square matrix: `dC = L_f(A, dA)`,
/// the Fréchet derivative, a sum (integral) of products `P dA Q` with `P`, `Q`
/// functions of `A`: `L_exp(A, E) = ∫₀¹ e^{sA} E e^{(1−s)A} ds`,
/// `L_log(A, E) = ∫₀^∞ (A + zI)⁻¹ E (A + zI)⁻¹ dz`. Each term gives
/// `⟨C̄, P dA Q⟩ = ⟨Pᵀ C̄ Qᵀ, dA⟩`, and `Pᵀ`, `Qᵀ` are the same functions of
/// `Aᵀ`, so `⟨C̄, L_f(A, dA)⟩ = ⟨L_f(Aᵀ, C̄), dA⟩` and `Ā = L_f(Aᵀ, C̄)`
/// (`matgrad::expm_frechet`, `matgrad::logm_frechet`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MatFn(pub Fun);

impl Rule for MatFn {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match self.0 {
            Fun::Exp => square(a[0], dims, "the matrix exponential `exp`"),
            Fun::Log => square(a[0], dims, "the matrix logarithm `logm`"),
        }
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        match self.0 {
            Fun::Exp => {
                let x = a[0].receiver();
                quote!(#x.exp())
            }
            Fun::Log => {
                let x = a[0].operand();
                quote!(::matgrad::logm(#x))
            }
        }
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let at = g.transpose(a);
        vec![Some(g.build(Frechet(self.0), &[at, cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(self.0.name(), a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dC = L_f(A, dA)
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| g.build(Frechet(self.0), &[a, da])))
    }
}

/// `L_f(A, E)` (built for the adjoint and tangent of [`MatFn`]), linear in `E`:
/// `d L_f(A, E) = L_f(A, dE) + L²_f(A; dA, E)`, the second term the second
/// Fréchet derivative (`∂²/∂s∂t f(A + sE + tF)` at 0, symmetric in `E`, `F`).
/// In the Hessian of `f(A)` this is `dĀ = L_f(Aᵀ, dC̄) + L²_f(Aᵀ; dAᵀ, C̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frechet(pub Fun);

impl Rule for Frechet {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, e) = (a[0].operand(), a[1].operand());
        match self.0 {
            Fun::Exp => quote!(::matgrad::expm_frechet(#x, #e)),
            Fun::Log => quote!(::matgrad::logm_frechet(#x, #e)),
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives are taken in forward mode")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&format!("L_{}", self.0.name()), a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let [a, e] = g.args2(node);
        let linear = dargs[1].map(|de| g.build(Frechet(self.0), &[a, de]));
        let second = dargs[0].map(|da| g.build(Frechet2(self.0), &[a, da, e]));
        Ok(sum_terms(g, [linear, second]))
    }
}

/// `L²_f(A; E, F)` (built for the tangent of [`Frechet`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frechet2(pub Fun);

impl Rule for Frechet2 {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, e, f) = (a[0].operand(), a[1].operand(), a[2].operand());
        match self.0 {
            Fun::Exp => quote!(::matgrad::expm_frechet2(#x, #e, #f)),
            Fun::Log => quote!(::matgrad::logm_frechet2(#x, #e, #f)),
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("third derivatives of matrix functions are not supported")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let name = self.0.name();
        let (x, e, f) = (&a[0].text, &a[1].text, &a[2].text);
        Formula::atom(format!("L²_{name}({x}; {e}, {f})"))
    }
}
