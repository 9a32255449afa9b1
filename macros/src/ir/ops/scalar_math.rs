//! The rest of the smooth scalar methods of `f64`/`f32` (`ln_1p`, `exp_m1`,
//! `log`, `hypot`, the trigonometric and hyperbolic functions and their
//! inverses, `mul_add`), the scalar branches (`max`, `min`, `clamp`,
//! `signum`), and the matrix reductions that pick one entry (`max`, `min`,
//! `amax`, `amin`) or sum magnitudes (`lp_norm(1)`, `lp_norm(2)`).
//!
//! Every function is emitted as the method the user wrote, so the value is
//! the original's bit for bit; derivatives use only methods that nalgebra's
//! `RealField`/`ComplexField` also provide, so generic scalars work.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

scalar_fn!(
    /// `c = ln(1 + a)`: `dc = da/(1 + a)`, so `ā = c̄/(1 + a)`.
    Ln1p, method "ln_1p", "ln_1p", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let d = g.plus(one, a);
        Some(g.over(cbar, d))
    }
);
scalar_fn!(
    /// `c = eᵃ − 1`: `dc = eᵃ da`, so `ā = c̄ eᵃ`.
    ExpM1, method "exp_m1", "exp_m1", |g, a, c, cbar| {
        let e = g.build(Exp, &[a]);
        Some(g.times(cbar, e))
    }
);
scalar_fn!(
    /// `c = log₂ a`: `dc = da/(a ln 2)`, so `ā = c̄/(a ln 2)`.
    Log2, method "log2", "log₂", |g, a, c, cbar| {
        let ln2 = g.lit(std::f64::consts::LN_2);
        let d = g.times(a, ln2);
        Some(g.over(cbar, d))
    }
);
scalar_fn!(
    /// `c = log₁₀ a`: `dc = da/(a ln 10)`, so `ā = c̄/(a ln 10)`.
    Log10, method "log10", "log₁₀", |g, a, c, cbar| {
        let ln10 = g.lit(std::f64::consts::LN_10);
        let d = g.times(a, ln10);
        Some(g.over(cbar, d))
    }
);
scalar_fn!(
    /// `c = 2ᵃ`: `dc = c ln 2 da`, so `ā = c̄ c ln 2`.
    Exp2, method "exp2", "exp2", |g, a, c, cbar| {
        let ln2 = g.lit(std::f64::consts::LN_2);
        let d = g.times(c, ln2);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = ∛a`: `dc = da/(3c²)`, so `ā = c̄/(3c²)` (infinite at `a = 0`).
    Cbrt, method "cbrt", "∛", |g, a, c, cbar| {
        let three = g.lit(3.0);
        let c2 = g.times(c, c);
        let d = g.times(three, c2);
        Some(g.over(cbar, d))
    }
);
scalar_fn!(
    /// `c = tan a`: `dc = (1 + c²) da`, so `ā = c̄ (1 + c²)`.
    Tan, method "tan", "tan", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let c2 = g.times(c, c);
        let d = g.plus(one, c2);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = asin a`: `dc = da/√(1 − a²)`, so `ā = c̄/√(1 − a²)`.
    Asin, method "asin", "asin", |g, a, c, cbar| {
        let root = one_minus_square_root(g, a);
        Some(g.over(cbar, root))
    }
);
scalar_fn!(
    /// `c = acos a`: `dc = −da/√(1 − a²)`, so `ā = −c̄/√(1 − a²)`.
    Acos, method "acos", "acos", |g, a, c, cbar| {
        let root = one_minus_square_root(g, a);
        let q = g.over(cbar, root);
        Some(g.neg(q))
    }
);
scalar_fn!(
    /// `c = atan a`: `dc = da/(1 + a²)`, so `ā = c̄/(1 + a²)`.
    Atan, method "atan", "atan", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let a2 = g.times(a, a);
        let d = g.plus(one, a2);
        Some(g.over(cbar, d))
    }
);
scalar_fn!(
    /// `c = sinh a`: `dc = cosh a da`, so `ā = c̄ cosh a`.
    Sinh, method "sinh", "sinh", |g, a, c, cbar| {
        let d = g.build(Cosh, &[a]);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = cosh a`: `dc = sinh a da`, so `ā = c̄ sinh a`.
    Cosh, method "cosh", "cosh", |g, a, c, cbar| {
        let d = g.build(Sinh, &[a]);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = asinh a`: `dc = da/√(a² + 1)`, so `ā = c̄/√(a² + 1)`.
    Asinh, method "asinh", "asinh", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let a2 = g.times(a, a);
        let s = g.plus(a2, one);
        let root = g.build(Sqrt, &[s]);
        Some(g.over(cbar, root))
    }
);
scalar_fn!(
    /// `c = acosh a` (`a ≥ 1`): `dc = da/√((a − 1)(a + 1))`, so
    /// `ā = c̄/√((a − 1)(a + 1))` (the product form keeps its accuracy near 1).
    Acosh, method "acosh", "acosh", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let below = g.minus(a, one);
        let above = g.plus(a, one);
        let p = g.times(below, above);
        let root = g.build(Sqrt, &[p]);
        Some(g.over(cbar, root))
    }
);
scalar_fn!(
    /// `c = atanh a`: `dc = da/(1 − a²)`, so `ā = c̄/(1 − a²)`.
    Atanh, method "atanh", "atanh", |g, a, c, cbar| {
        let one = g.lit(1.0);
        let a2 = g.times(a, a);
        let d = g.minus(one, a2);
        Some(g.over(cbar, d))
    }
);
scalar_fn!(
    /// `c = signum a` (±1, NaN for NaN; std's `signum` is 1 at +0 and −1 at
    /// −0): piecewise constant, so `ā = 0`.
    Signum, method "signum", "signum", |_g, a, c, _cbar| None
);

scalar_fn!(
    /// `c = a · 180/π` (`to_degrees`): `ā = c̄ · 180/π`.
    ToDegrees, method "to_degrees", "to_degrees", |g, a, c, cbar| {
        let k = g.lit(180.0 / std::f64::consts::PI);
        Some(g.times(cbar, k))
    }
);
scalar_fn!(
    /// `c = a · π/180` (`to_radians`): `ā = c̄ · π/180`.
    ToRadians, method "to_radians", "to_radians", |g, a, c, cbar| {
        let k = g.lit(std::f64::consts::PI / 180.0);
        Some(g.times(cbar, k))
    }
);

/// `√(1 − a²)`, for `asin` and `acos`.
fn one_minus_square_root(g: &mut Graph, a: Id) -> Id {
    let one = g.lit(1.0);
    let a2 = g.times(a, a);
    let d = g.minus(one, a2);
    g.build(Sqrt, &[d])
}

/// A scalar method with arguments (`a.log(b)`, `a.hypot(b)`, `a.mul_add(b, d)`):
/// emitted as the method, its partials from the adjoint rule.
macro_rules! scalar_method {
    ($(#[$doc:meta])* $name:ident, $func:literal, $math:literal,
     |$g:ident, $node:ident, $cbar:ident| $adjoint:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name;

        impl Rule for $name {
            fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
                for s in a {
                    scalar(*s, dims, concat!("`", $func, "`"))?;
                }
                Ok(Shape::Scalar)
            }
            fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
                method_call($func, a)
            }
            fn adjoint(&self, $g: &mut Graph, $node: Id, $cbar: Id) -> Vec<Option<Id>> {
                $adjoint
            }
            fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
                scalar_tangent(self, g, node, dargs)
            }
            fn formula(&self, a: &[Formula]) -> Formula {
                call($math, a)
            }
        }
    };
}

/// `a.f(b, …)`.
fn method_call(f: &str, a: &[Value]) -> TokenStream {
    let f = proc_macro2::Ident::new(f, proc_macro2::Span::call_site());
    let x = a[0].receiver();
    let rest = a[1..].iter().map(Value::operand);
    quote!(#x.#f(#(#rest),*))
}

scalar_method!(
    /// `c = log_b a = ln a / ln b` (`a.log(b)`): `dc = da/(a ln b) − c db/(b ln b)`,
    /// so `ā = c̄/(a ln b)`, `b̄ = −c̄ c/(b ln b)`.
    Log, "log", "log",
    |g, node, cbar| {
        let [a, b] = g.args2(node);
        let ln_b = g.build(Ln, &[b]);
        let da = g.times(a, ln_b);
        let db = g.times(b, ln_b);
        let q = g.over(cbar, da);
        let cc = g.times(cbar, node);
        let r = g.over(cc, db);
        vec![Some(q), Some(g.neg(r))]
    }
);
scalar_method!(
    /// `c = √(a² + b²)` (`a.hypot(b)`): `dc = (a da + b db)/c`, so
    /// `ā = c̄ a/c`, `b̄ = c̄ b/c`.
    Hypot, "hypot", "hypot",
    |g, node, cbar| {
        let [a, b] = g.args2(node);
        let s = g.over(cbar, node);
        vec![Some(g.times(s, a)), Some(g.times(s, b))]
    }
);
scalar_method!(
    /// `c = atan2(a, b)`, the angle of the point `(b, a)` (`a.atan2(b)`):
    /// `dc = (b da − a db)/(a² + b²)`, so `ā = c̄ b/(a² + b²)`,
    /// `b̄ = −c̄ a/(a² + b²)`.
    Atan2, "atan2", "atan2",
    |g, node, cbar| {
        let [a, b] = g.args2(node);
        let (a2, b2) = (g.times(a, a), g.times(b, b));
        let r2 = g.plus(a2, b2);
        let s = g.over(cbar, r2);
        let sa = g.times(s, a);
        vec![Some(g.times(s, b)), Some(g.neg(sa))]
    }
);
scalar_method!(
    /// `c = (a + b)/2` without overflow (`a.midpoint(b)`): `ā = b̄ = c̄/2`.
    Midpoint, "midpoint", "midpoint",
    |g, _node, cbar| {
        let half = g.lit(0.5);
        let d = g.times(cbar, half);
        vec![Some(d), Some(d)]
    }
);
scalar_method!(
    /// `c = a b + d` with one rounding (`a.mul_add(b, d)`):
    /// `dc = b da + a db + dd`, so `ā = c̄ b`, `b̄ = c̄ a`, `d̄ = c̄`.
    MulAdd, "mul_add", "mul_add",
    |g, node, cbar| {
        let args = &g.node(node).args;
        let (a, b) = (args[0], args[1]);
        vec![Some(g.times(cbar, b)), Some(g.times(cbar, a)), Some(cbar)]
    }
);

/// Which argument a scalar branch returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Branch {
    /// `a.max(b)`: `a` (arm 0) unless `a < b`, or `a` is NaN and `b` is not.
    Max,
    /// `a.min(b)`: `a` (arm 0) unless `b < a`, or `a` is NaN and `b` is not.
    Min,
    /// `x.clamp(lo, hi)`: `lo` (arm 1) if `x < lo`, `hi` (arm 2) if `x > hi`,
    /// else `x` (arm 0).
    Clamp,
}

impl Branch {
    fn name(self) -> &'static str {
        match self {
            Branch::Max => "max",
            Branch::Min => "min",
            Branch::Clamp => "clamp",
        }
    }
}

/// The adjoints of a branch: the incoming adjoint goes to the arm taken.
fn branch_adjoint(g: &mut Graph, branch: Branch, node: Id, cbar: Id) -> Vec<Option<Id>> {
    let operands = g.node(node).args.clone();
    (0..operands.len())
        .map(|arm| {
            let mut args = operands.clone();
            args.push(cbar);
            Some(g.build(
                Routed {
                    branch,
                    arm: arm as u8,
                },
                &args,
            ))
        })
        .collect()
}

/// The tangent of a branch: the tangent of the arm taken (a select, not a
/// product with a 0/1 mask, so that an infinite or NaN tangent of the arm not
/// taken does not leak).
fn branch_tangent(g: &mut Graph, branch: Branch, node: Id, dargs: &[Option<Id>]) -> Option<Id> {
    let operands = g.node(node).args.clone();
    let terms: Vec<Option<Id>> = dargs
        .iter()
        .enumerate()
        .map(|(arm, d)| {
            d.map(|d| {
                let mut args = operands.clone();
                args.push(d);
                g.build(
                    Routed {
                        branch,
                        arm: arm as u8,
                    },
                    &args,
                )
            })
        })
        .collect();
    sum_terms(g, terms)
}

/// `c = max(a, b)` (`a.max(b)`, `f64::max(a, b)`): `dc = da` where `a` is
/// returned, `db` where `b` is, so `ā = [a taken] c̄`, `b̄ = [b taken] c̄`.
/// std's `max` returns the other argument when exactly one is NaN, and either
/// (the values being equal) at a tie; matgrad gives the whole gradient to the
/// receiver `a` at `a == b` — the derivative from the right in `a` and from the
/// left in `b`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Max;

/// `c = min(a, b)` (`a.min(b)`, `f64::min(a, b)`): as [`Max`], the gradient
/// going to the receiver `a` at `a == b` (the derivative from the left in
/// `a`, from the right in `b`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Min;

/// `c = clamp(x, lo, hi)` (`x.clamp(lo, hi)`): `c̄` goes to `lo` where
/// `x < lo`, to `hi` where `x > hi`, and to `x` otherwise — also at
/// `x == lo` and `x == hi`, where std's `clamp` returns `x`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Clamp;

macro_rules! branch_rule {
    ($name:ident, $branch:expr) => {
        impl Rule for $name {
            fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
                for s in a {
                    scalar(*s, dims, &format!("`{}`", $branch.name()))?;
                }
                Ok(Shape::Scalar)
            }
            fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
                method_call($branch.name(), a)
            }
            fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
                branch_adjoint(g, $branch, node, cbar)
            }
            fn tangent(
                &self,
                g: &mut Graph,
                node: Id,
                dargs: &[Option<Id>],
            ) -> Result<Option<Id>, ()> {
                Ok(branch_tangent(g, $branch, node, dargs))
            }
            fn formula(&self, a: &[Formula]) -> Formula {
                call($branch.name(), a)
            }
        }
    };
}

branch_rule!(Max, Branch::Max);
branch_rule!(Min, Branch::Min);
branch_rule!(Clamp, Branch::Clamp);

/// `v` if `branch(operands…)` takes arm `arm`, else 0 (args: the branch's
/// operands, then `v`): an adjoint or tangent routed to the arm taken. Its
/// derivative in the operands is 0 wherever it exists; it is linear in `v`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Routed {
    pub branch: Branch,
    pub arm: u8,
}

impl Rule for Routed {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(a[a.len() - 1])
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let p = cx.private();
        let n = a.len() - 1;
        let operands = a[..n].iter().map(Value::operand);
        let v = a[n].operand();
        let arm = self.arm;
        let which = proc_macro2::Ident::new(
            &format!("{}_arm", self.branch.name()),
            proc_macro2::Span::call_site(),
        );
        quote!(#p::routed(#p::#which(#(#operands),*) == #arm, #v))
    }
    /// Linear in `v`, constant in the operands: `v̄ = [arm taken] c̄`.
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let args = g.node(node).args.clone();
        let n = args.len() - 1;
        let mut routed = args[..n].to_vec();
        routed.push(cbar);
        let mut out = vec![None; n];
        out.push(Some(g.build(self.clone(), &routed)));
        out
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let n = a.len() - 1;
        let t = |i: usize| a[i].text.as_str();
        let test = match (self.branch, self.arm) {
            (Branch::Max, 0) => format!("{} ≥ {}", t(0), t(1)),
            (Branch::Max, _) => format!("{} < {}", t(0), t(1)),
            (Branch::Min, 0) => format!("{} ≤ {}", t(0), t(1)),
            (Branch::Min, _) => format!("{} > {}", t(0), t(1)),
            (Branch::Clamp, 0) => format!("{} ≤ {} ≤ {}", t(1), t(0), t(2)),
            (Branch::Clamp, 1) => format!("{} < {}", t(0), t(1)),
            (Branch::Clamp, _) => format!("{} > {}", t(0), t(2)),
        };
        Formula {
            text: format!("[{test}] {}", a[n].at(crate::notation::PRODUCT + 1)),
            prec: crate::notation::PRODUCT,
        }
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let args = g.node(node).args.clone();
        let n = args.len() - 1;
        Ok(dargs[n].map(|dv| {
            let mut routed = args[..n].to_vec();
            routed.push(dv);
            g.build(self.clone(), &routed)
        }))
    }
}

/// The entry a matrix reduction picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pick {
    Max,
    Min,
    /// Largest `|aᵢⱼ|`.
    AMax,
    /// Smallest `|aᵢⱼ|`.
    AMin,
}

impl Pick {
    fn name(self) -> &'static str {
        match self {
            Pick::Max => "max",
            Pick::Min => "min",
            Pick::AMax => "amax",
            Pick::AMin => "amin",
        }
    }

    /// The code of the runtime's `extremum_*` helpers.
    fn code(self) -> u8 {
        self as u8
    }
}

/// `c = A[k]`, `A`'s largest (`max`), smallest (`min`) entry, or the
/// magnitude `|A[k]|` of the entry largest (`amax`) or smallest (`amin`) in
/// magnitude: `dc = s dA[k]` with `s = 1`, or `sign(A[k])` for the
/// magnitudes, so `Ā = c̄ s e_k`. `k` is the entry nalgebra's fold keeps:
/// in column-major order, a later entry replaces the kept one only if it is
/// strictly larger (smaller), so ties go to the first. An empty matrix gives
/// 0 and a zero gradient.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Extremum(pub Pick);

impl Rule for Extremum {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], &format!("`{}`", self.0.name()))?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        let f = proc_macro2::Ident::new(self.0.name(), proc_macro2::Span::call_site());
        quote!(#x.#f())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        vec![Some(g.build(
            AtExtremum {
                pick: self.0,
                adjoint: true,
            },
            &[a, cbar],
        ))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(self.0.name(), a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| {
            g.build(
                AtExtremum {
                    pick: self.0,
                    adjoint: false,
                },
                &[a, da],
            )
        }))
    }
}

/// For the entry `k` an [`Extremum`] of `A` picks, with `s` its sign (1 for
/// `max`, `min`): `c̄ s e_k` (`adjoint`, args `[A, c̄]`, a matrix), or
/// `s dA[k]` (args `[A, dA]`, a scalar). Piecewise constant in `A`, linear in
/// the other argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AtExtremum {
    pub pick: Pick,
    pub adjoint: bool,
}

impl Rule for AtExtremum {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(if self.adjoint { a[0] } else { Shape::Scalar })
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, x, v, code) = (
            cx.private(),
            a[0].operand(),
            a[1].operand(),
            self.pick.code(),
        );
        if self.adjoint {
            quote!(#p::extremum_adjoint(#x, #v, #code))
        } else {
            quote!(#p::extremum_tangent(#x, #v, #code))
        }
    }
    fn add_into(&self, target: &TokenStream, a: &[Value]) -> Option<TokenStream> {
        let (x, v, code) = (a[0].operand(), a[1].operand(), self.pick.code());
        let p = crate::code::private_alias();
        self.adjoint
            .then(|| quote!(#p::extremum_add_into(&mut #target, #x, #v, #code);))
    }
    /// Constant in `A`; in the other argument the two forms are each other's
    /// adjoints (`⟨C̄, c̄ s e_k⟩ = c̄ s C̄[k]`).
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let dual = AtExtremum {
            pick: self.pick,
            adjoint: !self.adjoint,
        };
        vec![None, Some(g.build(dual, &[a, cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let name = if self.adjoint { "at" } else { "entry" };
        call(&format!("{name}_{}", self.pick.name()), a)
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let a = g.node(node).args[0];
        Ok(dargs[1].map(|d| g.build(self.clone(), &[a, d])))
    }
}

/// `c = ‖A‖ₚ = (Σ |aᵢⱼ|ᵖ)^{1/p}` (`lp_norm(p)`, `p` 1 or 2): for `p = 1`,
/// `dc = ⟨sign.(A), dA⟩`, so `Ā = c̄ sign.(A)` (the subgradient 0 at a zero
/// entry); for `p = 2`, `dc = ⟨A, dA⟩/c`, so `Ā = c̄ A/c`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LpNorm(pub i32);

impl LpNorm {
    /// `∂c/∂A`: `sign.(A)` or `A/c`.
    fn partial(&self, g: &mut Graph, node: Id) -> Id {
        let a = g.node(node).args[0];
        if self.0 == 1 {
            let v = g.build(LambdaParam, &[]);
            let body = g.build(Sign, &[v]);
            g.build(Map { body }, &[a])
        } else {
            g.over(a, node)
        }
    }
}

impl Rule for LpNorm {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`lp_norm`")?;
        match self.0 {
            1 | 2 => Ok(Shape::Scalar),
            p => Err(format!(
                "`lp_norm({p})` is not supported: matgrad differentiates `lp_norm(1)` and `lp_norm(2)`"
            )),
        }
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, p) = (a[0].receiver(), self.0);
        quote!(#x.lp_norm(#p))
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let d = self.partial(g, node);
        vec![Some(g.times(d, cbar))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!(
            "‖{}‖{}",
            a[0].text,
            if self.0 == 1 { "₁" } else { "₂" }
        ))
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|da| {
            let d = self.partial(g, node);
            g.dot(d, da)
        }))
    }
}
