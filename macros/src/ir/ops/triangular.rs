//! Triangles: nalgebra's triangular solves (`a.solve_lower_triangular(&b)`
//! and kin) read one triangle of their matrix, and its `cholesky()` reads
//! the lower one. So the gradient of a function written with them is zero in
//! the other triangle, and these rules put each adjoint onto the triangle read.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// Which linear map of a matrix onto a triangle [`Triangle`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// `tril(M)`, the lower triangle with the diagonal.
    Lower,
    /// `triu(M)`, the upper triangle with the diagonal.
    Upper,
    /// `Φ(M)`: the lower triangle with the diagonal halved.
    LowerHalfDiagonal,
    /// `fold(G)`: `G_ij + G_ji` below the diagonal, `G_ii` on it, zeros above.
    FoldOntoLower,
    /// `sym(M)`: the lower triangle mirrored onto the upper one.
    SymmetricFromLower,
}

impl Part {
    /// The adjoint map: `⟨Y, P(X)⟩ = ⟨P*(Y), X⟩`. `tril`, `triu` and `Φ` keep
    /// or scale entries in place, so they are their own adjoints. For `sym`,
    /// `⟨Y, sym(X)⟩ = Σ_{i>j} (Y_ij + Y_ji) X_ij + Σ_i Y_ii X_ii = ⟨fold(Y), X⟩`,
    /// so `fold` and `sym` are each other's.
    fn adjoint(self) -> Part {
        match self {
            Part::FoldOntoLower => Part::SymmetricFromLower,
            Part::SymmetricFromLower => Part::FoldOntoLower,
            other => other,
        }
    }
}

/// `C = P(A)` for one of the linear maps [`Part`]: `dC = P(dA)`, so
/// `Ā = P*(C̄)` (see [`Part::adjoint`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Triangle(pub Part);

impl Rule for Triangle {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        match self.0 {
            Part::Lower | Part::Upper | Part::LowerHalfDiagonal => {
                matrix(a[0], "a triangle")?;
                Ok(a[0])
            }
            Part::FoldOntoLower | Part::SymmetricFromLower => square(a[0], dims, "a triangle"),
        }
    }
    /// `fold` of a matrix nothing reads after it is done in its buffer.
    fn reuses(&self, arg: usize) -> bool {
        arg == 0 && self.0 == Part::FoldOntoLower
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x, m) = (cx.private(), a[0].operand(), a[0].receiver());
        match self.0 {
            Part::Lower => quote!(#m.lower_triangle()),
            Part::Upper => quote!(#m.upper_triangle()),
            Part::LowerHalfDiagonal => quote!(#p::lower_half_diagonal(#x)),
            Part::FoldOntoLower if matches!(a[0], Value::Moved(..)) => {
                quote!(#p::fold_onto_lower_in_place(#x))
            }
            Part::FoldOntoLower => quote!(#p::fold_onto_lower(#x)),
            Part::SymmetricFromLower => quote!(#p::symmetric_from_lower(#x)),
        }
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Triangle(self.0.adjoint()), &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let name = match self.0 {
            Part::Lower => "tril",
            Part::Upper => "triu",
            Part::LowerHalfDiagonal => "Φ",
            Part::FoldOntoLower => "fold",
            Part::SymmetricFromLower => "sym",
        };
        call(name, a)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, self.clone(), dargs)
    }
}

/// `C = T⁻¹ B` (`a.solve_lower_triangular(&b)`, `solve_upper_triangular`)
/// or, `transposed`, `C = T⁻ᵀ B` (`tr_solve_…`), where `T` is the triangle of
/// `A` that nalgebra reads (`lower`: `tril(A)`, else `triu(A)`). Equality
/// ignores [`OnSingular`], as for [`Inverse`].
///
/// Plain: `dC = −T⁻¹ dT C + T⁻¹ dB` with `dT = tri(dA)`, and
/// `⟨C̄, −T⁻¹ dT C⟩ = ⟨−T⁻ᵀ C̄ Cᵀ, dT⟩`, so with `B̄ = T⁻ᵀ C̄` (one solve with
/// the transposed triangle): `Ā = tri(−B̄ Cᵀ)`.
///
/// Transposed: `dC = −T⁻ᵀ dTᵀ C + T⁻ᵀ dB`, and `⟨C̄, −T⁻ᵀ dTᵀ C⟩ =
/// ⟨−T⁻¹ C̄, dTᵀ C⟩ = ⟨−C (T⁻¹ C̄)ᵀ, dT⟩`, so with `B̄ = T⁻¹ C̄`:
/// `Ā = tri(−C B̄ᵀ)`.
///
/// Tangent: `dC = T⁻¹ (dB − tri(dA) C)` (`T⁻ᵀ (dB − tri(dA)ᵀ C)`), one more
/// solve with the same triangle.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SolveTriangular {
    pub lower: bool,
    pub transposed: bool,
    pub on_singular: OnSingular,
}

impl SolveTriangular {
    /// The solve the derivative code needs: no check (the user's solve with
    /// the same triangle succeeded), ∞ or NaN where a pivot is zero.
    pub fn unchecked(lower: bool, transposed: bool) -> SolveTriangular {
        SolveTriangular {
            lower,
            transposed,
            on_singular: OnSingular::Nan,
        }
    }

    /// nalgebra's name of the method.
    pub fn method(&self) -> String {
        format!(
            "{}solve_{}_triangular",
            if self.transposed { "tr_" } else { "" },
            if self.lower { "lower" } else { "upper" }
        )
    }

    fn part(&self) -> Part {
        if self.lower {
            Part::Lower
        } else {
            Part::Upper
        }
    }
}

/// The shape of `A⁻¹ B` for a square `A`: that of `B`, whose rows are `A`'s.
pub fn solve_shape(a: Shape, b: Shape, dims: &mut Dims, what: &str) -> Result<Shape, String> {
    let s = square(a, dims, what)?;
    let (rows, _) = matrix(b, what)?;
    dims.unify(s.rows(), rows).map_err(|()| {
        format!(
            "{what} needs a right-hand side with as many rows as the matrix, found {} and {}",
            dims.show(a),
            dims.show(b)
        )
    })?;
    Ok(b)
}

impl Rule for SolveTriangular {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        solve_shape(a[0], a[1], dims, &format!("`{}`", self.method()))
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (m, b) = (a[0].receiver(), a[1].operand());
        let method = proc_macro2::Ident::new(&self.method(), proc_macro2::Span::call_site());
        let unchecked = proc_macro2::Ident::new(
            &format!("{}_unchecked", self.method()),
            proc_macro2::Span::call_site(),
        );
        self.on_singular
            .finish(quote!(#m.#method(#b)), quote!(#m.#unchecked(#b)))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let bbar = g.build(
            SolveTriangular::unchecked(self.lower, !self.transposed),
            &[a, cbar],
        );
        let outer = if self.transposed {
            let bt = g.transpose(bbar);
            g.matmul(node, bt)
        } else {
            let ct = g.transpose(node);
            g.matmul(bbar, ct)
        };
        let minus = g.neg(outer);
        let abar = g.build(Triangle(self.part()), &[minus]);
        vec![Some(abar), Some(bbar)]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let t = call(if self.lower { "tril" } else { "triu" }, &a[..1]);
        let inv = if self.transposed { "⁻ᵀ" } else { "⁻¹" };
        crate::notation::product(&crate::notation::postfix(&t, inv), &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let a = g.node(node).args[0];
        let moved = dargs[0].map(|da| {
            let t = g.build(Triangle(self.part()), &[da]);
            if self.transposed {
                g.tr_mul(t, node)
            } else {
                g.matmul(t, node)
            }
        });
        let Some(rhs) = difference(g, dargs[1], moved) else {
            return Ok(None);
        };
        Ok(Some(g.build(
            SolveTriangular::unchecked(self.lower, self.transposed),
            &[a, rhs],
        )))
    }
}
