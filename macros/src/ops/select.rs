//! A branch taken entry by entry: the comparison of two matrices entry by
//! entry as a mask of ones and zeros, and the choice of each entry from one
//! of two matrices by it. These are what `if r.abs() <= delta { … } else
//! { … }` in a loop over samples becomes when the loop is read as matrix
//! operations on all the samples (`crate::batch`).

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::emit::{EmitCx, Value};
use crate::formula::{call, Formula};
use crate::ir::{Graph, Id};
use crate::shape::{Dims, Shape};

/// `M = [A ≺ B]`, entry by entry 1 where the comparison holds and 0 where it
/// does not (args `A, B`, of one shape): piecewise constant, so no adjoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mask(pub Compare);

impl Rule for Mask {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "a comparison entry by entry")?;
        same_shape(a[0], a[1], dims, "a comparison entry by entry")
    }
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
        let (x, y, op) = (a[0].receiver(), a[1].operand(), self.0.token());
        let (one, zero) = (cx.lit(1.0), cx.lit(0.0));
        quote!(#x.zip_map(#y, |__mg_a, __mg_b| if __mg_a #op __mg_b { #one } else { #zero }))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, _: Id) -> Vec<Option<Id>> {
        vec![None; g.node(node).args.len()]
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("[{} {} {}]", a[0].text, self.0.token(), a[1].text))
    }
}

/// `C = M ? T : E`, entry by entry `T` where the mask `M` is 1 and `E` where
/// it is 0 (args `M, T, E`): `dC = M ? dT : dE`, so `T̄ = M ? C̄ : 0` and
/// `Ē = M ? 0 : C̄`, each entry of `C̄` passed whole to the side it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Select;

impl Rule for Select {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "a choice entry by entry")?;
        same_shape(a[0], a[1], dims, "a choice entry by entry")?;
        same_shape(a[0], a[2], dims, "a choice entry by entry")
    }
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
        let (m, t, e) = (a[0].receiver(), a[1].operand(), a[2].operand());
        let zero = cx.lit(0.0);
        quote!(#m.zip_zip_map(#t, #e, |__mg_m, __mg_t, __mg_e| if __mg_m != #zero { __mg_t } else { __mg_e }))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let m = g.node(node).args[0];
        let zero = g.zero(g.shape(node));
        vec![
            None,
            Some(g.build(Select, &[m, cbar, zero])),
            Some(g.build(Select, &[m, zero, cbar])),
        ]
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        if dargs[1].is_none() && dargs[2].is_none() {
            return Ok(None);
        }
        let m = g.node(node).args[0];
        let zero = g.zero(g.shape(node));
        let (dt, de) = (dargs[1].unwrap_or(zero), dargs[2].unwrap_or(zero));
        Ok(Some(g.build(Select, &[m, dt, de])))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("select", a)
    }
}
