//! Elementwise operations: Hadamard product and quotient, `map` with a scalar
//! closure, and the scalar functions.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::diff;
use crate::emit::{conforms, EmitCx, Value};
use crate::formula::{call, mark, Formula, POSTFIX};
use crate::ir::{Field, Graph, Id};
use crate::shape::{Dims, Shape};

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
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
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
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
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

/// `C = f.(A)` (`map(|v| f(v))`), `f` a scalar expression of `v` alone:
/// `dC = f′.(A) ∘ dA`, so `Ā = C̄ ∘ f′.(A)`, with `f′` derived from `f` by the
/// same engine (see [`MapAdjoint`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Map {
    /// `f(v)`: a scalar node whose only leaves are the closure parameter and literals.
    pub body: Id,
}

impl Rule for Map {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`map`")?;
        Ok(a[0])
    }
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        let f = cx.closure(self.body, &[crate::emit::ClosureParam::Lambda]);
        quote!(#x.map(#f))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let Some(deriv) = diff::derivative(g, self.body) else {
            return vec![None];
        };
        let op = MapAdjoint {
            body: self.body,
            deriv,
        };
        vec![Some(g.build(op, &[cbar, a, node]))]
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the body")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dC = f′.(A) ∘ dA: the adjoint rule with dA for C̄.
        Ok(dargs[0].and_then(|da| self.adjoint(g, node, da)[0]))
    }
}

/// `Ā = C̄ ∘ f′.(A)` for `C = f.(A)`, computed in one pass over `C̄`, `A` and
/// (when `f′` is written in terms of `f`, as for `exp`) `C`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapAdjoint {
    pub body: Id,
    /// `f′(v)`: may use the closure parameter, literals, and `body` itself.
    pub deriv: Id,
}

impl Rule for MapAdjoint {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
        use crate::emit::ClosureParam::{Adjoint, Lambda, Node};
        let (cbar, x, c) = (a[0].receiver(), a[1].operand(), a[2].operand());
        let (body, deriv) = (self.body, self.deriv);
        match (cx.uses(deriv, body), cx.reads_lambda(deriv, body)) {
            (true, true) => {
                let f = cx.closure_times_adjoint(deriv, &[Adjoint, Lambda, Node(body)]);
                quote!(#cbar.zip_zip_map(#x, #c, #f))
            }
            // `tanh′ = 1 − c²`: the map's argument is not read.
            (true, false) => {
                let f = cx.closure_times_adjoint(deriv, &[Adjoint, Node(body)]);
                quote!(#cbar.zip_map(#c, #f))
            }
            (false, _) => {
                let f = cx.closure_times_adjoint(deriv, &[Adjoint, Lambda]);
                quote!(#cbar.zip_map(#x, #f))
            }
        }
    }
    /// `A` is not read when `f′` is written through `f` alone (`tanh′ = 1 − c²`).
    fn reads(&self, g: &Graph, _: Id, arg: usize) -> bool {
        arg != 1 || !g.uses(self.deriv, self.body) || g.reads_lambda(self.deriv, self.body)
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives of `map` are not supported yet")
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the derivative")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // d(C̄ ∘ f′.(A)) = dC̄ ∘ f′.(A) + C̄ ∘ f″.(A) ∘ dA
        let (cbar, a, c) = (
            g.node(node).args[0],
            g.node(node).args[1],
            g.node(node).args[2],
        );
        let first = dargs[0].map(|dcbar| g.build(self.clone(), &[dcbar, a, c]));
        let second = match (dargs[1], diff::derivative(g, self.deriv)) {
            (Some(da), Some(deriv2)) => {
                let scaled = g.component_mul(cbar, da);
                let op = MapAdjoint {
                    body: self.body,
                    deriv: deriv2,
                };
                Some(g.build(op, &[scaled, a, c]))
            }
            _ => None,
        };
        Ok(sum_terms(g, [first, second]))
    }
}

/// `f′.(A)` for `C = f.(A)`, with no adjoint to multiply (args `[A, C]`): what
/// [`MapAdjoint`] becomes when `C̄` is a constant `s 𝟙`, as under `sum`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapDerivative {
    pub body: Id,
    pub deriv: Id,
}

impl MapDerivative {
    /// `(f.(A), f′.(A))` in one pass over `A`, for a `map` whose derivative is
    /// needed too: the two closures share their work (`exp(−v)` for
    /// `ln(1 + exp(−v))`).
    pub fn emit_with_map(&self, cx: &EmitCx, a: &Value) -> TokenStream {
        let (p, x) = (cx.private(), a.operand());
        let f = cx.closure_pair(self.body, self.deriv, &[crate::emit::ClosureParam::Lambda]);
        quote!(#p::map_with_derivative(#x, #f))
    }
}

impl Rule for MapDerivative {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[0])
    }
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
        use crate::emit::ClosureParam::{Lambda, Node};
        let (x, c) = (a[0].receiver(), a[1].operand());
        let (body, deriv) = (self.body, self.deriv);
        match (cx.uses(deriv, body), cx.reads_lambda(deriv, body)) {
            (true, true) => {
                let f = cx.closure(deriv, &[Lambda, Node(body)]);
                quote!(#x.zip_map(#c, #f))
            }
            (true, false) => {
                let (c, f) = (a[1].receiver(), cx.closure(deriv, &[Node(body)]));
                quote!(#c.map(#f))
            }
            (false, _) => {
                let f = cx.closure(deriv, &[Lambda]);
                quote!(#x.map(#f))
            }
        }
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        unimplemented!("second derivatives are taken in forward mode")
    }
    fn formula(&self, _: &[Formula]) -> Formula {
        unreachable!("written by formula::Writer, which sees the derivative")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // d f′.(A) = f″.(A) ∘ dA
        let (a, c) = (g.node(node).args[0], g.node(node).args[1]);
        Ok(match (dargs[0], diff::derivative(g, self.deriv)) {
            (Some(da), Some(deriv2)) => Some(g.build(
                MapAdjoint {
                    body: self.body,
                    deriv: deriv2,
                },
                &[da, a, c],
            )),
            _ => None,
        })
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
    fn emit(&self, cx: &EmitCx, a: &[Value]) -> TokenStream {
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
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
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
    fn emit(&self, _: &EmitCx, a: &[Value]) -> TokenStream {
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
