//! The numerically stable helpers of the runtime (`matgrad::sigmoid`,
//! `softplus`, `relu`, `log_sum_exp`), recognised as operations.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

scalar_fn!(
    /// `c = σ(a) = 1/(1 + e^{−a})`: `dc = c (1 − c) da`, so `ā = c̄ c (1 − c)`.
    Sigmoid, runtime "sigmoid", "sigmoid", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let rest = g.minus(one, c);
        let d = g.times(c, rest);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = ln(1 + eᵃ)`: `dc = σ(a) da`, so `ā = c̄ σ(a)`.
    Softplus, runtime "softplus", "softplus", |g, a, c, cbar| {
        let s = g.build(Sigmoid, &[a]);
        Some(g.times(cbar, s))
    }
);
scalar_fn!(
    /// `c = max(a, 0)`: `dc = [a > 0] da`, so `ā = c̄ [a > 0]`, with the
    /// subgradient 0 at the kink.
    Relu, runtime "relu", "relu", |g, a, c, cbar| {
        let step = g.build(Step, &[a]);
        Some(g.times(cbar, step))
    }
);

/// `[a > 0]`, 1 or 0 (built for the adjoint of [`Relu`]): its derivative is 0
/// wherever it exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step;

impl Rule for Step {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "step")
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        quote!(#p::relu_derivative(#x))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        vec![None]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("[{} > 0]", a[0].text))
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// `c = ln Σᵢ e^{aᵢ}` (`matgrad::log_sum_exp(&a)`, max-shifted):
/// `dc = Σᵢ e^{aᵢ − c} daᵢ`, so `Ā = c̄ e^{A − c}` (the softmax).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogSumExp;

impl Rule for LogSumExp {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`log_sum_exp`")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].operand();
        quote!(::matgrad::log_sum_exp(#x))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let softmax = g.build(ExpShifted, &[a, node]);
        vec![Some(g.times(softmax, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("lse", a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dc = ⟨e^{A − c}, dA⟩
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| {
            let softmax = g.build(ExpShifted, &[a, node]);
            g.dot(softmax, da)
        }))
    }
}

/// `e^{A − s}` entrywise (built for the adjoint of [`LogSumExp`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExpShifted;

impl Rule for ExpShifted {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, s) = (a[0].receiver(), a[1].operand());
        let v = proc_macro2::Ident::new("__mg_v", proc_macro2::Span::mixed_site());
        quote!(#x.map(|#v| (#v - #s).exp()))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives of `log_sum_exp` are not supported yet")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(
            "exp",
            &[crate::notation::infix(
                &a[0],
                " − ",
                &a[1],
                crate::notation::SUM,
            )],
        )
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // d e^{A − s} = e^{A − s} ∘ (dA − ds 𝟙)
        let a = g.node(node).args[0];
        let shape = g.shape(a);
        let ds = dargs[1].map(|ds| {
            let filled = g.build(Filled(shape), &[ds]);
            g.neg(filled)
        });
        Ok(sum_terms(g, [dargs[0], ds]).map(|d| g.component_mul(node, d)))
    }
}
