//! Complex values: conjugate transposes, conjugates, real and imaginary
//! parts, the sesquilinear products, moduli, and a real value taken as a
//! complex one.
//!
//! The gradient of a real loss `L` in a complex `Z = X + iY` is
//! `Z̄ = ∂L/∂X + i ∂L/∂Y`, so that `dL = Re tr(Z̄ᴴ dZ) = Re⟨Z̄, dZ⟩`
//! (MATH.md, "Complex matrices"). A rule reads `Re⟨C̄, dC⟩` with `dC` from the
//! differentials (`d(Zᴴ) = (dZ)ᴴ`, `d(Z̄) = conj(dZ)`) and brings it to
//! `Re⟨Ā, dA⟩` with `Re tr(M) = Re tr(Mᴴ)` and `tr(AB) = tr(BA)`. For a real
//! argument `Re⟨Ā, dA⟩ = ⟨Re Ā, dA⟩`: the sweep keeps the real part of what a
//! rule gives it (`diff::fit`).

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{call, postfix, product, Formula};
use crate::shape::{Dims, Shape};

/// `C = Zᴴ` (`adjoint()`): `dC = (dZ)ᴴ`, and `Re tr(C̄ᴴ dZᴴ) = Re tr(C̄ dZ)`,
/// so `Z̄ = C̄ᴴ`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Adjoint;

impl Rule for Adjoint {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`adjoint`")?;
        Ok(a[0].transposed())
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.adjoint())
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.adjoint(cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&a[0], "ᴴ")
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|d| g.adjoint(d)))
    }
}

/// `C = Z̄` entrywise (`conjugate()` of a matrix, `conj()` of a scalar):
/// `dC = conj(dZ)`, and `Re⟨C̄, conj(dZ)⟩ = Re⟨conj(C̄), dZ⟩`, so
/// `Z̄ = conj(C̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Conj;

impl Rule for Conj {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        numeric(a[0], "`conj`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        match cx.shape() {
            Shape::Matrix(..) => quote!(#x.conjugate()),
            _ => quote!(#x.conj()),
        }
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.conj(cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("conj", a)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|d| g.conj(d)))
    }
}

/// `r = Re z` (`.re`; entrywise for a matrix, as the sweep builds it for
/// a real value whose adjoint is complex): `dr = Re dz = Re(conj(1) dz)`, so
/// `z̄ = r̄` (real).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Re;

impl Rule for Re {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        numeric(a[0], "`.re`")
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(Field::Real)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        match cx.shape() {
            Shape::Matrix(..) => {
                let z = proc_macro2::Ident::new("__mg_z", proc_macro2::Span::mixed_site());
                quote!(#x.map(|#z| #z.re))
            }
            _ => quote!(#x.re),
        }
    }
    fn adjoint(&self, g: &mut Graph, _: Id, rbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.complex(rbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("Re", a)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|d| g.re(d)))
    }
}

/// `r = Im z` (`.im`): `dr = Im dz = Re(conj(i) dz)`, so `z̄ = i r̄`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Im;

impl Rule for Im {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`.im`")
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(Field::Real)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.im)
    }
    fn adjoint(&self, g: &mut Graph, _: Id, rbar: Id) -> Vec<Option<Id>> {
        let zero = g.lit(0.0);
        vec![Some(g.build(FromParts, &[zero, rbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("Im", a)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|d| g.im(d)))
    }
}

/// `z = x + iy` (`Complex::new(x, y)`) of real `x`, `y`: `dz = dx + i dy`,
/// and `Re(conj(z̄) dz) = Re z̄ dx + Im z̄ dy`, so `x̄ = Re z̄`, `ȳ = Im z̄`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FromParts;

impl Rule for FromParts {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`Complex::new`")?;
        scalar(a[1], dims, "`Complex::new`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        real_only(a).map(|_| Field::Complex)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x, y) = (cx.private(), a[0].operand(), a[1].operand());
        quote!(#p::nalgebra::Complex::new(#x, #y))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, zbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.re(zbar)), Some(g.im(zbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let i = Formula::atom("i");
        crate::notation::infix(&a[0], " + ", &product(&i, &a[1]), crate::notation::SUM)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        if dargs.iter().all(Option::is_none) {
            return Ok(None);
        }
        let [dx, dy] = [dargs[0], dargs[1]].map(|d| d.unwrap_or_else(|| g.lit(0.0)));
        Ok(Some(g.build(FromParts, &[dx, dy])))
    }
}

/// `C = X` taken as a complex value (`Complex::from(x)`, entrywise for a
/// matrix): `dC = dX`, and `Re⟨C̄, dX⟩ = ⟨Re C̄, dX⟩` for a real `dX`, so
/// `X̄ = Re C̄`. The sweep builds it where a real value's adjoint meets a
/// complex one (`diff::fit`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ToComplex;

impl Rule for ToComplex {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        numeric(a[0], "a complex value")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        real_only(a).map(|_| Field::Complex)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let p = cx.private();
        match cx.shape() {
            Shape::Matrix(..) => {
                let x = a[0].receiver();
                quote!(#x.map(#p::nalgebra::Complex::from))
            }
            _ => {
                let x = a[0].operand();
                quote!(#p::nalgebra::Complex::from(#x))
            }
        }
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.re(cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        a[0].clone()
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|d| g.complex(d)))
    }
}

/// `C = Aᴴ B` (nalgebra's `ad_mul`, no adjoint formed): `dC = dAᴴ B + Aᴴ dB`,
/// and `Re tr(C̄ᴴ dAᴴ B) = Re tr(dA (B C̄ᴴ)ᴴ)ᴴ = Re⟨B C̄ᴴ, dA⟩`,
/// `Re tr(C̄ᴴ Aᴴ dB) = Re⟨A C̄, dB⟩`, so `Ā = B C̄ᴴ`, `B̄ = A C̄` (for real
/// matrices, [`TrMul`]'s rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AdMul;

impl Rule for AdMul {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        TrMul.shape(a, dims)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        quote!(#x.ad_mul(#y))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let ch = g.adjoint(cbar);
        vec![Some(g.matmul(b, ch)), Some(g.matmul(a, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&postfix(&a[0], "ᴴ"), &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, AdMul.into(), node, dargs)
    }
}

/// `c = ⟨A, B⟩ = Σ conj(Aᵢⱼ) Bᵢⱼ` (`a.dotc(&b)`): `dc = ⟨dA, B⟩ + ⟨A, dB⟩`,
/// and `Re(conj(c̄) ⟨dA, B⟩) = Re⟨B conj(c̄), dA⟩`, `Re(conj(c̄) ⟨A, dB⟩) =
/// Re⟨A c̄, dB⟩`, so `Ā = B conj(c̄)`, `B̄ = A c̄`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dotc;

impl Rule for Dotc {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        Dot.shape(a, dims)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        quote!(#x.dotc(#y))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let conj = g.conj(cbar);
        vec![Some(g.times(b, conj)), Some(g.times(a, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("⟨{}, {}⟩", a[0].text, a[1].text))
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, Dotc.into(), node, dargs)
    }
}

/// `r = |z|² = conj(z) z` (`norm_sqr()` of a complex scalar):
/// `dr = 2 Re(conj(z) dz)`, so `z̄ = 2 r̄ z`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NormSqr;

impl Rule for NormSqr {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`norm_sqr`")
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(Field::Real)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.norm_sqr())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, rbar: Id) -> Vec<Option<Id>> {
        let z = g.node(node).args[0];
        let two = g.lit(2.0);
        let s = g.times(two, rbar);
        vec![Some(g.times(s, z))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&Formula::atom(format!("|{}|", a[0].text)), "²")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        scalar_tangent(self, g, node, dargs)
    }
}

/// `r = |z|` (`norm()` of a complex scalar): `dr = Re(conj(z) dz)/r`, so
/// `z̄ = r̄ z/r` (undefined at `z = 0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Modulus;

impl Rule for Modulus {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`norm`")
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(Field::Real)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.norm())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, rbar: Id) -> Vec<Option<Id>> {
        let z = g.node(node).args[0];
        let s = g.over(rbar, node);
        vec![Some(g.times(s, z))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("|{}|", a[0].text))
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        scalar_tangent(self, g, node, dargs)
    }
}

/// A scalar or a matrix (not an integer, a `bool` or data): its shape.
fn numeric(s: Shape, what: &str) -> Result<Shape, String> {
    match s {
        Shape::Scalar | Shape::Matrix(..) => Ok(s),
        _ => matrix(s, what).map(|_| s),
    }
}
