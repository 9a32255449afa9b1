//! Integers, `bool`s and casts: sizes (`x.nrows()`), indices, integer
//! arithmetic and comparisons. They are constants of the gradient (their
//! derivative is zero wherever it exists), so their adjoint and tangent rules
//! contribute nothing; a cast to a float is where a constant enters the
//! differentiated arithmetic.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{self, call, infix, Formula, SUM};
use crate::shape::{Dim, Dims, Shape};

/// The rules every constant-valued operation shares: no adjoint, no tangent.
macro_rules! constant_rules {
    () => {
        fn adjoint(&self, g: &mut Graph, node: Id, _: Id) -> Vec<Option<Id>> {
            vec![None; g.node(node).args.len()]
        }
        fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
            Ok(None)
        }
    };
}

/// An integer literal (`0`, `1` in `n - 1`), written without a suffix so that
/// it takes the type of the integers beside it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntLit(pub i64);

impl Rule for IntLit {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Int)
    }
    fn emit(&self, _: &dyn EmitCx, _: &[Value]) -> TokenStream {
        let lit = Literal::i64_unsuffixed(self.0.abs());
        if self.0 < 0 {
            quote!((-#lit))
        } else {
            quote!(#lit)
        }
    }
    constant_rules!();
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom(self.0.to_string())
    }
}

/// A dimension's run-time value, `usize` (what `x.nrows()` returns): read off
/// the parameter it comes from, so it needs no value computed first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Size(pub Dim);

impl Rule for Size {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Int)
    }
    fn emit(&self, cx: &dyn EmitCx, _: &[Value]) -> TokenStream {
        match self.0 {
            Dim::Fixed(n) => quote!(#n),
            d => {
                let (p, d) = (cx.private(), cx.dim(d));
                quote!(#p::nalgebra::Dim::value(&#d))
            }
        }
    }
    constant_rules!();
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom("n")
    }
}

/// Integer arithmetic, as written: `+ - * / %`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntArith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    /// `min(a, b)`: the common length of two zipped iterators.
    Min,
}

impl IntArith {
    pub fn token(self) -> TokenStream {
        match self {
            IntArith::Add => quote!(+),
            IntArith::Sub => quote!(-),
            IntArith::Mul => quote!(*),
            IntArith::Div => quote!(/),
            IntArith::Rem => quote!(%),
            IntArith::Min => quote!(min),
        }
    }
}

impl Rule for IntArith {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match a {
            [Shape::Int, Shape::Int] => Ok(Shape::Int),
            [x, y] => Err(format!(
                "integer arithmetic needs two integers, found {} and {}",
                dims.show(*x),
                dims.show(*y)
            )),
            _ => unreachable!("binary"),
        }
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y, op) = (a[0].operand(), a[1].operand(), self.token());
        match self {
            IntArith::Min => quote!(::core::cmp::min(#x, #y)),
            _ => quote!((#x #op #y)),
        }
    }
    constant_rules!();
    fn formula(&self, a: &[Formula]) -> Formula {
        infix(&a[0], &format!(" {} ", self.token()), &a[1], SUM)
    }
}

/// A comparison of two scalars or two integers, giving a `bool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compare {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Compare {
    pub fn token(self) -> TokenStream {
        match self {
            Compare::Lt => quote!(<),
            Compare::Le => quote!(<=),
            Compare::Gt => quote!(>),
            Compare::Ge => quote!(>=),
            Compare::Eq => quote!(==),
            Compare::Ne => quote!(!=),
        }
    }
}

impl Rule for Compare {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match a {
            [Shape::Int, Shape::Int] | [Shape::Scalar, Shape::Scalar] => Ok(Shape::Bool),
            [x, y] => Err(format!(
                "a comparison needs two scalars or two integers, found {} and {}",
                dims.show(*x),
                dims.show(*y)
            )),
            _ => unreachable!("binary"),
        }
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y, op) = (a[0].operand(), a[1].operand(), self.token());
        quote!((#x #op #y))
    }
    constant_rules!();
    fn formula(&self, a: &[Formula]) -> Formula {
        infix(&a[0], &format!(" {} ", self.token()), &a[1], SUM)
    }
}

/// `!b` on a `bool`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Not;

impl Rule for Not {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match a[0] {
            Shape::Bool => Ok(Shape::Bool),
            s => Err(format!("`!` needs a `bool`, found {}", dims.show(s))),
        }
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].operand();
        quote!((!#x))
    }
    constant_rules!();
    fn formula(&self, a: &[Formula]) -> Formula {
        notation::prefix("¬", &a[0])
    }
}

/// `a as T`: an integer to a float (a constant entering the arithmetic), a
/// float to an integer (piecewise constant: zero derivative), or the function's
/// own float type to itself (the identity).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cast {
    /// The type written after `as`.
    pub ty: String,
    pub to_float: bool,
}

impl Rule for Cast {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match a[0] {
            Shape::Int | Shape::Scalar | Shape::Bool => Ok(if self.to_float {
                Shape::Scalar
            } else {
                Shape::Int
            }),
            s => Err(format!(
                "`as {}` needs a number, found {}",
                self.ty,
                dims.show(s)
            )),
        }
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].operand();
        let ty: TokenStream = self.ty.parse().expect("a type");
        quote!((#x as #ty))
    }
    /// Float to float is the identity (the cast is to the function's own
    /// scalar type); anything else is constant.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let from_float = g.shape(g.node(node).args[0]) == Shape::Scalar;
        vec![(from_float && self.to_float).then_some(cbar)]
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let from_float = g.shape(g.node(node).args[0]) == Shape::Scalar;
        Ok(dargs[0].filter(|_| from_float && self.to_float))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&self.ty, a)
    }
}

/// `xs.len()` for data (a slice, a `Vec`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Len;

impl Rule for Len {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match a[0] {
            Shape::Data => Ok(Shape::Int),
            s => Err(format!("`len` here needs data, found {}", dims.show(s))),
        }
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.len())
    }
    constant_rules!();
    fn formula(&self, a: &[Formula]) -> Formula {
        call("len", a)
    }
}

/// `true` or `false`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BoolLit(pub bool);

impl Rule for BoolLit {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Bool)
    }
    fn emit(&self, _: &dyn EmitCx, _: &[Value]) -> TokenStream {
        let b = self.0;
        quote!(#b)
    }
    constant_rules!();
    fn formula(&self, _: &[Formula]) -> Formula {
        Formula::atom(self.0.to_string())
    }
}
