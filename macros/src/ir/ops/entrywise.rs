//! `map` over complex matrices (and maps from real to complex entries): one
//! operation for a scalar program applied entry by entry to one or more
//! matrices of one shape, closed under both sweeps. A complex function of a
//! complex entry need not be holomorphic (`|z|²`, `conj(z)`, `Re z`), so its
//! adjoint is not `C̄ ∘ conj(f′)`: it is the pullback of the closure's own
//! body, an expression of the entries and of the incoming adjoint's entry,
//! derived by the same sweep as any body, and mapped in turn.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::{ClosureParam, Value};
use crate::ir::graph::{Field, Id};
use crate::notation::{call, subscript, Formula};
use crate::shape::{Dims, Shape};

/// The scalar parameter number `k` of an [`Entrywise`] closure, of entries of
/// `field`. Closures do not nest, so the leaves serve them all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntryVar {
    pub k: usize,
    pub field: Field,
}

impl Rule for EntryVar {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(self.field)
    }
    fn emit(&self, _: &dyn EmitCx, _: &[Value]) -> TokenStream {
        unreachable!("a closure parameter is bound by the closure it belongs to")
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom(format!("v{}", subscript(self.k)))
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// `C = f.(A₁, …, Aₖ)`, `Cᵢⱼ = f((A₁)ᵢⱼ, …, (Aₖ)ᵢⱼ)` for a scalar expression
/// `f` of the closure parameters `vars` (one per argument, `k ≤ 4`).
///
/// Entry by entry `dc = Σ ∂f(daₘ)`, the tangent of `f`: so `dC` is the map
/// of `f`'s tangent over the arguments and their tangents. And
/// `Re(conj(c̄) dc) = Σ Re(conj(āₘ) daₘ)` with `āₘ` the adjoint of `f`'s
/// parameter `m` when its result has the adjoint `c̄`: so `Āₘ` is the map of
/// that pullback over the arguments and `C̄`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entrywise {
    /// `f`: a scalar node whose only leaves are `vars` and literals.
    pub body: Id,
    pub vars: Vec<Id>,
    /// The field of the result's entries (that of `body`).
    pub field: Field,
}

impl Entrywise {
    /// The map of `body` over `args`, its parameters `vars` (of the fields of
    /// the arguments' entries).
    pub fn build(g: &mut Graph, body: Id, vars: Vec<Id>, args: &[Id]) -> Result<Id, String> {
        let field = g.field(body);
        g.try_build(Entrywise { body, vars, field }, args)
    }

    /// A fresh closure parameter after `vars`, of entries of `field`.
    pub fn var(g: &mut Graph, k: usize, field: Field) -> Id {
        g.build(EntryVar { k, field }, &[])
    }
}

impl Rule for Entrywise {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        let mut shape = matrix(a[0], "`map`").map(|_| a[0])?;
        for &s in &a[1..] {
            shape = same_shape(shape, s, dims, "`map`")?;
        }
        Ok(shape)
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(self.field)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let params: Vec<ClosureParam> = (self.vars.iter().enumerate())
            .map(|(k, &v)| ClosureParam::Entry(v, k))
            .collect();
        let f = cx.closure(self.body, &params, &[]);
        let x = a[0].receiver();
        match a {
            [_] => quote!(#x.map(#f)),
            [_, y] => {
                let y = y.operand();
                quote!(#x.zip_map(#y, #f))
            }
            [_, y, z] => {
                let (y, z) = (y.operand(), z.operand());
                quote!(#x.zip_zip_map(#y, #z, #f))
            }
            _ => {
                let p = cx.private();
                let all = a.iter().map(Value::operand);
                quote!(#p::zip_map4(#(#all,)* #f))
            }
        }
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the body")
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unreachable!("the sweep differentiates closures (`diff::closure`)")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        unreachable!("the sweep differentiates closures (`diff::closure`)")
    }
}

/// `map((a, b), (v₀, v₁) ↦ f)`: how the formula writer shows an [`Entrywise`].
pub fn entrywise_formula(args: &[Formula], vars: &[Formula], body: &Formula) -> Formula {
    let list = |fs: &[Formula]| {
        let texts: Vec<&str> = fs.iter().map(|f| f.text.as_str()).collect();
        match texts.as_slice() {
            [one] => (*one).to_owned(),
            many => format!("({})", many.join(", ")),
        }
    };
    call(
        "map",
        &[
            Formula::atom(list(args)),
            Formula::atom(format!("{} ↦ {}", list(vars), body.text)),
        ],
    )
}
