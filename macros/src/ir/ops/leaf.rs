//! Leaves of the DAG: parameters, literals, and the parameter of a `map` closure.

use proc_macro2::TokenStream;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{self, Formula};
use crate::shape::{Dims, Shape};

/// A parameter of the user's function.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub index: usize,
    pub shape: Shape,
    pub field: Field,
}

impl Rule for Param {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.shape)
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(self.field)
    }
    fn emit(&self, cx: &dyn EmitCx, _: &[Value]) -> TokenStream {
        cx.param(self.index).operand().clone()
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("parameters are written by name")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// A scalar literal, stored as the bits of its `f64` value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lit(pub u64);

impl Lit {
    pub fn value(&self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl Rule for Lit {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn emit(&self, cx: &dyn EmitCx, _: &[Value]) -> TokenStream {
        cx.lit(self.value())
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        notation::number(self.value())
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// The scalar parameter `v` of a `map(|v| …)` closure. Closures do not nest, so
/// one leaf serves them all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LambdaParam;

impl Rule for LambdaParam {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn emit(&self, cx: &dyn EmitCx, _: &[Value]) -> TokenStream {
        cx.lambda_param()
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom("v")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// A scalar a `map` closure reads from around it (`m` in `|v| (v - m).exp()`):
/// the closure's capture `k`, whose value is argument `k` among the map's
/// captures. Like [`LambdaParam`], one leaf per position serves every closure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Captured(pub usize);

impl Rule for Captured {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn emit(&self, cx: &dyn EmitCx, _: &[Value]) -> TokenStream {
        cx.captured(self.0).operand().clone()
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the map's captures")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// A constant read from a field, `self.x` or `data.x`: not differentiated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Constant {
    /// Index into [`Graph::constants`].
    pub index: usize,
    pub shape: Shape,
}

impl Rule for Constant {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.shape)
    }
    fn emit(&self, cx: &dyn EmitCx, _: &[Value]) -> TokenStream {
        cx.constant(self.index).operand().clone()
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("constants are written by their expression")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// A zero matrix of the given shape, with no arguments (so that it can be an
/// argument of a node built before it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Zeros(pub Shape);

impl Rule for Zeros {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.0)
    }
    fn emit(&self, cx: &dyn EmitCx, _: &[Value]) -> TokenStream {
        let (ty, p) = (cx.scalar_type(), cx.private());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        quote::quote!(#p::nalgebra::OMatrix::<#ty, _, _>::zeros_generic(#r, #c))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        Vec::new()
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom("0")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}
