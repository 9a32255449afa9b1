//! Linear algebra: products, transposes, traces, inner products, determinants
//! and inverses.

use std::hash::{Hash, Hasher};

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{call, postfix, product, Formula};
use crate::shape::{Dim, Dims, Shape};

/// The shape of `A B`, with nalgebra's type-level result: rows of `A`, columns of `B`.
fn product_shape(a: Shape, b: Shape, dims: &mut Dims, what: &str) -> Result<Shape, String> {
    let (r, k1) = matrix(a, what)?;
    let (k2, c) = matrix(b, what)?;
    dims.unify(k1, k2).map_err(|()| {
        format!(
            "cannot multiply {} by {}: the inner dimensions differ",
            dims.show(a),
            dims.show(b)
        )
    })?;
    Ok(Shape::Matrix(r, c))
}

/// `C = A B`: `dC = dA B + A dB`, and `⟨C̄, dA B⟩ = ⟨C̄ Bᵀ, dA⟩`,
/// `⟨C̄, A dB⟩ = ⟨Aᵀ C̄, dB⟩`, so `Ā = C̄ Bᵀ`, `B̄ = Aᵀ C̄`. For complex
/// matrices `Re⟨C̄, dA B⟩ = Re tr(C̄ᴴ dA B) = Re⟨C̄ Bᴴ, dA⟩`, so `Ā = C̄ Bᴴ`,
/// `B̄ = Aᴴ C̄` (the same for real ones).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MatMul;

/// How a product's second factor is read: as it is, or transposed (`A Bᵀ`
/// with `a` holding `B`, its transpose never formed).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    AsIs,
    Transposed,
}

impl MatMul {
    /// `acc + α A B` on the buffer of `acc` (`gemm` with β = 1).
    pub fn emit_add(
        &self,
        cx: &dyn EmitCx,
        acc: &Value,
        alpha: &TokenStream,
        a: &[Value],
        second: Factor,
    ) -> TokenStream {
        let (p, m) = (cx.private(), acc.receiver());
        let (x, y) = (a[0].operand(), a[1].operand());
        match second {
            Factor::AsIs => quote!(#p::mul_add(#m, #alpha, #x, #y)),
            Factor::Transposed => quote!(#p::mul_tr_add(#m, #alpha, #x, #y)),
        }
    }

    /// `α A B` (`gemm` with α and β = 0).
    pub fn emit_scaled(
        &self,
        cx: &dyn EmitCx,
        alpha: &Value,
        a: &[Value],
        second: Factor,
    ) -> TokenStream {
        let (p, alpha) = (cx.private(), alpha.operand());
        let (x, y) = (a[0].operand(), a[1].operand());
        match second {
            Factor::AsIs => quote!(#p::mul_scaled(#alpha, #x, #y)),
            Factor::Transposed => quote!(#p::mul_tr_scaled(#alpha, #x, #y)),
        }
    }

    /// `A Bᵀ` for `a = [A, B]`: for fixed sizes the transpose formed inside
    /// the expression (on the stack); for dynamic ones `__private::mul_tr`,
    /// which hands `gemm` a transposed view where it blocks.
    pub fn emit_transposed(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].operand(), a[1].receiver());
        match cx.shape().has_dynamic() || cx.arg_shape(0).has_dynamic() {
            true => {
                let (p, y) = (cx.private(), a[1].operand());
                quote!(#p::mul_tr(#x, #y))
            }
            false => quote!(#x * #y.transpose()),
        }
    }
}

impl Rule for MatMul {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        product_shape(a[0], a[1], dims, "`*`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    /// `a * b`; a product with a dynamic size goes through `__private::mul`,
    /// which is `a * b` unless the `parallel` feature splits it across
    /// threads (`mul_formed` with the expression forming `a`, where the plan
    /// writes it inside the product, which it does only for dynamic sizes).
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        if cx.forms_first_factor() {
            let (p, x, y) = (cx.private(), a[0].operand(), borrowed(&a[1]));
            return quote!(#p::mul_formed(|| #x, #y));
        }
        if dynamic_product(cx) {
            let (p, x, y) = (cx.private(), borrowed(&a[0]), borrowed(&a[1]));
            return quote!(#p::mul(#x, #y));
        }
        let (x, y) = (a[0].operand(), a[1].operand());
        quote!(#x * #y)
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let bh = g.adjoint(b);
        vec![Some(g.matmul(cbar, bh)), Some(g.ad_mul(a, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[0], &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, MatMul.into(), node, dargs)
    }
}

/// `C = Aᵀ B` (nalgebra's `tr_mul`, no transpose formed): `dC = dAᵀ B + Aᵀ dB`,
/// and `⟨C̄, dAᵀ B⟩ = tr(C̄ᵀ dAᵀ B) = ⟨B C̄ᵀ, dA⟩`, so `Ā = B C̄ᵀ`, `B̄ = A C̄`.
/// For complex matrices (a transpose, not conjugated) `Re tr(C̄ᴴ dAᵀ B) =
/// Re tr(dA (B C̄ᴴ)ᵀ) = Re⟨conj(B C̄ᴴ), dA⟩`, so `Ā = conj(B C̄ᴴ)`,
/// `B̄ = conj(A) C̄`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrMul;

impl TrMul {
    /// `acc + α Aᵀ B` on the buffer of `acc` (`gemm` with β = 1, on a
    /// transposed view where nalgebra blocks it).
    pub fn emit_add(
        &self,
        cx: &dyn EmitCx,
        acc: &Value,
        alpha: &TokenStream,
        a: &[Value],
    ) -> TokenStream {
        let (p, m) = (cx.private(), acc.receiver());
        let (x, y) = (a[0].operand(), a[1].operand());
        quote!(#p::tr_mul_add(#m, #alpha, #x, #y))
    }

    /// `α Aᵀ B` (`gemv_tr` for a vector, else `gemm` on a transposed view
    /// where nalgebra blocks it; α folded in, β = 0).
    pub fn emit_scaled(&self, cx: &dyn EmitCx, alpha: &Value, a: &[Value]) -> TokenStream {
        let (p, alpha) = (cx.private(), alpha.operand());
        let (x, y) = (a[0].operand(), a[1].operand());
        match cx.shape().cols() {
            Dim::Fixed(1) => quote!(#p::tr_mul_vector_scaled(#alpha, #x, #y)),
            _ => quote!(#p::tr_mul_scaled(#alpha, #x, #y)),
        }
    }
}

impl Rule for TrMul {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        product_shape(a[0].transposed(), a[1], dims, "`tr_mul`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    /// `tr_mul` for fixed sizes (on the stack). For a dynamic matrix, nalgebra
    /// 0.35's `tr_mul` takes one dot product per entry, and `__private::tr_mul`
    /// hands a transposed view to the blocked `gemm` instead; for a dynamic
    /// vector it is `tr_mul` (nalgebra's `gemv` of the transpose) unless the
    /// `parallel` feature splits it across threads.
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        let p = cx.private();
        match (cx.shape().rows(), cx.shape().cols()) {
            (_, Dim::Fixed(1)) if !dynamic_product(cx) => quote!(#x.tr_mul(#y)),
            (Dim::Fixed(_), Dim::Fixed(_)) => quote!(#x.tr_mul(#y)),
            _ => {
                let x = borrowed(&a[0]);
                quote!(#p::tr_mul(#x, #y))
            }
        }
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let ch = g.adjoint(cbar);
        let abar = g.matmul(b, ch);
        let abar = g.conj(abar);
        let a = g.conj(a);
        vec![Some(abar), Some(g.matmul(a, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&postfix(&a[0], "ᵀ"), &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, TrMul.into(), node, dargs)
    }
}

/// Whether a product (`A B` or `Aᵀ B`) has a dynamic size: its result's or
/// its first factor's.
fn dynamic_product(cx: &dyn EmitCx) -> bool {
    let (out, a) = (cx.shape(), cx.arg_shape(0));
    [out.rows(), out.cols(), a.rows(), a.cols()]
        .iter()
        .any(|d| matches!(d, Dim::Dynamic(_)))
}

/// A matrix argument as a reference, also when it is moved into its reader.
fn borrowed(v: &Value) -> TokenStream {
    match v {
        Value::Moved(t, _) => quote!(&#t),
        _ => v.operand().clone(),
    }
}

/// `C = Aᵀ`: `dC = dAᵀ`, so `Ā = C̄ᵀ`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transpose;

impl Rule for Transpose {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`transpose`")?;
        Ok(a[0].transposed())
    }
    /// `Re⟨C̄, dAᵀ⟩ = Re⟨C̄ᵀ, dA⟩`: the same rule for complex matrices.
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.transpose())
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.transpose(cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&a[0], "ᵀ")
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Transpose, dargs)
    }
}

/// `c = tr A`: `dc = tr dA = ⟨I, dA⟩`, so `Ā = c̄ I`; for a complex `A`,
/// `Re(conj(c̄) tr dA) = Re⟨c̄ I, dA⟩`, the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Trace;

impl Rule for Trace {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "`trace`")?;
        Ok(Shape::Scalar)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    /// nalgebra's `trace` needs a square type: a product of a fixed and a
    /// dynamic factor (`Matrix<T, Dyn, Const<3>>`) goes through a helper.
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let s = cx.arg_shape(0);
        let mixed = matches!(
            (s.rows(), s.cols()),
            (Dim::Fixed(_), Dim::Dynamic(_)) | (Dim::Dynamic(_), Dim::Fixed(_))
        );
        if mixed {
            let (p, x) = (cx.private(), a[0].operand());
            return quote!(#p::trace(#x));
        }
        let x = a[0].receiver();
        quote!(#x.trace())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let shape = g.shape(a);
        vec![Some(g.build(ScaledIdentity(shape), &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("tr", a)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Trace, dargs)
    }
}

/// `c = tr(A B)` without forming `A B` (nalgebra's `tr_dot`, `⟨Aᵀ, B⟩`):
/// `dc = tr(dA B) + tr(A dB) = ⟨Bᵀ, dA⟩ + ⟨Aᵀ, dB⟩`, so `Ā = c̄ Bᵀ`, `B̄ = c̄ Aᵀ`;
/// for complex ones `Re(conj(c̄) tr(dA B)) = Re⟨c̄ Bᴴ, dA⟩`, so `Ā = c̄ Bᴴ`,
/// `B̄ = c̄ Aᴴ`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrDot;

impl Rule for TrDot {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        let (r, c) = matrix(a[0], "`tr_dot`")?;
        let (r2, c2) = matrix(a[1], "`tr_dot`")?;
        if dims.unify(r, c2).is_err() || dims.unify(c, r2).is_err() {
            return Err(format!(
                "`a.tr_dot(&b)` computes tr(a b) and needs `b` of the shape of `a` transposed, found {} and {}",
                dims.show(a[0]),
                dims.show(a[1])
            ));
        }
        Ok(Shape::Scalar)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        quote!(#x.tr_dot(#y))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let (ah, bh) = (g.adjoint(a), g.adjoint(b));
        vec![Some(g.times(bh, cbar)), Some(g.times(ah, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("tr", &[product(&a[0], &a[1])])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, TrDot.into(), node, dargs)
    }
}

/// `c = ⟨A, B⟩` (`dot`): `dc = ⟨dA, B⟩ + ⟨A, dB⟩`, so `Ā = c̄ B`, `B̄ = c̄ A`.
/// nalgebra's `dot` of complex matrices conjugates neither (`Σ Aᵢⱼ Bᵢⱼ`):
/// `Re(conj(c̄) Σ dAᵢⱼ Bᵢⱼ) = Re⟨c̄ conj(B), dA⟩`, so `Ā = c̄ conj(B)`,
/// `B̄ = c̄ conj(A)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dot;

impl Rule for Dot {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`dot`")?;
        same_shape(a[0], a[1], dims, "`dot`")?;
        Ok(Shape::Scalar)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        quote!(#x.dot(#y))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let (a, b) = (g.conj(a), g.conj(b));
        vec![Some(g.times(b, cbar)), Some(g.times(a, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("⟨{}, {}⟩", a[0].text, a[1].text))
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, Dot.into(), node, dargs)
    }
}

/// `c = det A` of a matrix of at most 3×3 (larger ones go through
/// [`super::LuDet`]): `dc = tr(adj(A) dA) = ⟨adj(A)ᵀ, dA⟩`, so `Ā = c̄ adj(A)ᵀ`,
/// the cofactor matrix — `c A⁻ᵀ` where `A` is invertible, and finite where not.
/// For a complex `A`, `Re(conj(c̄) ⟨adj(A)ᵀ, dA⟩) = Re⟨c̄ conj(adj(A)ᵀ), dA⟩`,
/// so `Ā = c̄ conj(adj(A)ᵀ)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Determinant;

impl Rule for Determinant {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "`determinant`")?;
        Ok(Shape::Scalar)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.determinant())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        det_adjoint(g, node, cbar, Cofactors.into())
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("det", a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        det_tangent(g, node, dargs, Cofactors.into())
    }
}

/// `Ā = c̄ conj(adj(A)ᵀ)` for `c = det A`, the cofactor matrix `adj(A)ᵀ`
/// computed by `cofactors` from the determinant's argument (the matrix, or its LU).
pub fn det_adjoint(g: &mut Graph, det: Id, cbar: Id, cofactors: Op) -> Vec<Option<Id>> {
    let a = g.node(det).args[0];
    let cof = g.build(cofactors, &[a]);
    let cof = g.conj(cof);
    vec![Some(g.times(cof, cbar))]
}

/// `dc = ⟨adj(A)ᵀ, dA⟩` for `c = det A`, as in [`det_adjoint`].
pub fn det_tangent(
    g: &mut Graph,
    det: Id,
    dargs: &[Option<Id>],
    cofactors: Op,
) -> Result<Option<Id>, ()> {
    let a = g.node(det).args[0];
    Ok(dargs[0].map(|da| {
        let cof = g.build(cofactors, &[a]);
        g.dot(cof, da)
    }))
}

/// `adj(A)ᵀ`, the cofactor matrix of a matrix of at most 3×3, by its closed
/// form (built for the adjoint of [`Determinant`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cofactors;

impl Rule for Cofactors {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "cofactors")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        quote!(#p::small_det_gradient(#x))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives of `determinant` are not supported yet")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&call("adj", a), "ᵀ")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| g.build(CofactorsTangent, &[a, da])))
    }
}

/// The derivative of [`Cofactors`] in a direction (for second derivatives of
/// `det` up to 3×3), by the closed forms: exact at singular matrices.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CofactorsTangent;

impl Rule for CofactorsTangent {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x, dx) = (cx.private(), a[0].operand(), a[1].operand());
        quote!(#p::small_det_gradient_tangent(#x, #dx))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("third derivatives of `determinant` are not supported")
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("d adjᵀ", a)
    }
}

/// What a failed inversion does: panic as the user's `.unwrap()` or
/// `.expect(msg)` would, or (for an inverse only the differentiator needs, as
/// for `ln det` at a singular matrix, where the gradient is undefined) give NaN.
/// It does not take part in equality, so that an inverse the differentiator
/// needs is the same node as the user's inverse of the same matrix.
#[derive(Clone, Debug)]
pub enum OnSingular {
    Unwrap,
    Expect(String),
    Nan,
}

/// `C = A⁻¹` (`try_inverse().unwrap()`) of a matrix of at most 3×3 (larger
/// ones go through [`super::LuInverse`]): `dC = −A⁻¹ dA A⁻¹`, and
/// `⟨C̄, −C dA C⟩ = ⟨−Cᵀ C̄ Cᵀ, dA⟩`, so `Ā = −Cᵀ C̄ Cᵀ`; for a complex `A`,
/// `Re tr(C̄ᴴ C dA C) = Re⟨Cᴴ C̄ Cᴴ, dA⟩`, so `Ā = −Cᴴ C̄ Cᴴ`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Inverse(pub OnSingular);

impl OnSingular {
    /// The inverse from `maybe` (an `Option`) as the user wrote it, or `or_nan`.
    pub fn finish(&self, maybe: TokenStream, or_nan: TokenStream) -> TokenStream {
        match self {
            OnSingular::Unwrap => quote!(#maybe.unwrap()),
            OnSingular::Expect(msg) => quote!(#maybe.expect(#msg)),
            OnSingular::Nan => or_nan,
        }
    }
}

/// `dC = −C dA C` for `C = A⁻¹`.
pub fn inverse_tangent(g: &mut Graph, c: Id, da: Id) -> Id {
    let left = g.matmul(c, da);
    let prod = g.matmul(left, c);
    g.neg(prod)
}

/// `Ā = −Cᴴ C̄ Cᴴ` for `C = A⁻¹`; for a dynamic `C̄ = Xᴴ` (as from
/// `tr(C X)`), the same `−(C X C)ᴴ` with one transposed copy instead of two.
/// (Fixed-size transposes cost nothing, and the first form measures faster.)
pub fn inverse_adjoint(g: &mut Graph, c: Id, cbar: Id) -> Id {
    if let (Some(x), true) = (adjoint_of(g, cbar), g.shape(c).has_dynamic()) {
        let cx = g.matmul(c, x);
        let cxc = g.matmul(cx, c);
        let t = g.adjoint(cxc);
        return g.neg(t);
    }
    let left = g.ad_mul(c, cbar);
    let ch = g.adjoint(c);
    let prod = g.matmul(left, ch);
    g.neg(prod)
}

/// `X` if `m = Xᴴ` (a transpose of a real `X`).
pub fn adjoint_of(g: &Graph, m: Id) -> Option<Id> {
    let x = *g.node(m).args.first()?;
    match g.op(m) {
        Op::Transpose(_) if !g.is_complex(x) => Some(x),
        Op::Adjoint(_) => Some(x),
        _ => None,
    }
}

impl PartialEq for OnSingular {
    fn eq(&self, _: &OnSingular) -> bool {
        true
    }
}
impl Eq for OnSingular {}
impl Hash for OnSingular {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl Rule for Inverse {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        square(a[0], dims, "`try_inverse`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let p = cx.private();
        let x = a[0].operand();
        self.0
            .finish(quote!(#p::inverse(#x)), quote!(#p::inverse_or_nan(#x)))
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

/// `s I` of `shape`, with one size expression where both sizes are the same
/// size of the same kind (the usual square identity).
pub(crate) fn emit_scaled_identity(cx: &dyn EmitCx, shape: Shape, s: &TokenStream) -> TokenStream {
    let p = cx.private();
    let (rows, cols) = (shape.rows(), shape.cols());
    let same_kind = matches!(
        (rows, cols),
        (Dim::Fixed(_), Dim::Fixed(_)) | (Dim::Dynamic(_), Dim::Dynamic(_))
    );
    let (r, c) = (cx.dim(rows), cx.dim(cols));
    if same_kind && cx.same_size(rows, cols) {
        quote!(#p::scaled_identity_square(#r, #s))
    } else {
        quote!(#p::scaled_identity(#r, #c, #s))
    }
}

/// `C = s I` of a given shape (built by the differentiator, e.g. for `tr`):
/// `dC = ds I`, so `s̄ = tr C̄` (`Re tr(C̄ᴴ ds I) = Re(conj(tr C̄) ds)` for
/// complex ones).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScaledIdentity(pub Shape);

impl Rule for ScaledIdentity {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.0)
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        emit_scaled_identity(cx, self.0, a[0].operand())
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Trace, &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[0], &Formula::atom("I"))
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|ds| g.build(self.clone(), &[ds])))
    }
}
