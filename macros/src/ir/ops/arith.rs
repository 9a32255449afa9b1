//! Arithmetic: `−`, `+`, `−`, scalar `*` and `/`, and a matrix scaled by or
//! divided by a scalar.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::{Operand::*, Value};
use crate::ir::graph::{Field, Id};
use crate::notation::{infix, prefix, product, quotient, Formula, SUM};
use crate::shape::{Dims, Shape};

/// `C = −A`: `dC = −dA`, so `Ā = −C̄`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Neg;

impl Rule for Neg {
    fn reuses(&self, _: usize) -> bool {
        true
    }
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].operand();
        quote!(-#x)
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.neg(cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        prefix("−", &a[0])
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Neg, dargs)
    }
}

/// `C = A + B`: `dC = dA + dB`, so `Ā = C̄`, `B̄ = C̄` (the real part of `C̄`
/// for a real `z` in `z + 1.0`, as the sweep takes it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Add;

impl Rule for Add {
    fn reuses(&self, _: usize) -> bool {
        true
    }
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        same_shape(a[0], a[1], dims, "`+`")
    }
    /// Scalars mix (`z + 1.0`); matrices of both fields do not type-check.
    fn field(&self, a: &[Field]) -> Option<Field> {
        either_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].operand_at(SumLeft), a[1].operand_at(SumRight));
        quote!(#x + #y)
    }
    fn adjoint(&self, _: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(cbar), Some(cbar)]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        infix(&a[0], " + ", &a[1], SUM)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(sum_terms(g, [dargs[0], dargs[1]]))
    }
}

/// `C = A − B`: `dC = dA − dB`, so `Ā = C̄`, `B̄ = −C̄`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sub;

impl Rule for Sub {
    fn reuses(&self, _: usize) -> bool {
        true
    }
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        same_shape(a[0], a[1], dims, "`-`")
    }
    /// Scalars mix (`z + 1.0`); matrices of both fields do not type-check.
    fn field(&self, a: &[Field]) -> Option<Field> {
        either_field(a)
    }
    /// `a - b`; for fixed sizes, a `b` taken by value (a moved local or an
    /// expression written inline) is subtracted by reference: nalgebra's
    /// `a - B` for stack matrices took ≈6% longer than `a - &B`
    /// (`‖M − U Vᵀ‖²` at 10 × 8, rank 3: 151 ns against 143 ns).
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].operand_at(SumLeft);
        if !cx.shape().has_dynamic() && matches!(a[1], Value::Moved(..)) {
            let y = a[1].operand();
            return quote!(#x - &#y);
        }
        let y = a[1].operand_at(SumRight);
        quote!(#x - #y)
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(cbar), Some(g.neg(cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        infix(&a[0], " − ", &a[1], SUM)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let db = dargs[1].map(|d| g.neg(d));
        Ok(sum_terms(g, [dargs[0], db]))
    }
}

/// `c = a b` (scalars): `dc = da b + a db`, and `Re(conj(c̄) b da) =
/// Re(conj(c̄ conj(b)) da)`, so `ā = c̄ conj(b)`, `b̄ = c̄ conj(a)` (`c̄ b`,
/// `c̄ a` for real ones).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mul;

impl Rule for Mul {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`*`")?;
        scalar(a[1], dims, "`*`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        either_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].operand_at(ProductLeft), a[1].operand());
        quote!(#x * #y)
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let (a, b) = (g.conj(a), g.conj(b));
        vec![Some(g.times(cbar, b)), Some(g.times(cbar, a))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[0], &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        scalar_tangent(self, g, node, dargs)
    }
}

/// `c = a / b` (scalars): `dc = (b da − a db)/b² = da/b − c db/b`, so
/// `ā = c̄/conj(b)`, `b̄ = −c̄ conj(c)/conj(b)` (`c̄/b`, `−c̄ c/b` for real ones).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Div;

impl Rule for Div {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`/`")?;
        scalar(a[1], dims, "`/`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        either_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].operand_at(ProductLeft), a[1].operand());
        quote!(#x / #y)
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [_, b] = g.args2(node);
        let (b, c) = (g.conj(b), g.conj(node));
        let cbar_c = g.times(cbar, c);
        let q = g.over(cbar_c, b);
        vec![Some(g.over(cbar, b)), Some(g.neg(q))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        quotient(&a[0], &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        scalar_tangent(self, g, node, dargs)
    }
}

/// `C = α A` (matrix `A`, scalar `α`; written `A * α` or `α * A`, and
/// `A.scale(r)` for a real `r`): `dC = α dA + dα A`, and
/// `Re⟨C̄, α dA⟩ = Re⟨conj(α) C̄, dA⟩`, `Re⟨C̄, A dα⟩ = Re(conj(⟨C̄, A⟩) dα)`,
/// so `Ā = conj(α) C̄`, `ᾱ = conj(⟨C̄, A⟩)` (`α C̄`, `⟨C̄, A⟩` for real ones).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scale;

impl Rule for Scale {
    fn reuses(&self, arg: usize) -> bool {
        arg == 0
    }
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "scaling")?;
        scalar(a[1], dims, "scaling")?;
        Ok(a[0])
    }
    /// A complex matrix scales by a real or a complex scalar (nalgebra has
    /// no product of a real matrix and a complex scalar).
    fn field(&self, a: &[Field]) -> Option<Field> {
        match a {
            [Field::Real, Field::Complex] => None,
            _ => Some(a[0]),
        }
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        if (cx.arg_field(0), cx.arg_field(1)) == (Field::Complex, Field::Real) {
            let (m, s) = (a[0].receiver(), a[1].operand());
            return quote!(#m.scale(#s));
        }
        let (m, s) = (a[0].operand(), a[1].operand());
        quote!(#m * #s)
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [m, s] = g.args2(node);
        let s = g.conj(s);
        let a_bar = g.times(cbar, s);
        let inner = g.inner(cbar, m);
        vec![Some(a_bar), Some(g.conj(inner))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[1], &a[0])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, Scale.into(), node, dargs)
    }
}

/// `C = A / α` (matrix `A`, scalar `α`; `A.unscale(r)` for a real `r`):
/// `dC = dA/α − C dα/α`, so `Ā = C̄/conj(α)`, `ᾱ = −conj(⟨C̄, C⟩)/conj(α)`
/// (`C̄/α`, `−⟨C̄, C⟩/α` for real ones; see [`Scale`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DivScalar;

impl Rule for DivScalar {
    fn reuses(&self, arg: usize) -> bool {
        arg == 0
    }
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`/`")?;
        scalar(a[1], dims, "dividing a matrix")?;
        Ok(a[0])
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        Scale.field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        if (cx.arg_field(0), cx.arg_field(1)) == (Field::Complex, Field::Real) {
            let (m, s) = (a[0].receiver(), a[1].operand());
            return quote!(#m.unscale(#s));
        }
        let (m, s) = (a[0].operand(), a[1].operand());
        quote!(#m / #s)
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [_, s] = g.args2(node);
        let s = g.conj(s);
        let inner = g.inner(cbar, node);
        let inner = g.conj(inner);
        let q = g.over(inner, s);
        vec![Some(g.over(cbar, s)), Some(g.neg(q))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        quotient(&a[0], &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dC = (dA − C dα)/α
        let [_, s] = g.args2(node);
        let c_ds = dargs[1].map(|ds| g.times(node, ds));
        let minus = c_ds.map(|t| g.neg(t));
        Ok(sum_terms(g, [dargs[0], minus]).map(|num| g.over(num, s)))
    }
}
