//! Element access: `x[i]`, `x[(i, j)]`, `v.x`, and entries of data slices
//! (`xs[i]`). Reading an entry is linear; its adjoint adds the incoming
//! adjoint into that one entry (MATH.md: `X̄_ij += ȳ`), which a loop's
//! accumulator does in place, so a read inside a loop costs O(1) backwards.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// `y = X[i]` (args `X, i`) or `y = X[(i, j)]` (args `X, i, j`); of a
/// complex `X` too (`Re(conj(ȳ) dXᵢ)` gives the same rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry;

impl Rule for Entry {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "indexing")?;
        indices(&a[1..], dims)?;
        Ok(Shape::Scalar)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        Some(a[0])
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, index) = (a[0].receiver(), index_tokens(&a[1..]));
        quote!(#x[#index])
    }
    /// `ȳ` into entry `i` of a zero matrix of `X`'s shape.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let shape = g.shape(g.node(node).args[0]);
        adjoint_at_same_place(g, Scatter(shape), node, cbar)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        tangent_at_same_place(g, Entry, node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let index: Vec<String> = a[1..].iter().map(|f| f.text.clone()).collect();
        Formula::atom(format!(
            "{}[{}]",
            a[0].at(crate::notation::POSTFIX),
            index.join(", ")
        ))
    }
}

/// A matrix of the given shape, zero but for `y` at entry `i` (args `y, i`)
/// or `(i, j)` (args `y, i, j`): the adjoint of reading that entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scatter(pub Shape);

impl Rule for Scatter {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "an entry")?;
        indices(&a[1..], dims)?;
        Ok(self.0)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        Some(a[0])
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (ty, p) = (cx.element_type(), cx.private());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        let (y, index) = (a[0].operand(), index_tokens(&a[1..]));
        let z = proc_macro2::Ident::new("__mg_z", proc_macro2::Span::mixed_site());
        quote!({
            let mut #z = #p::nalgebra::OMatrix::<#ty, _, _>::zeros_generic(#r, #c);
            #z[#index] = #y;
            #z
        })
    }
    fn add_into(&self, target: &TokenStream, a: &[Value]) -> Option<TokenStream> {
        let (y, index) = (a[0].operand(), index_tokens(&a[1..]));
        Some(quote!(#target[#index] += #y;))
    }
    fn set_into(&self, target: &TokenStream, a: &[Value]) -> Option<TokenStream> {
        let (y, index) = (a[0].operand(), index_tokens(&a[1..]));
        Some(quote!(#target[#index] = #y;))
    }
    /// Linear in `y`: `ȳ = C̄[i]`.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        adjoint_at_same_place(g, Entry, node, cbar)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        tangent_at_same_place(g, self.clone(), node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("eᵢ", a)
    }
}

/// Entry `i` of a slice (or `Vec`, array) of data, `xs[i]` (args `xs, i`), or a part of it:
/// a constant, of the shape of what it reads. Matrices and data are borrowed, `&xs[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DataEntry {
    pub shape: Shape,
    pub part: DataPart,
}

/// What of a data entry a [`DataEntry`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataPart {
    /// The entry itself.
    Whole,
    /// Field `k` of a tuple, `ratings[i].2`.
    Field(usize),
    /// The coordinates of a point, `points[i].coords` (`&[Point3<f64>]`).
    Coords,
}

impl DataEntry {
    pub fn whole(shape: Shape) -> Self {
        DataEntry {
            shape,
            part: DataPart::Whole,
        }
    }
}

impl Rule for DataEntry {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        indices(&a[1..], dims)?;
        Ok(self.shape)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, index) = (a[0].receiver(), index_tokens(&a[1..]));
        let part = match self.part {
            DataPart::Whole => quote!(),
            DataPart::Field(k) => {
                let k = syn::Index::from(k);
                quote!(.#k)
            }
            DataPart::Coords => quote!(.coords),
        };
        if self.borrows() {
            quote!(&#x[#index]#part)
        } else {
            quote!(#x[#index]#part)
        }
    }
    /// A matrix, or data (a row of `&[Vec<f64>]`), is read by reference.
    fn borrows(&self) -> bool {
        self.shape.is_matrix() || self.shape == Shape::Data
    }
    fn adjoint(&self, g: &mut Graph, node: Id, _: Id) -> Vec<Option<Id>> {
        vec![None; g.node(node).args.len()]
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let index: Vec<String> = a[1..].iter().map(|f| f.text.clone()).collect();
        let part = match self.part {
            DataPart::Field(k) => format!(".{k}"),
            DataPart::Whole | DataPart::Coords => String::new(),
        };
        Formula::atom(format!(
            "{}[{}]{part}",
            a[0].at(crate::notation::POSTFIX),
            index.join(", ")
        ))
    }
}

/// The vectors of a slice of data, `xs[0 .. n]` (args `xs, n`), as the rows of
/// one `n × d` matrix: what the products of a loop over the slice read when
/// they are computed for all its entries at once (`crate::batch`). A
/// constant, as its entries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DataRows(pub Shape);

impl Rule for DataRows {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        indices(&a[1..], dims)?;
        Ok(self.0)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (ty, p, xs) = (cx.scalar_type(), cx.private(), a[0].receiver());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        quote!(#p::nalgebra::OMatrix::<#ty, _, _>::from_fn_generic(#r, #c, |__mg_t, __mg_j| #xs[__mg_t][__mg_j]))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, _: Id) -> Vec<Option<Id>> {
        vec![None; g.node(node).args.len()]
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("rows", &a[..1])
    }
}

/// The index arguments must be one or two integers.
fn indices(a: &[Shape], dims: &Dims) -> Result<(), String> {
    match a.iter().find(|s| **s != Shape::Int) {
        Some(s) => Err(format!(
            "an index must be an integer, found {}",
            dims.show(*s)
        )),
        None if a.is_empty() || a.len() > 2 => Err("one or two indices".to_owned()),
        None => Ok(()),
    }
}

/// `i` or `(i, j)`.
fn index_tokens(a: &[Value]) -> TokenStream {
    match a {
        [i] => i.operand().clone(),
        [i, j] => {
            let (i, j) = (i.operand(), j.operand());
            quote!((#i, #j))
        }
        _ => unreachable!("one or two indices"),
    }
}

/// `Z = X` with entry `i` (or `(i, j)`) set to `y` (args `X, y, i(, j)`):
/// `lp[c] = s;`. `dZ = dX` off the entry and `dy` on it, so `X̄` is `Z̄`
/// with that entry zeroed (the old value is overwritten) and `ȳ = Z̄[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SetEntry;

impl Rule for SetEntry {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "writing an entry")?;
        scalar(a[1], dims, "an entry")?;
        indices(&a[2..], dims)?;
        Ok(a[0])
    }
    fn reuses(&self, arg: usize) -> bool {
        arg == 0
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let m = proc_macro2::Ident::new("__mg_m", proc_macro2::Span::mixed_site());
        let x = owned(&a[0]);
        let write = self.update_in_place(&quote!(#m), &a[1..]);
        quote!({ let mut #m = #x; #write #m })
    }
    fn update_in_place(&self, target: &TokenStream, rest: &[Value]) -> Option<TokenStream> {
        let (y, index) = (rest[0].operand(), index_tokens(&rest[1..]));
        Some(quote!(#target[#index] = #y;))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let n = g.node(node).clone();
        let index = &n.args[2..];
        let zero = g.lit(0.0);
        let xbar = g.build(SetEntry, &[&[cbar, zero][..], index].concat());
        let ybar = g.build(Entry, &[&[cbar][..], index].concat());
        let mut out = vec![Some(xbar), Some(ybar)];
        out.extend(index.iter().map(|_| None));
        out
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let n = g.node(node).clone();
        let index = &n.args[2..];
        let dy = dargs[1].unwrap_or_else(|| g.lit(0.0));
        Ok(Some(match dargs[0] {
            Some(dx) => g.build(SetEntry, &[&[dx, dy][..], index].concat()),
            None => g.build(Scatter(n.shape), &[&[dy][..], index].concat()),
        }))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("set", a)
    }
}

/// A matrix owned: moved when it may be, copied otherwise (`clone_owned`, so
/// that a view is copied into a matrix of its own).
pub(crate) fn owned(v: &Value) -> TokenStream {
    match v {
        Value::Moved(t, _) => t.clone(),
        v => {
            let x = v.receiver();
            quote!(#x.clone_owned())
        }
    }
}
