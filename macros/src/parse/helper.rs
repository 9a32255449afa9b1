//! Calls of functions other than nalgebra's methods and the runtime's: a
//! helper marked `#[matgrad::differentiable]`, read inline as if its body
//! were written at the call, or a call on constants only, which is a constant.

use syn::spanned::Spanned;
use syn::{Expr, FnArg, Pat};

use super::{Binding, BodyParser, Hint};
use crate::compose::{path_key, Helper};
use crate::ir::ops::{ConstCall, Op};
use crate::ir::Id;
use crate::shape::Shape;

/// A helper being read inline, innermost last.
pub(super) struct Inlined {
    identity: String,
    name: String,
    key: String,
    /// The helper's type parameters, which stand for the scalar type.
    pub(super) scalars: Vec<String>,
}

impl BodyParser<'_> {
    /// `f(a, b)` for a function matgrad has no rule for: a helper's body read
    /// inline; an unmarked function on constants, a constant; an unmarked
    /// function of a differentiated value, an error. Which of them it is,
    /// the expansion learns by asking for the function's body.
    pub(super) fn function_call(&mut self, c: &syn::ExprCall, unwrap: bool) -> Result<Id, ()> {
        let hint = self.declared_call.take();
        let path = match &*c.func {
            Expr::Path(p)
                if p.qself.is_none() && p.path.segments.iter().all(|s| s.arguments.is_none()) =>
            {
                &p.path
            }
            _ => {
                return self.error(
                    &c.func,
                    "a #[grad] body calls functions by their path, as in `sigmoid(x)` or `helpers::softmax(&z)`",
                )
            }
        };
        let args: Vec<Result<Id, ()>> = c.args.iter().map(|a| self.expr(a)).collect();
        let args: Vec<Id> = args.into_iter().collect::<Result<_, _>>()?;
        let key = self.callee_key(path)?;
        let shown = crate::errors::show(path);
        if let Some(helper) = self.calls.find(&key).cloned() {
            return self.inline(c, helper, &args);
        }
        // `Type::function`, an associated function, and `Self(…)`, a
        // constructor, cannot be marked, nor imported (`use Self…` is not
        // Rust), so they are not looked up.
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let constructs_self = segments == ["Self"];
        let associated = segments[0] == "Self"
            || segments.len() >= 2 && {
                let owner = &segments[segments.len() - 2];
                owner.starts_with(|ch: char| ch.is_uppercase()) || is_primitive(owner)
            };
        if unwrap && !associated {
            return self.error(
                c,
                "`unwrap` of a function's result is supported on associated functions of constants, as in `T::from_usize(n).unwrap()`",
            );
        }
        if !associated && !self.calls.unmarked.contains(&key) {
            // Marked or not, the next step of the expansion will know.
            self.calls.missing.push(key);
            return Err(());
        }
        if !args.iter().any(|&a| self.is_active(a)) {
            return self.constant_call(c, &key, args, hint, unwrap);
        }
        let owner = segments.len().checked_sub(2).map(|k| segments[k].as_str());
        let unsupported_type = owner.filter(|o| {
            matches!(
                *o,
                "UnitQuaternion"
                    | "Quaternion"
                    | "UnitComplex"
                    | "Isometry2"
                    | "Isometry3"
                    | "Similarity2"
                    | "Similarity3"
                    | "Translation2"
                    | "Translation3"
                    | "Point2"
                    | "Point3"
            )
        });
        let msg = if let Some(owner) = unsupported_type {
            format!("`{owner}` is not supported in a #[grad] body: matgrad differentiates through vectors, matrices and `Rotation3` (`Rotation3::from_scaled_axis(v)`, `Rotation3::new(v)`); write a point as a `Vector3` and a transform as a rotation and a translation vector")
        } else if constructs_self {
            "`Self(…)` builds the impl's type from a value matgrad differentiates: matgrad differentiates through matrices and scalars, and reads the bodies of free functions marked `#[matgrad::differentiable]`".to_owned()
        } else if associated {
            format!("`{shown}` is an associated function called with a value matgrad differentiates: matgrad reads the bodies of free functions marked `#[matgrad::differentiable]`, so move it into one")
        } else if crate::compose::RUNTIME_FUNCTIONS.contains(&segments[segments.len() - 1].as_str())
        {
            format!("`{shown}` here is a function of yours, not `matgrad::{shown}`, and it is called with a value matgrad differentiates: call `matgrad::{shown}`, or give yours another name and mark it with `#[matgrad::differentiable]`")
        } else {
            format!("`{shown}` is called with a value matgrad differentiates, so matgrad needs its body: mark `{shown}` with `#[matgrad::differentiable]` (its body may use what a #[grad] body uses)")
        };
        self.error(&c.func, msg)
    }

    /// The key of a call's path: from the calling function's module. A
    /// helper's own calls are reached through the helper's hidden module,
    /// which sees what the helper's module sees.
    pub(super) fn callee_key(&mut self, path: &syn::Path) -> Result<String, ()> {
        let mut key = path_key(path);
        if let Some(rest) = key.strip_prefix("self::") {
            key = rest.to_owned();
        }
        let absolute = key.starts_with("::") || key.starts_with("crate::");
        match self.inlining.last() {
            Some(_) if key.starts_with("super::") => self.fail(
                path,
                "a helper's body calls other functions by a path from its own module or from the crate root (`crate::…`), not through `super`",
            ),
            Some(h) if !absolute => Ok(format!("{}::{key}", h.key)),
            _ => Ok(key),
        }
    }

    /// Whether `id` depends on a differentiated parameter (or on the
    /// parameter of a closure, whose receiver may be differentiated).
    pub(super) fn is_active(&self, id: Id) -> bool {
        let active = self.calls.active.as_deref();
        self.g.depends_on(id, |_, n| match &n.op {
            Op::Param(p) => active.is_none_or(|a| a.contains(&p.index)),
            Op::LambdaParam(_) => true,
            _ => false,
        })[id.index()]
    }

    /// The helper's body read with its parameters bound to `args`.
    fn inline(&mut self, c: &syn::ExprCall, helper: Helper, args: &[Id]) -> Result<Id, ()> {
        let identity = helper.identity();
        let name = helper.func.sig.ident.to_string();
        if let Some(at) = self.inlining.iter().position(|h| h.identity == identity) {
            let mut chain: Vec<&str> = self.inlining[at..]
                .iter()
                .map(|h| h.name.as_str())
                .collect();
            chain.push(&name);
            return self.error(
                &c.func,
                format!(
                    "`{name}` calls itself ({}): matgrad reads a helper's body inline, so a helper cannot be recursive",
                    chain.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" → ")
                ),
            );
        }
        let sig = &helper.func.sig;
        if sig.inputs.len() != args.len() {
            return self.error(
                c,
                format!(
                    "`{name}` takes {}, found {}",
                    super::plural(sig.inputs.len(), "argument"),
                    args.len()
                ),
            );
        }
        let mut scope = Vec::new();
        for (input, &arg) in sig.inputs.iter().zip(args) {
            let pat = match input {
                FnArg::Typed(t) => &*t.pat,
                FnArg::Receiver(r) => return self.error(
                    r,
                    "a #[matgrad::differentiable] helper is a free function: it takes no `self`",
                ),
            };
            let Pat::Ident(p) = pat else {
                return self.error(
                    pat,
                    "a #[matgrad::differentiable] helper's parameters are plain names",
                );
            };
            scope.push((p.ident.to_string(), Binding::Node(arg)));
        }
        self.inlining.push(Inlined {
            identity,
            name,
            key: helper.key.clone(),
            scalars: sig
                .generics
                .type_params()
                .map(|t| t.ident.to_string())
                .collect(),
        });
        let scope = std::mem::replace(&mut self.scope, scope);
        let needs_tail = std::mem::replace(&mut self.needs_tail, true);
        let value = self.block(&super::returns::as_values(&helper.func.block));
        self.needs_tail = needs_tail;
        self.scope = scope;
        self.inlining.pop();
        value.ok_or(())
    }

    /// `f(a, b)` on constants: a constant of the gradient, called as written.
    fn constant_call(
        &mut self,
        c: &syn::ExprCall,
        key: &str,
        args: Vec<Id>,
        hint: Option<Hint>,
        unwrap: bool,
    ) -> Result<Id, ()> {
        // (A typed `let` gives the shape: only fixed sizes, which need no
        // value to read them from.)
        let builds_matrix = key.rsplit("::").nth(1).is_some_and(builds_matrix);
        // `usize::max(1, n)`, `u32::pow(b, e)`: an integer, as its type's functions return.
        let integer_owner = key
            .rsplit("::")
            .nth(1)
            .is_some_and(crate::signature::is_integer_type);
        if key.rsplit("::").nth(1) == Some("Vec") {
            return self.error(
                c,
                "a `Vec` built in a #[grad] body is not supported: matgrad differentiates through numbers, vectors and matrices; keep the values in a matrix (`DMatrix::zeros(n, k)`, then `set_column(t, &x)`), or add them up as the loop goes",
            );
        }
        let shape = match hint {
            None if integer_owner => Shape::Int,
            None if builds_matrix => {
                return self.error(
                    c,
                    "this call on constants builds a matrix, but matgrad reads an untyped call on constants as a scalar: declare its type (`let m: Matrix3<f64> = …;`, fixed sizes only), or compute it before the loss and pass it as a parameter",
                )
            }
            None | Some(Hint::Scalar) => Shape::Scalar,
            Some(Hint::Like(s)) => s,
            Some(Hint::Transposed(s)) => s.transposed(),
            Some(Hint::Matrix) => {
                return self.error(
                    c,
                    "a call on constants only is a constant, here a matrix of a size known only at run time: compute it before the loss and pass it as a parameter",
                )
            }
        };
        // (An unsuffixed literal among an integer function's arguments is an integer.)
        let args: Vec<Id> = if integer_owner {
            let as_integer = |g: &mut crate::ir::Graph, a: Id| match g.lit_value(a) {
                Some(v) if v.fract() == 0.0 => g.build(crate::ir::ops::IntLit(v as i64), &[]),
                _ => a,
            };
            args.into_iter().map(|a| as_integer(self.g, a)).collect()
        } else {
            args
        };
        let borrowed = c.args.iter().map(by_reference).collect();
        self.g.span = c.span();
        let call = ConstCall {
            path: key.to_owned(),
            borrowed,
            shape,
            method: false,
            unwrap,
        };
        let id = self.build(c, call, &args)?;
        // Data a typed `let` declared (`let order: Vec<usize> = argsort(times);`).
        if let Some(element) = self.pending_element.take() {
            self.elements.insert(id, element);
        }
        if let Some(fields) = self.pending_tuple.take() {
            self.tuples.insert(id, fields);
        }
        Ok(id)
    }

    /// `x.floor()` and the other methods without a useful derivative, called as written. Of
    /// a value matgrad differentiates, those that round to an integer (`floor`, `ceil`,
    /// `round`, `trunc`, `div_euclid`) have derivative 0 wherever it exists, as a cast to an
    /// integer does (bilinear interpolation reads `x - x.floor()`); `fract` and `rem_euclid`
    /// of one, whose derivative is 1, are errors.
    pub(super) fn constant_method(
        &mut self,
        m: &syn::ExprMethodCall,
        name: &str,
    ) -> Result<Id, ()> {
        let receiver = self.expr(&m.receiver)?;
        let args: Vec<Result<Id, ()>> = m.args.iter().map(|a| self.expr(a)).collect();
        let mut all = vec![receiver];
        all.extend(args.into_iter().collect::<Result<Vec<_>, _>>()?);
        let rounds = matches!(
            name,
            "floor" | "ceil" | "round" | "round_ties_even" | "trunc" | "div_euclid"
        );
        if all.iter().any(|&a| !self.g.shape(a).is_scalar())
            || !rounds && all.iter().any(|&a| self.is_active(a))
        {
            return self.non_smooth(&m.method, name);
        }
        self.g.span = m.span();
        self.build(
            m,
            ConstCall {
                path: name.to_owned(),
                borrowed: vec![false; all.len()],
                shape: Shape::Scalar,
                method: true,
                unwrap: false,
            },
            &all,
        )
    }
}

/// Whether `owner`'s associated functions build a nalgebra matrix:
/// `DMatrix`, `SVector`, `Matrix3`, `Matrix2x3`, `RowVector4`, `Matrix3xX`, ….
fn builds_matrix(owner: &str) -> bool {
    let named = [
        "DMatrix",
        "DVector",
        "RowDVector",
        "SMatrix",
        "SVector",
        "OMatrix",
    ];
    let sized = owner.strip_prefix("Row").unwrap_or(owner);
    let sized = (sized.strip_prefix("Matrix")).or_else(|| sized.strip_prefix("Vector"));
    named.contains(&owner)
        || sized.is_some_and(|rest| {
            rest.chars()
                .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X')
        })
}

/// Rust's primitive types, whose associated functions (`f64::from`, `usize::max`) cannot be
/// imported, so are never looked up as helpers.
fn is_primitive(name: &str) -> bool {
    crate::signature::is_integer_type(name) || matches!(name, "f64" | "f32" | "bool")
}

/// Whether a call's argument is written `&e`.
fn by_reference(e: &Expr) -> bool {
    match e {
        Expr::Reference(_) => true,
        Expr::Paren(p) => by_reference(&p.expr),
        Expr::Group(g) => by_reference(&g.expr),
        _ => false,
    }
}
