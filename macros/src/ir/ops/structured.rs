//! Kronecker and cross products.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, mark, Formula};
use crate::shape::{self, Dim, Dims, Shape};

/// `C = A ⊗ B` (`kronecker`, `A` p×q): `dC = dA ⊗ B + A ⊗ dB`; over the p×q
/// blocks `C̄_(ij)` of `C̄`, `⟨C̄, dA ⊗ B⟩ = Σ_ij dA_ij ⟨C̄_(ij), B⟩` and
/// `⟨C̄, A ⊗ dB⟩ = ⟨Σ_ij A_ij C̄_(ij), dB⟩`, so `Ā_ij = ⟨C̄_(ij), B⟩`,
/// `B̄ = Σ_ij A_ij C̄_(ij)`: computed from the blocks, nothing larger than `C̄` formed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Kronecker;

impl Rule for Kronecker {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        let (r1, c1) = matrix(a[0], "`kronecker`")?;
        let (r2, c2) = matrix(a[1], "`kronecker`")?;
        Ok(Shape::Matrix(
            shape::product(r1, r2, dims),
            shape::product(c1, c2, dims),
        ))
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        quote!(#x.kronecker(#y))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        vec![
            Some(g.build(KroneckerAdjoint::Left, &[cbar, a, b])),
            Some(g.build(KroneckerAdjoint::Right, &[cbar, a, b])),
        ]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        mark(&a[0], " ⊗ ", &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, Kronecker.into(), node, dargs)
    }
}

/// `Ā` or `B̄` of `C = A ⊗ B` from `C̄` (args `[C̄, A, B]`), by blocks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KroneckerAdjoint {
    Left,
    Right,
}

impl Rule for KroneckerAdjoint {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(match self {
            KroneckerAdjoint::Left => a[1],
            KroneckerAdjoint::Right => a[2],
        })
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let p = cx.private();
        let (cbar, x, y) = (a[0].operand(), a[1].operand(), a[2].operand());
        match self {
            KroneckerAdjoint::Left => quote!(#p::kronecker_adjoint_left(#cbar, #x, #y)),
            KroneckerAdjoint::Right => quote!(#p::kronecker_adjoint_right(#cbar, #x, #y)),
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives of `kronecker` are not supported yet")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        match self {
            KroneckerAdjoint::Left => call("⟨blocks of C̄, B⟩", &[a[0].clone(), a[2].clone()]),
            KroneckerAdjoint::Right => call("Σᵢⱼ Aᵢⱼ C̄₍ᵢⱼ₎", &[a[1].clone(), a[0].clone()]),
        }
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // Linear in C̄, and in B (left) or A (right), the other factor giving only a shape.
        let (cbar, a, b) = (
            g.node(node).args[0],
            g.node(node).args[1],
            g.node(node).args[2],
        );
        let first = dargs[0].map(|dc| g.build(self.clone(), &[dc, a, b]));
        let second = match self {
            KroneckerAdjoint::Left => dargs[2].map(|db| g.build(self.clone(), &[cbar, a, db])),
            KroneckerAdjoint::Right => dargs[1].map(|da| g.build(self.clone(), &[cbar, da, b])),
        };
        Ok(sum_terms(g, [first, second]))
    }
}

/// `c = a × b` (`cross`, 3-vectors): `dc = da × b + a × db`, and
/// `⟨c̄, da × b⟩ = ⟨b × c̄, da⟩`, `⟨c̄, a × db⟩ = ⟨c̄ × a, db⟩`, so
/// `ā = b × c̄`, `b̄ = c̄ × a`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cross;

impl Rule for Cross {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        let s = same_shape(a[0], a[1], dims, "`cross`")?;
        let three = match s {
            Shape::Matrix(r, c) if dims.value(c) == Some(1) => dims.unify(r, Dim::Fixed(3)),
            Shape::Matrix(r, c) if dims.value(r) == Some(1) => dims.unify(c, Dim::Fixed(3)),
            _ => Err(()),
        };
        three.map(|()| s).map_err(|()| {
            format!(
                "`cross` needs two 3-vectors, found {} and {}",
                dims.show(a[0]),
                dims.show(a[1])
            )
        })
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        quote!(#x.cross(#y))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        vec![
            Some(g.build(Cross, &[b, cbar])),
            Some(g.build(Cross, &[cbar, a])),
        ]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        mark(&a[0], " × ", &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, Cross.into(), node, dargs)
    }
}
