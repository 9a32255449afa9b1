//! Views: `x.row(i)`, `x.column(j)`, `x.rows(a, n)`, `x.columns(a, n)`,
//! `x.fixed_rows::<N>(a)`, `x.fixed_columns::<N>(a)`,
//! `x.fixed_view::<R, C>(i, j)`, `x.view((i, j), (r, c))`, and the diagonal.
//! A view is linear: `Y = X[block]` has `X̄[block] += Ȳ` (MATH.md), which a
//! loop's accumulator adds in place, so a view read inside a loop costs the
//! view's size backwards, never the whole matrix's.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// Which block a view reads, and the integer arguments after the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewKind {
    /// `row(i)`.
    Row,
    /// `column(j)`.
    Column,
    /// `rows(a, n)`.
    Rows,
    /// `columns(a, n)`.
    Columns,
    /// `fixed_rows::<N>(a)`.
    FixedRows(usize),
    /// `fixed_columns::<N>(a)`.
    FixedColumns(usize),
    /// `fixed_view::<R, C>(i, j)`.
    FixedView(usize, usize),
    /// `view((i, j), (r, c))`.
    View,
}

impl ViewKind {
    /// The method reading the view, or writing it (`_mut`), with its
    /// arguments.
    fn call(self, mutable: bool, a: &[Value]) -> TokenStream {
        let suffix = if mutable { "_mut" } else { "" };
        let name = |base: &str| Ident::new(&format!("{base}{suffix}"), Span::call_site());
        let arg = |k: usize| a[k].operand().clone();
        match self {
            ViewKind::Row => {
                let (f, i) = (name("row"), arg(0));
                quote!(#f(#i))
            }
            ViewKind::Column => {
                let (f, j) = (name("column"), arg(0));
                quote!(#f(#j))
            }
            ViewKind::Rows | ViewKind::Columns => {
                let f = name(if self == ViewKind::Rows {
                    "rows"
                } else {
                    "columns"
                });
                let (s, n) = (arg(0), arg(1));
                quote!(#f(#s, #n))
            }
            ViewKind::FixedRows(n) | ViewKind::FixedColumns(n) => {
                let base = if matches!(self, ViewKind::FixedRows(_)) {
                    "fixed_rows"
                } else {
                    "fixed_columns"
                };
                let (f, s) = (name(base), arg(0));
                quote!(#f::<#n>(#s))
            }
            ViewKind::FixedView(r, c) => {
                let (f, i, j) = (name("fixed_view"), arg(0), arg(1));
                quote!(#f::<#r, #c>(#i, #j))
            }
            ViewKind::View => {
                let f = name("view");
                let (i, j, r, c) = (arg(0), arg(1), arg(2), arg(3));
                quote!(#f((#i, #j), (#r, #c)))
            }
        }
    }

    /// How many integer arguments the view takes.
    pub fn arity(self) -> usize {
        match self {
            ViewKind::Row
            | ViewKind::Column
            | ViewKind::FixedRows(_)
            | ViewKind::FixedColumns(_) => 1,
            ViewKind::Rows | ViewKind::Columns | ViewKind::FixedView(..) => 2,
            ViewKind::View => 4,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ViewKind::Row => "row",
            ViewKind::Column => "column",
            ViewKind::Rows => "rows",
            ViewKind::Columns => "columns",
            ViewKind::FixedRows(_) => "fixed_rows",
            ViewKind::FixedColumns(_) => "fixed_columns",
            ViewKind::FixedView(..) => "fixed_view",
            ViewKind::View => "view",
        }
    }
}

/// The integer arguments of a view must be integers.
fn integers(a: &[Shape], dims: &Dims, what: &str) -> Result<(), String> {
    match a.iter().find(|s| **s != Shape::Int) {
        Some(s) => Err(format!(
            "{what} needs integer arguments, found {}",
            dims.show(*s)
        )),
        None => Ok(()),
    }
}

/// `Y = X[block]`, a view of `X` (args `X, integers…`) of the given shape.
/// Emitted as nalgebra's view, borrowed from `X`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct View {
    pub kind: ViewKind,
    pub shape: Shape,
}

impl Rule for View {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        let what = format!("`{}`", self.kind.name());
        matrix(a[0], &what)?;
        integers(&a[1..], dims, &what)?;
        Ok(self.shape)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, call) = (a[0].receiver(), self.kind.call(false, &a[1..]));
        quote!(#x.#call)
    }
    /// `X̄[block] += Ȳ`: `Ȳ` in the block of a zero matrix of `X`'s shape.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let op = ViewScatter {
            kind: self.kind,
            shape: g.shape(g.node(node).args[0]),
        };
        adjoint_at_same_place(g, op, node, cbar)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        tangent_at_same_place(g, self.clone(), node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(self.kind.name(), a)
    }
}

/// A zero matrix of the given shape but for `Y` in one block (args `Y,
/// integers…`): the adjoint of a view.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ViewScatter {
    pub kind: ViewKind,
    pub shape: Shape,
}

impl ViewScatter {
    /// The block of `target` that `Y` is placed in, as a mutable view, from
    /// the integer arguments after `Y`.
    pub fn block(&self, target: &TokenStream, indices: &[Value]) -> TokenStream {
        let call = self.kind.call(true, indices);
        quote!(#target.#call)
    }
}

impl Rule for ViewScatter {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "a view's adjoint")?;
        integers(&a[1..], dims, "a view's adjoint")?;
        Ok(self.shape)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (ty, p) = (cx.scalar_type(), cx.private());
        let (r, c) = (cx.dim(self.shape.rows()), cx.dim(self.shape.cols()));
        let z = Ident::new("__mg_z", Span::mixed_site());
        let block = self.block(&quote!(#z), &a[1..]);
        // An owned `Y` covering the whole matrix (`w.rows(0, d)`, `d` its length) is the result.
        if let Value::Moved(y, _) = &a[0] {
            let placed = Ident::new("__mg_block", Span::mixed_site());
            return quote!(#p::scatter(#y, #r, #c, |#z, #placed| #block.copy_from(&#placed)));
        }
        let y = a[0].operand();
        quote!({
            let mut #z = #p::nalgebra::OMatrix::<#ty, _, _>::zeros_generic(#r, #c);
            #block.copy_from(#y);
            #z
        })
    }
    fn add_into(&self, target: &TokenStream, a: &[Value]) -> Option<TokenStream> {
        let (y, block) = (a[0].operand(), self.block(target, &a[1..]));
        Some(quote!(::core::ops::AddAssign::add_assign(&mut #block, #y);))
    }
    /// At dynamic sizes `Y` is taken by value, to be the result when it covers the whole.
    fn reuses(&self, arg: usize) -> bool {
        arg == 0 && self.shape.has_dynamic()
    }
    /// Linear in `Y`: `Ȳ = C̄[block]`.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let view = View {
            kind: self.kind,
            shape: g.shape(g.node(node).args[0]),
        };
        adjoint_at_same_place(g, view, node, cbar)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        tangent_at_same_place(g, self.clone(), node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&format!("{}ᵀ", self.kind.name()), a)
    }
}

/// `d = diag(X)`, the diagonal as a vector (owned, as nalgebra's `diagonal`
/// returns it): `X̄ += Diag(d̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagonal;

impl Rule for Diagonal {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        let s = square(a[0], dims, "`diagonal`")?;
        Ok(Shape::Matrix(s.rows(), crate::shape::Dim::Fixed(1)))
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.diagonal())
    }
    fn reads_lower_triangle(&self, _: usize) -> bool {
        true
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let shape = g.shape(g.node(node).args[0]);
        vec![Some(g.build(DiagonalScatter(shape), &[cbar]))]
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Diagonal, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("diag", a)
    }
}

/// A zero square matrix of the given shape with `d` on its diagonal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DiagonalScatter(pub Shape);

impl Rule for DiagonalScatter {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "a diagonal")?;
        Ok(self.0)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (ty, p) = (cx.scalar_type(), cx.private());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        let z = Ident::new("__mg_z", Span::mixed_site());
        let d = a[0].operand();
        quote!({
            let mut #z = #p::nalgebra::OMatrix::<#ty, _, _>::zeros_generic(#r, #c);
            #z.set_diagonal(#d);
            #z
        })
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Diagonal, &[cbar]))]
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, self.clone(), dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("Diag", a)
    }
}

/// `Z = X` with one block replaced by `Y` (args `X, Y, integers…`):
/// `out.row_mut(i).copy_from(&r);`, `out.set_column(j, &c);`. `X̄` is `Z̄`
/// with the block zeroed, `Ȳ = Z̄[block]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SetView {
    pub kind: ViewKind,
}

impl Rule for SetView {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "writing a block")?;
        matrix(a[1], "a block")?;
        integers(&a[2..], dims, "writing a block")?;
        Ok(a[0])
    }
    fn reuses(&self, arg: usize) -> bool {
        arg == 0
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let m = Ident::new("__mg_m", Span::mixed_site());
        let x = super::index::owned(&a[0]);
        let write = self.update_in_place(&quote!(#m), &a[1..]);
        quote!({ let mut #m = #x; #write #m })
    }
    fn update_in_place(&self, target: &TokenStream, rest: &[Value]) -> Option<TokenStream> {
        let (y, call) = (rest[0].operand(), self.kind.call(true, &rest[1..]));
        Some(quote!(#target.#call.copy_from(#y);))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let n = g.node(node).clone();
        let offsets = &n.args[2..];
        let block = g.shape(n.args[1]);
        let zero = g.lit(0.0);
        let zeros = g.build(Filled(block), &[zero]);
        let xbar = g.build(self.clone(), &[&[cbar, zeros][..], offsets].concat());
        let view = View {
            kind: self.kind,
            shape: block,
        };
        let ybar = g.build(view, &[&[cbar][..], offsets].concat());
        let mut out = vec![Some(xbar), Some(ybar)];
        out.extend(offsets.iter().map(|_| None));
        out
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let n = g.node(node).clone();
        let offsets = &n.args[2..];
        let block = g.shape(n.args[1]);
        let dy = dargs[1].unwrap_or_else(|| {
            let zero = g.lit(0.0);
            g.build(Filled(block), &[zero])
        });
        Ok(Some(match dargs[0] {
            Some(dx) => g.build(self.clone(), &[&[dx, dy][..], offsets].concat()),
            None => {
                let scatter = ViewScatter {
                    kind: self.kind,
                    shape: n.shape,
                };
                g.build(scatter, &[&[dy][..], offsets].concat())
            }
        }))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("set", a)
    }
}
