//! The scalar vocabulary of the body language beyond the method tables:
//! scalar methods called by path (`f64::ln_1p(x)`, `T::max(a, b)`), the
//! matrix `abs` and `lp_norm`, the error for non-smooth methods, and the
//! constants of `f64`/`f32` and `RealField`.

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall};

use super::{
    int_literal, is_field, plural, supported, BodyParser, Hint, NON_SMOOTH, SCALAR_METHODS,
    SCALAR_SPECIAL,
};
use crate::ir::ops::*;
use crate::ir::Id;

impl BodyParser<'_> {
    /// `x.fract()` and `x.rem_euclid(m)` of a value matgrad differentiates.
    pub(super) fn non_smooth(&mut self, tokens: impl ToTokens, name: &str) -> Result<Id, ()> {
        self.error(
            tokens,
            format!(
                "`{name}` of a value matgrad differentiates is not supported (its derivative is 1 where it exists, and it jumps: write `x - x.floor()` for `x.fract()`); supported scalar methods: {}, and `floor`, `ceil`, `round`, `trunc`, `div_euclid` (derivative 0)",
                supported(SCALAR_METHODS, SCALAR_SPECIAL)
            ),
        )
    }

    /// `a.abs()` on a matrix: `a.map(|v| v.abs())`, entry by entry.
    pub(super) fn matrix_abs(&mut self, m: &ExprMethodCall, a: Id) -> Result<Id, ()> {
        let v = self.g.build(LambdaParam, &[]);
        let body = self.g.build(Abs, &[v]);
        self.g.span = m.span();
        self.build(m, Map { body }, &[a])
    }

    /// `a.lp_norm(1)`, `a.lp_norm(2)`.
    pub(super) fn lp_norm(&mut self, m: &ExprMethodCall, a: Id) -> Result<Id, ()> {
        let p = match m.args.first() {
            Some(arg) if m.args.len() == 1 => int_literal(arg),
            _ => None,
        };
        let Some(p) = p else {
            return self.error(
                &m.args,
                "`lp_norm` needs one integer literal, 1 or 2, as in `a.lp_norm(1)`",
            );
        };
        self.g.span = m.span();
        self.build(m, LpNorm(p), &[a])
    }

    /// `name` for a path `f64::name`, `f32::name` or `T::name` (`T` the
    /// function's scalar parameter) naming a scalar method.
    pub(super) fn scalar_method_path(&self, func: &Expr) -> Option<String> {
        let Expr::Path(p) = func else { return None };
        if p.qself.is_some() || p.path.segments.len() != 2 {
            return None;
        }
        let (ty, name) = (&p.path.segments[0], &p.path.segments[1]);
        let ty = ty.ident.to_string();
        let generic = matches!(&self.g.scalar, crate::ir::Scalar::Generic(t) if *t == ty)
            || self
                .inlining
                .last()
                .is_some_and(|h| h.scalars.contains(&ty));
        let known = SCALAR_METHODS.iter().any(|(n, ..)| name.ident == n)
            || NON_SMOOTH.iter().any(|n| name.ident == n)
            || name.ident == "powi";
        ((ty == "f64" || ty == "f32" || generic) && known).then(|| name.ident.to_string())
    }

    /// `f64::ln_1p(x)`, `f32::hypot(x, y)`, `T::max(a, b)`: the method
    /// `x.ln_1p()` called by its path.
    pub(super) fn scalar_path_call(&mut self, c: &syn::ExprCall, name: &str) -> Result<Id, ()> {
        if NON_SMOOTH.contains(&name) && !c.args.is_empty() {
            // Read as the method it is: `f64::floor(x)` is `x.floor()`.
            let (receiver, rest) = (&c.args[0], c.args.iter().skip(1));
            let method = syn::Ident::new(name, c.func.span());
            let call: syn::ExprMethodCall = syn::parse_quote!((#receiver).#method(#(#rest),*));
            return self.constant_method(&call, name);
        }
        let arity = match SCALAR_METHODS.iter().find(|(n, ..)| *n == name) {
            Some((_, arity, _)) => arity + 1,
            None => 2, // powi
        };
        if c.args.len() != arity {
            return self.error(
                c,
                format!(
                    "`{}` takes {}, found {}",
                    crate::errors::show(&c.func),
                    plural(arity, "argument"),
                    c.args.len()
                ),
            );
        }
        if name == "powi" {
            let n = int_literal(&c.args[1]);
            let Some(n) = n else {
                return self.error(
                    &c.args[1],
                    "`powi` needs one integer literal exponent, as in `f64::powi(x, 2)`",
                );
            };
            if is_field(&c.args[0]) {
                self.hint = Some(Hint::Scalar);
            }
            let x = self.expr(&c.args[0])?;
            self.g.span = c.span();
            return self.build(c, Powi(n), &[x]);
        }
        let mut args = Vec::new();
        for a in &c.args {
            if is_field(a) {
                self.hint = Some(Hint::Scalar);
            }
            args.push(self.expr(a)?);
        }
        let (_, _, op) = SCALAR_METHODS
            .iter()
            .find(|(n, ..)| *n == name)
            .expect("checked by scalar_method_path");
        self.g.span = c.span();
        self.build(c, op(), &args)
    }
}

/// The value of a constant of `f64` or `f32` named by its path:
/// `std::f64::consts::PI` (also through `core::` or `f64::consts::`),
/// `f64::EPSILON`, `f32::MAX`, `f64::INFINITY`, … An `f32` constant keeps its
/// `f32` value (exactly representable as `f64`).
pub(super) fn float_constant(path: &syn::ExprPath) -> Option<f64> {
    if path.qself.is_some() {
        return None;
    }
    let segs: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let rest = match segs.first().map(String::as_str) {
        Some("std" | "core") => &segs[1..],
        _ => &segs[..],
    };
    let (ty, name) = match rest {
        [ty, consts, name] if consts == "consts" => (ty, name),
        [ty, name] => (ty, name),
        _ => return None,
    };
    let narrow = match ty.as_str() {
        "f64" => false,
        "f32" => true,
        _ => return None,
    };
    macro_rules! table {
        ($($c:ident)*; $($k:ident)*) => {
            match (narrow, name.as_str()) {
                $((false, stringify!($c)) if rest.len() == 3 => std::f64::consts::$c,
                  (true, stringify!($c)) if rest.len() == 3 => f64::from(std::f32::consts::$c),)*
                $((false, stringify!($k)) if rest.len() == 2 => f64::$k,
                  (true, stringify!($k)) if rest.len() == 2 => f64::from(f32::$k),)*
                _ => return None,
            }
        };
    }
    Some(table!(
        E FRAC_1_PI FRAC_1_SQRT_2 FRAC_2_PI FRAC_2_SQRT_PI FRAC_PI_2 FRAC_PI_3 FRAC_PI_4
        FRAC_PI_6 FRAC_PI_8 LN_10 LN_2 LOG10_2 LOG10_E LOG2_10 LOG2_E PI SQRT_2 TAU;
        EPSILON MAX MIN MIN_POSITIVE INFINITY NEG_INFINITY NAN
    ))
}

/// The constants of nalgebra's `RealField`, called on the scalar type:
/// `T::pi()`, `T::e()`, …
pub(super) const REAL_FIELD_CONSTANTS: &[(&str, f64)] = &[
    ("pi", std::f64::consts::PI),
    ("two_pi", std::f64::consts::TAU),
    ("frac_pi_2", std::f64::consts::FRAC_PI_2),
    ("frac_pi_3", std::f64::consts::FRAC_PI_3),
    ("frac_pi_4", std::f64::consts::FRAC_PI_4),
    ("frac_pi_6", std::f64::consts::FRAC_PI_6),
    ("frac_pi_8", std::f64::consts::FRAC_PI_8),
    ("frac_1_pi", std::f64::consts::FRAC_1_PI),
    ("frac_2_pi", std::f64::consts::FRAC_2_PI),
    ("frac_2_sqrt_pi", std::f64::consts::FRAC_2_SQRT_PI),
    ("e", std::f64::consts::E),
    ("log2_e", std::f64::consts::LOG2_E),
    ("log10_e", std::f64::consts::LOG10_E),
    ("ln_2", std::f64::consts::LN_2),
    ("ln_10", std::f64::consts::LN_10),
];
