//! One LU factorisation per matrix (the user's `a.clone().lu()`, or one made
//! for a matrix larger than 3×3 or under `ln det`), shared by its inverse,
//! determinant, log-determinant and solves and their adjoints. The factor
//! node stands for the matrix itself: its adjoint is the matrix's.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{call, postfix, product, Formula};
use crate::shape::{Dims, Shape};

/// `F = lu(A)`: the factorisation, standing for `A` (so `Ā = F̄`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LuOf;

impl Rule for LuOf {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "LU factorisation")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        quote!(#p::Lu::new(#x))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(cbar)]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        a[0].clone()
    }
    fn tangent(&self, _: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0])
    }
}

/// `c = det A` from the factorisation: `dc = ⟨adj(A)ᵀ, dA⟩`, so `Ā = c̄ adj(A)ᵀ`
/// (`c A⁻ᵀ` where `A` is invertible, and finite where not).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LuDet;

impl Rule for LuDet {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        quote!(#f.determinant())
    }
    /// Up to 3×3 (a user's `a.clone().lu().determinant()`), the cofactors
    /// by their closed form, which has a second derivative.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(g.node(node).args[0]).args[0];
        if g.is_small_square(a) {
            let cof = g.build(Cofactors, &[a]);
            let cof = g.conj(cof);
            return vec![Some(g.times(cof, cbar))];
        }
        det_adjoint(g, node, cbar, LuCofactors.into())
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("det", a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let a = g.node(g.node(node).args[0]).args[0];
        if g.is_small_square(a) {
            return Ok(dargs[0].map(|da| {
                let cof = g.build(Cofactors, &[a]);
                g.dot(cof, da)
            }));
        }
        det_tangent(g, node, dargs, LuCofactors.into())
    }
}

/// `adj(A)ᵀ` from the factorisation (built for the adjoint of [`LuDet`]).
/// Its derivative goes through an SVD of `A` ([`SvdCofactorsTangent`]),
/// exact at singular matrices as this one is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LuCofactors;

impl Rule for LuCofactors {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        match cx.field() {
            Field::Real => quote!(#f.det_gradient()),
            Field::Complex => quote!(#f.det_gradient_complex()),
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives are taken in forward mode")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&call("adj", a), "ᵀ")
    }
    /// `dC = d adj(A)ᵀ[dA]` (the tangent of the factorisation is `dA`), not
    /// through `A⁻¹`, which is unstable near singular matrices.
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let a = g.node(g.node(node).args[0]).args[0];
        Ok(dargs[0].map(|da| {
            let svd = g.build(SvdOf, &[a]);
            g.build(SvdCofactorsTangent, &[svd, da])
        }))
    }
}

/// `c = ln det A` (`a.determinant().ln()`, `matgrad::logdet(&a)`), without
/// forming `det A`: `dc = tr(A⁻¹ dA)`, so `Ā = c̄ A⁻ᵀ`, from the same factorisation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LuLogDet;

impl Rule for LuLogDet {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        quote!(#f.ln_determinant())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        // The inverse the loss may already have (closed form up to 3×3, else
        // from this factorisation).
        let f = g.node(node).args[0];
        let a = g.node(f).args[0];
        let inv = g
            .inverse(a, OnSingular::Nan)
            .expect("a factorised matrix is square");
        let inv_t = g.transpose(inv);
        vec![Some(g.times(inv_t, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("ln det", a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dc = tr(A⁻¹ dA)
        let f = g.node(node).args[0];
        let a = g.node(f).args[0];
        Ok(dargs[0].map(|da| {
            let inv = g
                .inverse(a, OnSingular::Nan)
                .expect("a factorised matrix is square");
            g.build(TrDot, &[inv, da])
        }))
    }
}

/// `C = A⁻¹` from the factorisation: `Ā = −Cᵀ C̄ Cᵀ` (see [`super::Inverse`]).
/// Equality ignores [`OnSingular`], as for `Inverse`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LuInverse(pub OnSingular);

impl Rule for LuInverse {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        self.0
            .finish(quote!(#f.inverse()), quote!(#f.inverse_or_nan()))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(inverse_adjoint(g, node, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&a[0], "⁻¹")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|da| inverse_tangent(g, node, da)))
    }
}

/// `C = lu.solve(&b).unwrap() = A⁻¹ B`: `dC = A⁻¹ (dB − dA C)`, and
/// `⟨C̄, A⁻¹ dB⟩ = ⟨A⁻ᵀ C̄, dB⟩`, `⟨C̄, −A⁻¹ dA C⟩ = ⟨−A⁻ᵀ C̄ Cᵀ, dA⟩`, so
/// `B̄ = A⁻ᵀ C̄` ([`LuTrSolve`], from the same factorisation) and
/// `Ā = −B̄ Cᵀ`. Equality ignores [`OnSingular`], as for `Inverse`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LuSolve(pub OnSingular);

impl Rule for LuSolve {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        solve_shape(a[0], a[1], dims, "`solve`")
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (f, b) = (a[0].receiver(), a[1].operand());
        self.0
            .finish(quote!(#f.solve(#b)), quote!(#f.solve_or_nan(#b)))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let f = g.node(node).args[0];
        let bbar = g.build(LuTrSolve, &[f, cbar]);
        let ct = g.transpose(node);
        let outer = g.matmul(bbar, ct);
        vec![Some(g.neg(outer)), Some(bbar)]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&postfix(&a[0], "⁻¹"), &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let f = g.node(node).args[0];
        let moved = dargs[0].map(|da| g.matmul(da, node));
        let Some(rhs) = difference(g, dargs[1], moved) else {
            return Ok(None);
        };
        Ok(Some(g.build(LuSolve(OnSingular::Nan), &[f, rhs])))
    }
}

/// `X = A⁻ᵀ B` from the factorisation (built for the adjoint of
/// [`LuSolve`]): `dX = A⁻ᵀ (dB − dAᵀ X)`, and `⟨X̄, −A⁻ᵀ dAᵀ X⟩ =
/// ⟨−A⁻¹ X̄, dAᵀ X⟩ = ⟨−X (A⁻¹ X̄)ᵀ, dA⟩`, so `B̄ = A⁻¹ X̄`, `Ā = −X B̄ᵀ`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LuTrSolve;

impl Rule for LuTrSolve {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        solve_shape(a[0], a[1], dims, "a transposed solve")
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (f, b) = (a[0].receiver(), a[1].operand());
        quote!(#f.tr_solve(#b))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let f = g.node(node).args[0];
        let bbar = g.build(LuSolve(OnSingular::Nan), &[f, cbar]);
        let bt = g.transpose(bbar);
        let outer = g.matmul(node, bt);
        vec![Some(g.neg(outer)), Some(bbar)]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&postfix(&a[0], "⁻ᵀ"), &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let f = g.node(node).args[0];
        let moved = dargs[0].map(|da| g.tr_mul(da, node));
        let Some(rhs) = difference(g, dargs[1], moved) else {
            return Ok(None);
        };
        Ok(Some(g.build(LuTrSolve, &[f, rhs])))
    }
}

/// `db − m` with either term possibly zero (`None` if both are).
pub fn difference(g: &mut Graph, db: Option<Id>, m: Option<Id>) -> Option<Id> {
    match (db, m) {
        (None, None) => None,
        (Some(db), None) => Some(db),
        (None, Some(m)) => Some(g.neg(m)),
        (Some(db), Some(m)) => Some(g.minus(db, m)),
    }
}
