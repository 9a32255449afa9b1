//! Structured control flow: a `for` loop is one node holding its body as a
//! region (`ir::Region`), with the values it carries from one iteration to the
//! next explicit, as JAX's `scan` and MLIR's `scf.for` with `iter_args`.
//!
//! ```text
//!   Loop { region, carried: n }   args: lo, hi, init₀ … initₙ₋₁, captures…
//!     region inputs:  i, c₀ … cₙ₋₁     (the index, the carried values entering)
//!     region outputs: c₀′ … cₙ₋₁′      (the carried values leaving)
//!   Output(k) of the loop: cₖ after the last iteration
//!   Tape(k) of the loop:   cₖ as it entered every iteration, in order
//! ```
//!
//! The differentiation of a loop (a reverse loop over the adjoints) lives with
//! the sweep in `diff::region`, its emission in `emit::region`; the rules here
//! are those of the projections, which the sweep routes to their loop.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Id, RegionId};
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// An input of a region: for a loop, the index (`k = 0`), then the carried
/// values as they enter an iteration. Its value is bound by the node running
/// the region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionParam {
    pub k: usize,
    pub shape: Shape,
}

impl Rule for RegionParam {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.shape)
    }
    fn emit(&self, _: &dyn EmitCx, _: &[Value]) -> TokenStream {
        unreachable!("region inputs are bound by the loop that runs the region")
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom(["i", "c"][self.k.min(1)])
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Err(())
    }
}

/// How a loop iterates: over `lo..hi` (or `lo..=hi`), forwards or backwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Range {
    pub inclusive: bool,
    pub rev: bool,
}

/// `for i in lo..hi { body }` with `carried` values updated by the body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Loop {
    pub region: RegionId,
    pub range: Range,
    pub carried: usize,
    /// How many of the last carried values are sums, `init + Σᵢ termᵢ`, with
    /// nothing else reading them in the body (a reverse loop's gradient
    /// accumulators): their initial value may be any matrix to add into.
    pub sums: usize,
}

impl Loop {
    /// The arguments that are the carried values' initial values.
    pub fn inits(&self) -> std::ops::Range<usize> {
        2..2 + self.carried
    }

    /// The arguments that are captured from the enclosing regions.
    pub fn captures(&self, args: usize) -> std::ops::Range<usize> {
        2 + self.carried..args
    }
}

impl Rule for Loop {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        for bound in &a[..2] {
            if *bound != Shape::Int {
                return Err(format!(
                    "a loop's bounds must be integers, found {}",
                    dims.show(*bound)
                ));
            }
        }
        Ok(Shape::Data)
    }
    fn reuses(&self, arg: usize) -> bool {
        self.inits().contains(&arg)
    }
    fn emit(&self, _: &dyn EmitCx, _: &[Value]) -> TokenStream {
        unreachable!("loops are emitted by emit::region")
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unreachable!("the sweep differentiates loops through their outputs")
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom("(loop)")
    }
}

/// `if cond { then } else { otherwise }`: each branch a region whose outputs
/// are the values the `if` yields (its value, then the variables its
/// branches assign); only the branch taken runs. Args: `cond, captures…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct If {
    pub then: RegionId,
    pub otherwise: RegionId,
    pub outputs: usize,
}

impl Rule for If {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match a[0] {
            Shape::Bool => Ok(Shape::Data),
            s => Err(format!(
                "an `if` needs a `bool` condition, found {}",
                dims.show(s)
            )),
        }
    }
    fn emit(&self, _: &dyn EmitCx, _: &[Value]) -> TokenStream {
        unreachable!("branches are emitted by emit::region")
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unreachable!("the sweep differentiates branches through their outputs")
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom("if")
    }
}

/// The number of values a node holding regions yields (`None` for any other).
pub fn yields(op: &Op) -> Option<usize> {
    match op {
        Op::Loop(l) => Some(l.carried),
        Op::If(i) => Some(i.outputs),
        _ => None,
    }
}

/// Output `k` of a loop (carried value `k` after the last iteration) or of
/// an `if`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Output {
    pub k: usize,
    pub shape: Shape,
}

impl Rule for Output {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.shape)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (t, k) = (a[0].receiver(), syn::Index::from(self.k));
        quote!(#t.#k)
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unreachable!("the sweep hands an output's adjoint to its loop")
    }
    /// The tangent of a loop or branch yields its values, then their
    /// tangents: output `k`'s tangent is the tangent node's `n + k`.
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let n = yields(g.op(g.node(node).args[0])).expect("an output of a loop or an `if`");
        Ok(dargs[0].map(|t| {
            let k = n + self.k;
            g.build(
                Output {
                    k,
                    shape: self.shape,
                },
                &[t],
            )
        }))
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom("(loop)")
    }
}

/// The values carried value `k` of a loop took as it entered each iteration,
/// stored in order, allocated once for the whole loop: what the reverse loop
/// reads back. A `Vec` of the values, or for a matrix of dynamic size (see
/// [`is_flat`]) the runtime's `FlatTape` of their copies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tape {
    pub k: usize,
    /// Where the tape is in the tuple the loop's `let` holds (after the
    /// carried values).
    pub at: usize,
}

impl Rule for Tape {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Data)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (t, at) = (a[0].receiver(), syn::Index::from(self.at));
        quote!(#t.#at)
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        vec![None]
    }
    /// The tape of the tangent loop's carried value `n + k` (which carries
    /// `2n` values, its tapes after them).
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let n = yields(g.op(g.node(node).args[0])).expect("a tape of a loop");
        Ok(dargs[0].map(|t| {
            let tape = Tape {
                k: n + self.k,
                at: 3 * n + self.k,
            };
            g.build(tape, &[t])
        }))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&format!("tape{}", self.k), a)
    }
}

/// Whether a tape of values of `shape` is a `FlatTape`, the values copied one
/// after the other into one buffer and read back as views: a matrix of dynamic
/// size, whose every value would otherwise keep a heap buffer of its own, so
/// that the forward loop allocated a new value every iteration.
pub fn is_flat(shape: Shape) -> bool {
    shape.is_matrix() && shape.has_dynamic()
}

/// Entry `position` of a tape: a carried value as it entered that iteration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TapeRead {
    pub shape: Shape,
}

impl Rule for TapeRead {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.shape)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (tape, position) = (a[0].receiver(), a[1].operand());
        if is_flat(self.shape) {
            quote!(&#tape.at(#position))
        } else if self.shape.is_matrix() {
            quote!(&#tape[#position])
        } else {
            quote!(#tape[#position])
        }
    }
    fn borrows(&self) -> bool {
        self.shape.is_matrix()
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        vec![None, None]
    }
    /// Linear in the tape.
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let position = g.node(node).args[1];
        Ok(dargs[0].map(|dtape| g.build(self.clone(), &[dtape, position])))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("read", a)
    }
}

/// The value a carried value takes at the end of iteration `position`: the
/// tape's next entry, or the loop's result after the last iteration (args
/// `tape, position, result, computed`). The reverse body reads a carried
/// value's new value here rather than computing it again; `computed`, the
/// computation it equals, is differentiated in its place and never emitted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TapeNext {
    pub shape: Shape,
}

impl Rule for TapeNext {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.shape)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (tape, position, last) = (a[0].receiver(), a[1].operand(), a[2].operand());
        let next = quote!(#position + 1);
        if is_flat(self.shape) {
            // Both arms views of the same type.
            quote!(&if #next < #tape.len() { #tape.at(#next) } else { (#last).as_view() })
        } else if self.shape.is_matrix() {
            quote!(if #next < #tape.len() { &#tape[#next] } else { #last })
        } else {
            quote!(if #next < #tape.len() { #tape[#next] } else { #last })
        }
    }
    fn borrows(&self) -> bool {
        self.shape.is_matrix()
    }
    fn reads(&self, _: &Graph, _: Id, arg: usize) -> bool {
        arg < 3
    }
    fn same_value_as(&self) -> Option<usize> {
        Some(3)
    }
    /// The derivative of the computation it equals.
    fn adjoint(&self, _: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![None, None, None, Some(cbar)]
    }
    fn tangent(&self, _: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[3])
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("next", a)
    }
}
