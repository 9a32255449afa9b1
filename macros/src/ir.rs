//! The expression DAG every stage works on: an arena of nodes, hash-consed so
//! that identical subexpressions are one node, each with its shape and the span
//! of the user's tokens it came from.

use std::collections::HashMap;

use proc_macro2::Span;

use crate::ops::Op;
use crate::shape::{Dims, Shape};
use crate::simplify;

/// Index of a node in the [`Graph`]. A node's arguments always have smaller ids,
/// so id order is a topological order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Id(pub u32);

impl Id {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub args: Vec<Id>,
    pub shape: Shape,
    pub span: Span,
}

/// The element type of every value in the function.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Scalar {
    F32,
    F64,
    /// A type parameter of the function, as in `fn f<T: RealField + Copy>`.
    Generic(proc_macro2::Ident),
}

pub struct Graph {
    nodes: Vec<Node>,
    memo: HashMap<(Op, Vec<Id>), Id>,
    pub dims: Dims,
    pub scalar: Scalar,
    /// Names of the user's `let` bindings (and of parameters), used for the
    /// generated locals and the formula.
    pub names: HashMap<Id, String>,
    /// Span given to nodes built by the differentiator (the forward node whose
    /// adjoint is being taken), so errors in emitted code point at user tokens.
    pub span: Span,
    /// The expressions of constants read from fields (`self.x`), by index.
    pub constants: Vec<proc_macro2::TokenStream>,
}

impl Graph {
    pub fn new(scalar: Scalar, dims: Dims) -> Self {
        Graph {
            nodes: Vec::new(),
            memo: HashMap::new(),
            dims,
            scalar,
            names: HashMap::new(),
            span: Span::call_site(),
            constants: Vec::new(),
        }
    }

    pub fn node(&self, id: Id) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn op(&self, id: Id) -> &Op {
        &self.nodes[id.index()].op
    }

    pub fn shape(&self, id: Id) -> Shape {
        self.nodes[id.index()].shape
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Builds `op(args)`: checks shapes, applies the rewrite table, and returns
    /// the existing node if an identical one was built before.
    pub fn try_build(&mut self, op: impl Into<Op>, args: &[Id]) -> Result<Id, String> {
        let op = op.into();
        let shapes: Vec<Shape> = args.iter().map(|&a| self.shape(a)).collect();
        let shape = op.rule().shape(&shapes, &mut self.dims)?;
        if let Some(id) = simplify::rewrite(self, &op, args) {
            return Ok(id);
        }
        Ok(self.intern(op, args, shape))
    }

    /// [`Graph::try_build`] for nodes built by rules, whose shapes hold by construction.
    pub fn build(&mut self, op: impl Into<Op>, args: &[Id]) -> Id {
        let op = op.into();
        match self.try_build(op.clone(), args) {
            Ok(id) => id,
            Err(msg) => panic!("matgrad internal error: rule built ill-shaped {op:?}: {msg}"),
        }
    }

    fn intern(&mut self, op: Op, args: &[Id], shape: Shape) -> Id {
        let key = (op, args.to_vec());
        if let Some(&id) = self.memo.get(&key) {
            return id;
        }
        let id = Id(self.nodes.len() as u32);
        self.nodes.push(Node {
            op: key.0.clone(),
            args: key.1.clone(),
            shape,
            span: self.span,
        });
        self.memo.insert(key, id);
        id
    }

    /// A scalar literal.
    pub fn lit(&mut self, v: f64) -> Id {
        self.build(crate::ops::Lit(v.to_bits()), &[])
    }

    /// The literal value of `id`, if it is one.
    pub fn lit_value(&self, id: Id) -> Option<f64> {
        match self.op(id) {
            Op::Lit(l) => Some(l.value()),
            _ => None,
        }
    }

    /// For every node up to `root`: whether it is, or depends on, a node that
    /// satisfies `pred`.
    pub fn depends_on(&self, root: Id, pred: impl Fn(Id, &Node) -> bool) -> Vec<bool> {
        let mut mark = vec![false; root.index() + 1];
        for i in 0..=root.index() {
            let n = &self.nodes[i];
            mark[i] = pred(Id(i as u32), n) || n.args.iter().any(|a| mark[a.index()]);
        }
        mark
    }
}
