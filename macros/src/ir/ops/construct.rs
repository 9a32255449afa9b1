//! Matrices built from scalars and sizes: `Vector3::new(a, b, c)`,
//! `Matrix3::new(..)`, `DVector::from_element(n, b)`, `DMatrix::zeros(r, c)`,
//! `DMatrix::identity(n, n)`, `DMatrix::from_column_slice(r, c, w.as_slice())`.
//! (Without run-time sizes of their own these are the leaves `Zeros`,
//! `Filled`, `ScaledIdentity` and `DiagonalScatter`.) Each is linear in the
//! scalars or the matrix it is built from. Sizes are integer arguments after
//! the values, so that they are computed before the matrix.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, product, Formula};
use crate::shape::{Dim, Dims, Shape};

/// The integer arguments (sizes) must be integers.
fn sizes(a: &[Shape], dims: &Dims, what: &str) -> Result<(), String> {
    match a.iter().find(|s| **s != Shape::Int) {
        Some(s) => Err(format!(
            "{what} needs integer sizes, found {}",
            dims.show(*s)
        )),
        None => Ok(()),
    }
}

/// The sizes carried as arguments: nothing to differentiate.
fn no_sizes(n: usize) -> impl Iterator<Item = Option<Id>> {
    (0..n).map(|_| None)
}

/// `C` of fixed shape `rows×cols` from its entries, taken in column-major
/// order (the parser reorders `Matrix3::new`'s row-major arguments):
/// `dC = Σₖ daₖ Eₖ`, so `āₖ = C̄[k]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FromEntries {
    pub rows: usize,
    pub cols: usize,
}

impl Rule for FromEntries {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        if a.len() != self.rows * self.cols {
            return Err(format!(
                "a {}×{} matrix takes {} entries, found {}",
                self.rows,
                self.cols,
                self.rows * self.cols,
                a.len()
            ));
        }
        for s in a {
            scalar(*s, dims, "an entry")?;
        }
        Ok(Shape::Matrix(Dim::Fixed(self.rows), Dim::Fixed(self.cols)))
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, ty, r, c) = (cx.private(), cx.scalar_type(), self.rows, self.cols);
        let entries = a.iter().map(Value::operand);
        quote!(#p::nalgebra::SMatrix::<#ty, #r, #c>::from_column_slice(&[#(#entries),*]))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        (0..self.rows * self.cols)
            .map(|k| {
                let k = g.build(IntLit(k as i64), &[]);
                Some(g.build(Entry, &[cbar, k]))
            })
            .collect()
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let entries: Vec<Id> = dargs
            .iter()
            .map(|d| d.unwrap_or_else(|| g.lit(0.0)))
            .collect();
        Ok(Some(g.build(self.clone(), &entries)))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("mat", a)
    }
}

/// `C = s 𝟙` of a shape with run-time sizes (args `s, sizes…`), as
/// `from_element(r, c, s)`, `repeat(n, s)` and `zeros(r, c)` build it:
/// `dC = ds 𝟙`, so `s̄ = sum(C̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fill(pub Shape);

impl Rule for Fill {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`from_element`")?;
        sizes(&a[1..], dims, "`from_element`")?;
        Ok(self.0)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, s) = (cx.private(), a[0].operand());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        quote!(#p::filled(#r, #c, #s))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let n = g.node(node).args.len();
        std::iter::once(Some(g.build(Sum, &[cbar])))
            .chain(no_sizes(n - 1))
            .collect()
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        tangent_at_same_place(g, self.clone(), node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[0], &Formula::atom("𝟙"))
    }
}

/// `C = s I` of a shape with run-time sizes (args `s, sizes…`), as
/// `identity(r, c)` and `from_diagonal_element(r, c, s)` build it, square or
/// not: `dC = ds I`, so `s̄ = ⟨C̄, I⟩` (the trace when square).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity(pub Shape);

impl Rule for Identity {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`from_diagonal_element`")?;
        sizes(&a[1..], dims, "`identity`")?;
        Ok(self.0)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        emit_scaled_identity(cx, self.0, a[0].operand())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let args = g.node(node).args.clone();
        let sbar = if g.dims.same(self.0.rows(), self.0.cols()) {
            g.build(Trace, &[cbar])
        } else {
            let one = g.lit(1.0);
            let unit = at_same_place(g, self.clone(), one, node);
            g.dot(cbar, unit)
        };
        std::iter::once(Some(sbar))
            .chain(no_sizes(args.len() - 1))
            .collect()
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        tangent_at_same_place(g, self.clone(), node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[0], &Formula::atom("I"))
    }
}

/// `C`, the entries of `X` in column-major order laid out as a matrix of
/// another shape (args `X, sizes…`), as `from_column_slice(r, c,
/// x.as_slice())` builds it; panics as nalgebra does when the counts differ.
/// `vec(C) = vec(X)`, so `X̄` is `C̄` laid out in `X`'s shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reshape(pub Shape);

impl Rule for Reshape {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`from_column_slice`")?;
        sizes(&a[1..], dims, "`from_column_slice`")?;
        Ok(self.0)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (ty, p, x) = (cx.scalar_type(), cx.private(), a[0].receiver());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        let (rd, cd) = (
            proc_macro2::Ident::new("__mg_r", proc_macro2::Span::mixed_site()),
            proc_macro2::Ident::new("__mg_c", proc_macro2::Span::mixed_site()),
        );
        quote!({
            let (#rd, #cd) = (#r, #c);
            assert!(
                #x.len() == #p::nalgebra::Dim::value(&#rd) * #p::nalgebra::Dim::value(&#cd),
                "Matrix init. error: the slice did not contain the right number of elements."
            );
            #p::nalgebra::OMatrix::<#ty, _, _>::from_iterator_generic(#rd, #cd, #x.iter().copied())
        })
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let args = g.node(node).args.clone();
        let back = g.build(Reshape(g.shape(args[0])), &[cbar]);
        std::iter::once(Some(back))
            .chain(no_sizes(args.len() - 1))
            .collect()
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        tangent_at_same_place(g, self.clone(), node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("reshape", a)
    }
}
