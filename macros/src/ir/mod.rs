//! The IR every stage works on, in three parts imported in this order: the
//! expression DAG (`graph`), which knows its operations only through
//! [`graph::Operation`]; the operations (`ops`, one registry entry each, whose
//! rules build graphs); and the canonical forms a node is rewritten to as it is
//! built (`simplify`). This module binds the three together; the stages import
//! it, and it imports none of them.

pub mod graph;
pub mod ops;
pub mod simplify;

pub use graph::{Field, Id, Region, RegionId, Scalar, COMPLEX_NOT_YET};
pub use ops::{Graph, Node};

use crate::shape::{Dims, Shape};
use graph::Operation;
use ops::Op;

impl Operation for Op {
    fn shape(&self, args: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        self.rule().shape(args, dims)
    }
    fn field(&self, args: &[Field]) -> Option<Field> {
        self.rule().field(args)
    }
    fn same_value_as(&self) -> Option<usize> {
        self.rule().same_value_as()
    }
    fn rewrite(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
        simplify::rewrite(g, op, args)
    }
    fn lit(v: f64) -> Op {
        ops::Lit(v.to_bits()).into()
    }
    fn lit_value(&self) -> Option<f64> {
        match self {
            Op::Lit(l) => Some(l.value()),
            _ => None,
        }
    }
    fn is_region_param(&self) -> bool {
        matches!(self, Op::RegionParam(_))
    }
    fn is_lambda_param(&self) -> bool {
        matches!(self, Op::LambdaParam(_))
    }
}
