//! Elementwise operations: Hadamard product and quotient, `map` with a scalar
//! closure, and the scalar functions.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id, RegionId};
use crate::notation::{call, mark, Formula, POSTFIX};
use crate::shape::{conforms, Dims, Shape};

/// `C = A ∘ B` (`component_mul`): `dC = dA ∘ B + A ∘ dB`, and
/// `⟨C̄, dA ∘ B⟩ = ⟨C̄ ∘ B, dA⟩`, so `Ā = C̄ ∘ B`, `B̄ = C̄ ∘ A`; for complex
/// ones `Re⟨C̄, dA ∘ B⟩ = Re⟨C̄ ∘ conj(B), dA⟩`, so `Ā = C̄ ∘ conj(B)`,
/// `B̄ = C̄ ∘ conj(A)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ComponentMul;

impl Rule for ComponentMul {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`component_mul`")?;
        same_shape(a[0], a[1], dims, "`component_mul`")
    }
    fn field(&self, a: &[Field]) -> Option<Field> {
        one_field(a)
    }
    fn reuses(&self, arg: usize) -> bool {
        arg == 0
    }
    /// In place on a moved `A` of the result's type (with a dynamic `A` and a
    /// fixed `B`, nalgebra's product has `B`'s type instead).
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        match &a[0] {
            Value::Moved(_, shape) if conforms(*shape, cx.shape()) => {
                let m = proc_macro2::Ident::new("__mg_m", proc_macro2::Span::mixed_site());
                quote!({ let mut #m = #x; #m.component_mul_assign(#y); #m })
            }
            _ => quote!(#x.component_mul(#y)),
        }
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, b] = g.args2(node);
        let (a, b) = (g.conj(a), g.conj(b));
        vec![
            Some(g.component_mul(cbar, b)),
            Some(g.component_mul(cbar, a)),
        ]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        mark(&a[0], " ∘ ", &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        bilinear_tangent(g, ComponentMul.into(), node, dargs)
    }
}

/// `C = A ⊘ B` (`component_div`): `dC = dA ⊘ B − C ∘ dB ⊘ B`, so
/// `Ā = C̄ ⊘ B`, `B̄ = −C̄ ∘ C ⊘ B`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ComponentDiv;

impl Rule for ComponentDiv {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`component_div`")?;
        same_shape(a[0], a[1], dims, "`component_div`")
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, y) = (a[0].receiver(), a[1].operand());
        quote!(#x.component_div(#y))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [_, b] = g.args2(node);
        let cc = g.component_mul(cbar, node);
        let q = g.build(ComponentDiv, &[cc, b]);
        vec![Some(g.build(ComponentDiv, &[cbar, b])), Some(g.neg(q))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        mark(&a[0], " ⊘ ", &a[1])
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dC = (dA − C ∘ dB) ⊘ B
        let [_, b] = g.args2(node);
        let c_db = dargs[1].map(|db| g.component_mul(node, db));
        let minus = c_db.map(|t| g.neg(t));
        Ok(sum_terms(g, [dargs[0], minus]).map(|num| g.build(ComponentDiv, &[num, b])))
    }
}

/// `C = f.(A; κ)` (`map(|v| f(v))`), `f` a scalar expression of `v` and of
/// the scalars `κ` it captures from around it (arguments `1..` of the map;
/// `m` in `|v| (v - m).exp()`): `dC = f′.(A) ∘ dA + Σₖ ∂ₖf.(A) dκₖ`, so
/// `Ā = C̄ ∘ f′.(A)` and `κ̄ₖ = Σᵢⱼ (C̄ ∘ ∂ₖf.(A))ᵢⱼ`, with `f′` and `∂ₖf`
/// derived from `f` by the same engine (see [`MapAdjoint`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Map {
    /// `f(v)`: a scalar node whose only leaves are the closure parameter,
    /// [`Captured`] values and literals.
    pub body: Id,
}

/// A closure's `body` at the scalar `v`, its captures bound to `captures`:
/// `f(v, κ)` as an expression (the entry of a map).
pub fn closure_at(g: &mut Graph, body: Id, v: Id, captures: &[Id]) -> Id {
    let bound = g.rebuild(body, |g, id| match g.op(id) {
        Op::LambdaParam(_) => Some(Ok(v)),
        Op::Captured(c) => Some(Ok(captures[c.0])),
        _ if g.node(id).args.is_empty() => Some(Ok(id)),
        _ => None,
    });
    bound.expect("every node of a closure body can be built again")
}

/// `body`, a closure's scalar expression of its parameter `v` built in
/// `region`, with each largest part that does not depend on `v` (other than a
/// literal) replaced by a [`Captured`] leaf; and those parts, the captures,
/// in order. `None` if a capture is not a scalar or the body is not
/// straight-line code of `region`.
pub fn abstract_captures(g: &mut Graph, body: Id, region: RegionId) -> Option<(Id, Vec<Id>)> {
    let reads_v = g.depends_on(body, |_, n| matches!(n.op, Op::LambdaParam(_)));
    let mut captures = Vec::new();
    let body = g.rebuild(body, |g, id| {
        let node = g.node(id);
        if !reads_v[id.index()] {
            return Some(match node.op {
                Op::Lit(_) => Ok(id),
                _ if node.shape.is_scalar() => {
                    captures.push(id);
                    Ok(g.build(Captured(captures.len() - 1), &[]))
                }
                _ => Err(()),
            });
        }
        // (Leaves belong to the function body, whatever the region.)
        let elsewhere = node.region != region && !node.args.is_empty();
        (elsewhere || yields(&node.op).is_some()).then_some(Err(()))
    });
    Some((body.ok()?, captures))
}

impl Map {
    /// `(f.(A), Σ f.(A))` in one pass, for a map whose sum is read beside its
    /// entries (`exp.(z − m)`, then its sum and the entries over it, in a
    /// softmax): the sum is added up as the entries are written, in the order
    /// of nalgebra's `sum`. `None` for a costly map of dynamic size with no
    /// buffer to write into, which the runtime may split across threads.
    pub fn emit_with_sum(&self, cx: &dyn EmitCx, a: &[Value]) -> Option<TokenStream> {
        let p = cx.private();
        let costly = cx.costly_map_weight(self.body).is_some();
        let f = cx.closure(self.body, &[crate::code::ClosureParam::Lambda], &a[1..]);
        if let Value::Moved(x, _) = &a[0] {
            return (!costly).then(|| quote!(#p::map_summed_in_place(#x, #f)));
        }
        let into = match cx.spare() {
            Some(spare) => quote!(#spare.take()),
            None if costly => return None,
            None => quote!(::core::option::Option::None),
        };
        let x = a[0].operand();
        Some(quote!(#p::map_summed_into(#into, #x, #f)))
    }
}

impl Rule for Map {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`map`")?;
        Ok(a[0])
    }
    /// A matrix nothing reads after the map is mapped in place.
    fn reuses(&self, arg: usize) -> bool {
        arg == 0
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let f = cx.closure(self.body, &[crate::code::ClosureParam::Lambda], &a[1..]);
        let p = cx.private();
        // A costly map of dynamic size may be split across threads.
        let costly = cx.costly_map_weight(self.body);
        if let Value::Moved(x, _) = &a[0] {
            return match costly {
                Some(w) => quote!(#p::map_costly(#x, #w, #f)),
                None => quote!(#p::map_in_place(#x, #f)),
            };
        }
        if let Some(spare) = cx.spare() {
            let x = a[0].operand();
            return quote!(#p::map_into(#spare.take(), #x, #f));
        }
        if let Some(w) = costly {
            let x = a[0].operand();
            return quote!(#p::map_costly_of(#x, #w, #f));
        }
        let x = a[0].receiver();
        quote!(#x.map(#f))
    }
    /// Captures are read inside the closure, once per entry.
    fn in_closure(&self, arg: usize) -> bool {
        arg >= 1
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the body")
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unreachable!("the sweep differentiates closures (`diff::closure`)")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        unreachable!("the sweep differentiates closures (`diff::closure`)")
    }
}

/// `Ā = C̄ ∘ f′.(A)` for `C = f.(A)`, computed in one pass over `C̄`, `A` and
/// (when `f′` is written in terms of `f`, as for `exp`) `C`; arguments
/// `[C̄, A, C, κ…]`. `f′` may also be a derivative with respect to a capture.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapAdjoint {
    pub body: Id,
    /// `f′(v)`: may use the closure parameter, captures, literals, and `body` itself.
    pub deriv: Id,
}

impl Rule for MapAdjoint {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        use crate::code::ClosureParam::{Adjoint, Lambda, Node};
        let (cbar, x, c) = (a[0].receiver(), a[1].operand(), a[2].operand());
        let (body, deriv, caps) = (self.body, self.deriv, &a[3..]);
        let (f, others) = match (cx.uses(deriv, body), cx.reads_lambda(deriv, body)) {
            (true, true) => (
                cx.closure_times_adjoint(deriv, &[Adjoint, Lambda, Node(body)], caps),
                vec![x, c],
            ),
            // `tanh′ = 1 − c²`: the map's argument is not read.
            (true, false) => (
                cx.closure_times_adjoint(deriv, &[Adjoint, Node(body)], caps),
                vec![c],
            ),
            (false, _) => (
                cx.closure_times_adjoint(deriv, &[Adjoint, Lambda], caps),
                vec![x],
            ),
        };
        // In a loop, into the buffer of the previous iteration's result.
        if let Some(spare) = cx.spare() {
            let (p, cbar) = (cx.private(), a[0].operand());
            return match others[..] {
                [y] => quote!(#p::zip_map_into(#spare.take(), #cbar, #y, #f)),
                [y, z] => quote!(#p::zip_zip_map_into(#spare.take(), #cbar, #y, #z, #f)),
                _ => unreachable!("one or two matrices besides the adjoint"),
            };
        }
        match others[..] {
            [y] => quote!(#cbar.zip_map(#y, #f)),
            [y, z] => quote!(#cbar.zip_zip_map(#y, #z, #f)),
            _ => unreachable!("one or two matrices besides the adjoint"),
        }
    }
    /// `A` is not read when `f′` is written through `f` alone (`tanh′ = 1 − c²`).
    fn reads(&self, g: &Graph, _: Id, arg: usize) -> bool {
        arg != 1 || !g.uses(self.deriv, self.body) || g.reads_lambda(self.deriv, self.body)
    }
    fn in_closure(&self, arg: usize) -> bool {
        arg >= 3
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives of `map` are not supported yet")
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the derivative")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        unreachable!("the sweep differentiates closures (`diff::closure`)")
    }
}

/// `f′.(A)` for `C = f.(A)`, with no adjoint to multiply (args `[A, C, κ…]`):
/// what [`MapAdjoint`] becomes when `C̄` is a constant `s 𝟙`, as under `sum`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapDerivative {
    pub body: Id,
    pub deriv: Id,
}

impl MapDerivative {
    /// `(f.(A), f′.(A))` in one pass over `A`, for a `map` whose derivative is
    /// needed too: the two closures share their work (`exp(−v)` for
    /// `ln(1 + exp(−v))`). `a` holds the map's arguments `[A, κ…]`.
    pub fn emit_with_map(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        let lambda = [crate::code::ClosureParam::Lambda];
        let f = cx.closure_pair(self.body, self.deriv, &lambda, &a[1..]);
        quote!(#p::map_with_derivative(#x, #f))
    }
}

impl MapDerivative {
    /// Whether node `d` is the derivative `f′.(A)` of the `map` node `map`
    /// (`f.(A)`, same closure, same argument and captures).
    pub fn of(g: &Graph, d: Id, map: Id) -> bool {
        let (Op::MapDerivative(deriv), Op::Map(m)) = (g.op(d), g.op(map)) else {
            return false;
        };
        let (d_args, args) = (&g.node(d).args, &g.node(map).args);
        deriv.body == m.body && d_args[..2] == [args[0], map] && d_args[2..] == args[1..]
    }

    /// `(Σ f.(A), f′.(A))` in one pass over `A`, for a `map` read only by its
    /// sum and its derivative: the map's entries are added up, not stored, and
    /// `f′.(A)` overwrites `A` when it is taken by value. `a` holds the map's
    /// arguments `[A, κ…]`.
    pub fn emit_summed(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let p = cx.private();
        let lambda = [crate::code::ClosureParam::Lambda];
        let f = cx.closure_pair(self.body, self.deriv, &lambda, &a[1..]);
        match &a[0] {
            Value::Moved(x, _) => quote!(#p::map_sum_with_derivative_over(#x, #f)),
            x => {
                let x = x.operand();
                quote!(#p::map_sum_with_derivative(#x, #f))
            }
        }
    }
}

impl Rule for MapDerivative {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        use crate::code::ClosureParam::{Lambda, Node};
        let (x, c) = (a[0].receiver(), a[1].operand());
        let (body, deriv, caps) = (self.body, self.deriv, &a[2..]);
        match (cx.uses(deriv, body), cx.reads_lambda(deriv, body)) {
            (true, true) => {
                let f = cx.closure(deriv, &[Lambda, Node(body)], caps);
                quote!(#x.zip_map(#c, #f))
            }
            (true, false) => {
                let (c, f) = (a[1].receiver(), cx.closure(deriv, &[Node(body)], caps));
                quote!(#c.map(#f))
            }
            (false, _) => {
                let f = cx.closure(deriv, &[Lambda], caps);
                quote!(#x.map(#f))
            }
        }
    }
    fn in_closure(&self, arg: usize) -> bool {
        arg >= 2
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives are taken in forward mode")
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the derivative")
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        unreachable!("the sweep differentiates closures (`diff::closure`)")
    }
}

scalar_fn!(
    /// `c = eᵃ`: `dc = c da`, so `ā = c̄ c`; for a complex `a`,
    /// `Re(conj(c̄) c da) = Re(conj(c̄ conj(c)) da)`, so `ā = c̄ conj(c)`.
    Exp, holomorphic method "exp", "exp", |g, a, c, cbar| {
        let c = g.conj(c);
        Some(g.times(cbar, c))
    }
);
scalar_fn!(
    /// `c = ln a` (the principal branch for a complex `a`): `dc = da/a`, so
    /// `ā = c̄/a`, and `ā = c̄/conj(a)` for a complex `a`.
    Ln, holomorphic method "ln", "ln", |g, a, c, cbar| {
        let a = g.conj(a);
        Some(g.over(cbar, a))
    }
);
scalar_fn!(
    /// `c = √a`: `dc = da/(2c)`, so `ā = c̄/(2c)`.
    Sqrt, method "sqrt", "√", |g, a, c, cbar| {
        let two = g.lit(2.0);
        let d = g.times(two, c);
        Some(g.over(cbar, d))
    }
);
scalar_fn!(
    /// `c = sin a`: `dc = cos a da`, so `ā = c̄ cos a`.
    Sin, method "sin", "sin", |g, a, c, cbar| {
        let cos = g.build(Cos, &[a]);
        Some(g.times(cbar, cos))
    }
);
scalar_fn!(
    /// `c = cos a`: `dc = −sin a da`, so `ā = −c̄ sin a`.
    Cos, method "cos", "cos", |g, a, c, cbar| {
        let sin = g.build(Sin, &[a]);
        let p = g.times(cbar, sin);
        Some(g.neg(p))
    }
);
scalar_fn!(
    /// `c = tanh a`: `dc = (1 − c²) da`, so `ā = c̄ (1 − c²)`.
    Tanh, method "tanh", "tanh", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let c2 = g.times(c, c);
        let d = g.minus(one, c2);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = |a|`: `dc = sign(a) da`, so `ā = c̄ sign(a)`, taking the
    /// subgradient 0 at `a = 0`.
    Abs, method "abs", "abs", |g, a, c, cbar| {
        let s = g.build(Sign, &[a]);
        Some(g.times(cbar, s))
    }
);
scalar_fn!(
    /// `c = 1/a`: `dc = −c² da`, so `ā = −c̄ c²`.
    Recip, method "recip", "recip", |g, a, c, cbar| {
        let c2 = g.times(c, c);
        let p = g.times(cbar, c2);
        Some(g.neg(p))
    }
);

/// `c = sign(a)` (−1, 0 or 1; built for the adjoint of `abs`): its derivative
/// is 0 wherever it exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sign;

impl Rule for Sign {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "sign")
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x) = (cx.private(), a[0].operand());
        quote!(#p::sign(#x))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        vec![None]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("sign", a)
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}

/// `c = aⁿ` (`powi`, integer literal `n`): `dc = n aⁿ⁻¹ da`, so `ā = c̄ n aⁿ⁻¹`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Powi(pub i32);

impl Rule for Powi {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`powi`")
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, n) = (a[0].receiver(), self.0);
        quote!(#x.powi(#n))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let n = self.0;
        if n == 0 {
            return vec![None];
        }
        let lower = g.build(Powi(n - 1), &[a]);
        let coef = g.lit(f64::from(n));
        let d = g.times(coef, lower);
        vec![Some(g.times(cbar, d))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula {
            text: format!("{}^{}", a[0].at(POSTFIX + 1), self.0),
            prec: POSTFIX,
        }
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        scalar_tangent(self, g, node, dargs)
    }
}

/// `c = aᵉ` (`powf`): `dc = e aᵉ⁻¹ da + c ln(a) de`, so `ā = c̄ e aᵉ⁻¹`,
/// `ē = c̄ c ln a`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Powf;

impl Rule for Powf {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "`powf`")?;
        scalar(a[1], dims, "`powf`")
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, e) = (a[0].receiver(), a[1].operand());
        quote!(#x.powf(#e))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let [a, e] = g.args2(node);
        let one = g.lit(1.0);
        let e1 = g.minus(e, one);
        let lower = g.build(Powf, &[a, e1]);
        let d = g.times(e, lower);
        let ln = g.build(Ln, &[a]);
        let c_ln = g.times(node, ln);
        vec![Some(g.times(cbar, d)), Some(g.times(cbar, c_ln))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula {
            text: format!("{}^{}", a[0].at(POSTFIX + 1), a[1].at(POSTFIX + 1)),
            prec: POSTFIX,
        }
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        scalar_tangent(self, g, node, dargs)
    }
}
