//! The SO(3) exponential map, `Rotation3::new(v)` (Rodrigues' formula, Ceres'
//! `AngleAxisRotatePoint`): the rotation by `θ = |v|` about `v/θ`, as a 3×3
//! matrix. Its rules are written with the right Jacobian
//! `J_r(v) = I − c₂ K + c₃ K²` (`K = [v]×`, `t = θ² = vᵀv`, `c_k` Stumpff's
//! functions), whose coefficients are entire functions of `t`: the gradient is
//! finite and accurate at and near the zero rotation.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, Formula};
use crate::shape::{Dim, Dims, Shape};

/// A fixed-size 3-vector, as `Rotation3` and `[v]×` take.
fn vector3(s: Shape, dims: &Dims, what: &str) -> Result<(), String> {
    match s {
        Shape::Matrix(Dim::Fixed(3), Dim::Fixed(1)) => Ok(()),
        s => Err(format!("{what} needs a `Vector3`, found {}", dims.show(s))),
    }
}

/// A fixed-size 3×3 matrix.
fn matrix3(s: Shape, dims: &Dims, what: &str) -> Result<(), String> {
    match s {
        Shape::Matrix(Dim::Fixed(3), Dim::Fixed(3)) => Ok(()),
        s => Err(format!("{what} needs a 3×3 matrix, found {}", dims.show(s))),
    }
}

const MATRIX3: Shape = Shape::Matrix(Dim::Fixed(3), Dim::Fixed(3));

/// `R = exp([v]×)`, emitted as nalgebra's `Rotation3::new(v)`.
///
/// `R(v + dv) = R exp([J_r dv]×)` to first order, so `dR = R [w]×` with
/// `w = J_r dv = dv − c₂ v×dv + c₃ v×(v×dv)`. Then `⟨R̄, R[w]×⟩ =
/// ⟨RᵀR̄, [w]×⟩ = wᵀ vee(RᵀR̄)` (see [`Vee`]), so `v̄ = J_rᵀ u` with
/// `u = vee(RᵀR̄)`: `v̄ = u + c₂ v×u + c₃ v×(v×u)` (`K` is antisymmetric,
/// `K²` symmetric).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rotation;

/// `(c₂, c₃)` at `t = vᵀv`.
fn coefficients(g: &mut Graph, v: Id) -> (Id, Id) {
    let t = g.dot(v, v);
    (g.build(Stumpff(2), &[t]), g.build(Stumpff(3), &[t]))
}

/// `u + s₂ v×u + s₃ v×(v×u)`: `J_rᵀ u` for `s₂ = c₂`, `J_r u` for `s₂ = −c₂`.
fn jacobian_times(g: &mut Graph, v: Id, u: Id, s2: Id, s3: Id) -> Id {
    let vu = g.build(Cross, &[v, u]);
    let vvu = g.build(Cross, &[v, vu]);
    let first = g.times(vu, s2);
    let second = g.times(vvu, s3);
    let sum = g.plus(u, first);
    g.plus(sum, second)
}

impl Rule for Rotation {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        vector3(a[0], dims, "`Rotation3::new`")?;
        Ok(MATRIX3)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, v) = (cx.private(), super::index::owned(&a[0]));
        quote!(#p::nalgebra::Rotation3::new(#v).into_inner())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let v = g.node(node).args[0];
        let rt_rbar = g.tr_mul(node, cbar);
        let u = g.build(Vee, &[rt_rbar]);
        let (c2, c3) = coefficients(g, v);
        vec![Some(jacobian_times(g, v, u, c2, c3))]
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let v = g.node(node).args[0];
        Ok(dargs[0].map(|dv| {
            let (c2, c3) = coefficients(g, v);
            let minus_c2 = g.neg(c2);
            let w = jacobian_times(g, v, dv, minus_c2, c3);
            let k = g.build(Skew, &[w]);
            g.matmul(node, k)
        }))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("exp∘[·]×", a)
    }
}

/// `K = [v]×`, the cross-product matrix (`K u = v × u`). Linear:
/// `⟨K̄, [dv]×⟩ = dvᵀ vee(K̄)`, so `v̄ = vee(K̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Skew;

impl Rule for Skew {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        vector3(a[0], dims, "`[v]×`")?;
        Ok(MATRIX3)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, ty, v, zero) = (cx.private(), cx.scalar_type(), a[0].receiver(), cx.lit(0.0));
        quote!(#p::nalgebra::Matrix3::<#ty>::new(
            #zero, -#v[2], #v[1],
            #v[2], #zero, -#v[0],
            -#v[1], #v[0], #zero,
        ))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Vee, &[cbar]))]
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Skew, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("[{}]×", a[0].text))
    }
}

/// `u = vee(M) = (M₃₂ − M₂₃, M₁₃ − M₃₁, M₂₁ − M₁₂)`, so that
/// `⟨M, [w]×⟩ = wᵀ vee(M)` for every `w`. Linear: `⟨ū, vee(dM)⟩ =
/// ⟨[ū]×, dM⟩`, so `M̄ = [ū]×`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Vee;

impl Rule for Vee {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix3(a[0], dims, "`vee`")?;
        Ok(Shape::Matrix(Dim::Fixed(3), Dim::Fixed(1)))
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, ty, m) = (cx.private(), cx.scalar_type(), a[0].receiver());
        quote!(#p::nalgebra::Vector3::<#ty>::new(
            #m[(2, 1)] - #m[(1, 2)],
            #m[(0, 2)] - #m[(2, 0)],
            #m[(1, 0)] - #m[(0, 1)],
        ))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Skew, &[cbar]))]
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Vee, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("vee", a)
    }
}

/// Stumpff's function `c_k(t) = Σₙ (−t)ⁿ/(2n + k)!` (`c₂(θ²) = (1 − cos θ)/θ²`),
/// computed by `matgrad::__private::stumpff`. Termwise,
/// `c_k′ = (k c_{k+2} − c_{k+1})/2`, so `t̄ = c̄ (k c_{k+2} − c_{k+1})/2`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Stumpff(pub u32);

impl Rule for Stumpff {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        scalar(a[0], dims, "Stumpff's function")
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, k, t) = (cx.private(), self.0, a[0].operand());
        quote!(#p::stumpff(#k, #t))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let t = g.node(node).args[0];
        let k = self.0;
        let next = g.build(Stumpff(k + 1), &[t]);
        let after = g.build(Stumpff(k + 2), &[t]);
        let kk = g.lit(f64::from(k));
        let scaled = g.times(kk, after);
        let diff = g.minus(scaled, next);
        let half = g.lit(0.5);
        let derivative = g.times(half, diff);
        vec![Some(g.times(cbar, derivative))]
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        scalar_tangent(self, g, node, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&format!("c{}", self.0), a)
    }
}
