//! One Cholesky factorisation per matrix (`a.clone().cholesky().unwrap()`),
//! shared by its `l()`, `solve(&b)`, `inverse()`, `determinant()` and
//! `ln_determinant()` and by their adjoints, which are triangular solves with
//! the factor (an inverse is formed only where the loss asks for one, for the
//! gradient of a determinant, which is one, and for the adjoint of `l()`,
//! `L⁻ᵀ Φ L⁻¹`, where one triangular solve for `L⁻¹` and two blocked
//! products beat two triangular solves with `n` right-hand sides).
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
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, postfix, product, Formula};
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
    /// A temporary nothing else reads is factorised in its own buffer.
    fn reuses(&self, _: usize) -> bool {
        true
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        let maybe = match &a[0] {
            Value::Moved(t, _) => quote!(#t.cholesky()),
            _ => quote!(#p::cholesky(#x)),
        };
        // (Only the user's factorisations exist: `Nan` is never built.)
        self.0.finish(maybe.clone(), quote!(#maybe.unwrap()))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Triangle(Part::FoldOntoLower), &[cbar]))]
    }
    /// The matrix factorised, `sym(A)`.
    fn formula(&self, a: &[Formula]) -> Formula {
        call("sym", a)
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
/// `M = L⁻¹ dS L⁻ᵀ`, `S̄ = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹` ([`LowerCongruence`]).
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
    /// `l_dirty()` (the factorisation's own matrix, what is above the diagonal
    /// left as it is) where every reader reads only the lower triangle.
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let f = a[0].receiver();
        if cx.borrows_lower_triangle() {
            quote!(#f.l_dirty())
        } else {
            quote!(#f.l())
        }
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let l = node;
        if let Op::DiagonalScatter(_) = g.op(cbar) {
            let d = g.node(cbar).args[0];
            let diag = g.build(Diagonal, &[l]);
            let prod = g.component_mul(diag, d);
            let half = g.lit(0.5);
            let p = g.times(prod, half);
            return vec![Some(g.build(LowerCongruence { diagonal: true }, &[l, p]))];
        }
        let ltl = g.tr_mul(l, cbar);
        let phi = g.build(Triangle(Part::LowerHalfDiagonal), &[ltl]);
        vec![Some(
            g.build(LowerCongruence { diagonal: false }, &[l, phi]),
        )]
    }
    /// `L(S)`, the Cholesky factor of `S`.
    fn formula(&self, a: &[Formula]) -> Formula {
        call("L", a)
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
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (f, b) = (a[0].receiver(), a[1].operand());
        quote!(#f.solve(#b))
    }
    /// Where `C̄ = c B` (as for `½ yᵀ S⁻¹ y`), `B̄ = S⁻¹ C̄ = c C`: no second solve.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [f, b] = g.args2(node);
        let bbar = match (g.op(cbar), &g.node(cbar).args[..]) {
            _ if cbar == b => node,
            (Op::Scale(_), &[m, c]) if m == b => g.times(node, c),
            _ => g.build(CholeskySolve, &[f, cbar]),
        };
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
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
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
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
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
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
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

/// `F = L⁻ᵀ M L⁻¹` (or, `diagonal`, `L⁻ᵀ Diag(p) L⁻¹`) for the lower
/// triangular `L` (built for the adjoint of [`CholeskyL`]): `L⁻¹` by one
/// triangular solve, then two products, which nalgebra blocks.
///
/// Tangent: with `X = L⁻¹`, `dX = −X dL X`, so `dF = Xᵀ dM X − Xᵀ dLᵀ F −
/// F dL X`, that is `F(L, dM) − L⁻ᵀ (dLᵀ F) − (L⁻ᵀ (dLᵀ Fᵀ))ᵀ`: triangular
/// solves with `L`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LowerCongruence {
    pub diagonal: bool,
}

impl Rule for LowerCongruence {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "a congruence")
    }
    /// `L⁻¹` never reads above the diagonal of `L`.
    fn reads_lower_triangle(&self, arg: usize) -> bool {
        arg == 0
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, l, m) = (cx.private(), a[0].operand(), a[1].operand());
        if self.diagonal {
            quote!(#p::lower_congruence_diagonal(#l, #m))
        } else {
            quote!(#p::lower_congruence(#l, #m))
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("third derivatives of `cholesky` are not supported")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let m = if self.diagonal {
            call("Diag", &a[1..])
        } else {
            a[1].clone()
        };
        product(&product(&postfix(&a[0], "⁻ᵀ"), &m), &postfix(&a[0], "⁻¹"))
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let l = g.node(node).args[0];
        let dm = dargs[1].map(|dm| g.build(self.clone(), &[l, dm]));
        let dl = dargs[0].map(|dl| {
            let tr = SolveTriangular::unchecked(true, true);
            let left_rhs = g.tr_mul(dl, node);
            let left = g.build(tr.clone(), &[l, left_rhs]);
            let right = if self.diagonal {
                g.transpose(left)
            } else {
                let ft = g.transpose(node);
                let rhs = g.tr_mul(dl, ft);
                let solved = g.build(tr, &[l, rhs]);
                g.transpose(solved)
            };
            g.plus(left, right)
        });
        Ok(difference(g, dm, dl))
    }
}
