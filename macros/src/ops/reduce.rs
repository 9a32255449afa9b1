//! Reductions of a matrix to a scalar: norms and sums.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::emit::{EmitCx, Value};
use crate::formula::{call, postfix, product, Formula};
use crate::ir::{Graph, Id};
use crate::shape::{Dims, Shape};

/// `c = ‖A‖_F`: `dc = ⟨A, dA⟩/c`, so `Ā = A c̄/c` (undefined at `A = 0`, where
/// the norm has no derivative).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Norm;

impl Rule for Norm {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`norm`")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.norm())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let s = g.over(cbar, node);
        vec![Some(g.times(a, s))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("‖{}‖", a[0].text))
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dc = ⟨A, dA⟩/c
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| {
            let inner = g.dot(a, da);
            g.over(inner, node)
        }))
    }
}

/// `c = ‖A‖²_F = ⟨A, A⟩`: `dc = 2⟨A, dA⟩`, so `Ā = 2 c̄ A`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NormSquared;

impl Rule for NormSquared {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`norm_squared`")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.norm_squared())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let two = g.lit(2.0);
        let s = g.times(two, cbar);
        vec![Some(g.times(a, s))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&Formula::atom(format!("‖{}‖", a[0].text)), "²")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dc = 2⟨A, dA⟩
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| {
            let inner = g.dot(a, da);
            let two = g.lit(2.0);
            g.times(two, inner)
        }))
    }
}

/// `c = Σᵢⱼ Aᵢⱼ = ⟨𝟙, A⟩`: `dc = ⟨𝟙, dA⟩`, so `Ā = c̄ 𝟙`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sum;

impl Rule for Sum {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`sum`")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.sum())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let shape = g.shape(a);
        vec![Some(g.build(Filled(shape), &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("sum", a)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Sum, dargs)
    }
}

/// `C = s 𝟙`, a matrix of the given shape filled with `s` (built by the
/// differentiator for `sum`): `dC = ds 𝟙`, so `s̄ = sum(C̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Filled(pub Shape);

impl Rule for Filled {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.0)
    }
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
        let (ty, p, s) = (cx.scalar_type(), cx.private(), a[0].operand());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        quote!(#p::nalgebra::OMatrix::<#ty, _, _>::from_element_generic(#r, #c, #s))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Sum, &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[0], &Formula::atom("𝟙"))
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|ds| g.build(self.clone(), &[ds])))
    }
}
