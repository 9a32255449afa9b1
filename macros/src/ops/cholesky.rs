//! One Cholesky factorisation per matrix (`a.clone().cholesky().unwrap()`),
//! shared by its `l()`, `solve(&b)`, `inverse()`, `determinant()` and
//! `ln_determinant()` and by their adjoints, which are triangular solves with
//! the factor (no inverse is formed except where the loss asks for one, or
//! for the gradient of a determinant, which is one).
//!
//! nalgebra's `cholesky()` reads only the lower triangle of `A`: it factorises
//! `S = sym(A)`, the lower triangle mirrored, `S = L Lᵀ`. The factor node
//! [`CholeskyOf`] stands for `S`: the rules of the operations on it give `S̄`
//! (a gradient with respect to `S` as if its entries were independent), and
//! the factor's own rule puts `S̄` onto the triangle read,
//! `Ā = fold(S̄)` (`S̄_ij + S̄_ji` below the diagonal, `S̄_ii` on it, zeros
//! above): entry by entry `∂f/∂A_ij` of the function as written.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::emit::{EmitCx, Value};
use crate::formula::{call, postfix, product, Formula};
use crate::ir::{Graph, Id};
use crate::shape::{Dims, Shape};

/// `F = chol(A)`, the factorisation of `S = sym(A)`, standing for `S`:
/// `dS = sym(dA)`, and `⟨S̄, sym(dA)⟩ = ⟨fold(S̄), dA⟩`, so `Ā = fold(S̄)`.
/// A matrix that is not positive definite gives `None`, which the user's
/// `.unwrap()` or `.expect(…)` turns into the same panic here.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CholeskyOf(pub OnSingular);

impl Rule for CholeskyOf {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "`cholesky`")
    }
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        let maybe = quote!(#p::cholesky(#x));
        // (Only the user's factorisations exist: `Nan` is never built.)
        self.0.finish(maybe.clone(), quote!(#maybe.unwrap()))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Triangle(Part::FoldOntoLower), &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        a[0].clone()
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Triangle(Part::SymmetricFromLower), dargs)
    }
}

/// `L = chol.l()`, `S = L Lᵀ` (Murray 2016, "Differentiation of the Cholesky
/// decomposition"). `dS = dL Lᵀ + L dLᵀ`, so `L⁻¹ dS L⁻ᵀ = L⁻¹ dL + (L⁻¹ dL)ᵀ`
/// with `L⁻¹ dL` lower triangular: `L⁻¹ dL = Φ(L⁻¹ dS L⁻ᵀ)`, `Φ` the lower
/// triangle with the diagonal halved, and `dL = L Φ(L⁻¹ dS L⁻ᵀ)` (the tangent).
/// `Φ` is self-adjoint, so `⟨L̄, L Φ(M)⟩ = ⟨Φ(Lᵀ L̄), M⟩` and, with
/// `M = L⁻¹ dS L⁻ᵀ`, `S̄ = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹`: two triangular solves with `L`.
///
/// Where `L̄` is diagonal (`l().diagonal()` read, as in `Σ ln L_ii`), `Lᵀ L̄`
/// has no entries below the diagonal and `Φ(Lᵀ L̄) = ½ Diag(diag(L) ∘ d)`:
/// no product is formed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CholeskyL;

impl Rule for CholeskyL {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        quote!(#f.l())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let l = node;
        let phi = match g.op(cbar).clone() {
            Op::DiagonalScatter(scatter) => {
                let d = g.node(cbar).args[0];
                let diag = g.build(Diagonal, &[l]);
                let prod = g.component_mul(diag, d);
                let half = g.lit(0.5);
                let scaled = g.times(prod, half);
                g.build(scatter, &[scaled])
            }
            _ => {
                let ltl = g.tr_mul(l, cbar);
                g.build(Triangle(Part::LowerHalfDiagonal), &[ltl])
            }
        };
        // L⁻ᵀ Φ L⁻¹ = (L⁻ᵀ (L⁻ᵀ Φ)ᵀ)ᵀ.
        let left = g.build(SolveTriangular::unchecked(true, true), &[l, phi]);
        let left_t = g.transpose(left);
        let both = g.build(SolveTriangular::unchecked(true, true), &[l, left_t]);
        vec![Some(g.transpose(both))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("chol", a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let l = node;
        Ok(dargs[0].map(|ds| {
            // L⁻¹ dS L⁻ᵀ = (L⁻¹ (L⁻¹ dS)ᵀ)ᵀ.
            let left = g.build(SolveTriangular::unchecked(true, false), &[l, ds]);
            let left_t = g.transpose(left);
            let both = g.build(SolveTriangular::unchecked(true, false), &[l, left_t]);
            let m = g.transpose(both);
            let phi = g.build(Triangle(Part::LowerHalfDiagonal), &[m]);
            g.matmul(l, phi)
        }))
    }
}

/// `C = chol.solve(&b) = S⁻¹ B` (two triangular solves with `L`):
/// `dC = S⁻¹ (dB − dS C)`, and `⟨C̄, S⁻¹ dB⟩ = ⟨S⁻¹ C̄, dB⟩` (`S` is
/// symmetric), `⟨C̄, −S⁻¹ dS C⟩ = ⟨−S⁻¹ C̄ Cᵀ, dS⟩`, so `B̄ = S⁻¹ C̄`, by the
/// factor's own solve, and `S̄ = −B̄ Cᵀ`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CholeskySolve;

impl Rule for CholeskySolve {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        solve_shape(a[0], a[1], dims, "`solve`")
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let (f, b) = (a[0].receiver(), a[1].operand());
        quote!(#f.solve(#b))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let f = g.node(node).args[0];
        let bbar = g.build(CholeskySolve, &[f, cbar]);
        let ct = g.transpose(node);
        let outer = g.matmul(bbar, ct);
        vec![Some(g.neg(outer)), Some(bbar)]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&postfix(&a[0], "⁻¹"), &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let f = g.node(node).args[0];
        let moved = dargs[0].map(|ds| g.matmul(ds, node));
        let Some(rhs) = difference(g, dargs[1], moved) else {
            return Ok(None);
        };
        Ok(Some(g.build(CholeskySolve, &[f, rhs])))
    }
}

/// `C = chol.inverse() = S⁻¹`: `S̄ = −Cᵀ C̄ Cᵀ`, `dC = −C dS C` (as for
/// [`Inverse`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CholeskyInverse;

impl Rule for CholeskyInverse {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        quote!(#f.inverse())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(inverse_adjoint(g, node, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&a[0], "⁻¹")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|ds| inverse_tangent(g, node, ds)))
    }
}

/// `c = chol.determinant() = det S = Π L_ii²`: `dc = c tr(S⁻¹ dS)`, so
/// `S̄ = c̄ c S⁻¹` (`S` symmetric), the inverse from the factor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CholeskyDet;

impl Rule for CholeskyDet {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        quote!(#f.determinant())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let f = g.node(node).args[0];
        let inv = g.build(CholeskyInverse, &[f]);
        let scale = g.times(node, cbar);
        vec![Some(g.times(inv, scale))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("det", a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let f = g.node(node).args[0];
        Ok(dargs[0].map(|ds| {
            let inv = g.build(CholeskyInverse, &[f]);
            let tr = g.build(TrDot, &[inv, ds]);
            g.times(node, tr)
        }))
    }
}

/// `c = chol.ln_determinant() = ln det S = Σ ln L_ii²`: `dc = tr(S⁻¹ dS)`, so
/// `S̄ = c̄ S⁻¹`, the inverse from the factor (two triangular solves).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CholeskyLnDet;

impl Rule for CholeskyLnDet {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        quote!(#f.ln_determinant())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let f = g.node(node).args[0];
        let inv = g.build(CholeskyInverse, &[f]);
        vec![Some(g.times(inv, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("ln det", a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let f = g.node(node).args[0];
        Ok(dargs[0].map(|ds| {
            let inv = g.build(CholeskyInverse, &[f]);
            g.build(TrDot, &[inv, ds])
        }))
    }
}
