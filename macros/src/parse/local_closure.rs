//! Closures bound by a `let` and called later: `let sq = |v: f64| v * v;` then `sq(r[i])` or
//! `x.map(sq)`. Each call is read as the closure's body with its parameters bound to the
//! call's arguments and every other name as it was where the closure was bound (what the
//! closure captured), so the gradient is that of the body written out at the call.

use syn::{Expr, ExprCall, ExprClosure, Pat};

use super::{Binding, BodyParser};
use crate::ir::Id;

impl BodyParser<'_> {
    /// `let name = |…| …;`: the closure, kept until it is called.
    pub(super) fn bind_closure(&mut self, name: String, c: &ExprClosure) {
        let body: Vec<syn::Stmt> = vec![syn::Stmt::Expr((*c.body).clone(), None)];
        let binding = if !super::control::assigns_anything(&body) {
            self.closures.push((c.clone(), self.scope.len()));
            Binding::Closure(self.closures.len() - 1)
        } else {
            let _ = self.error(
                &c.body,
                "a closure that assigns to a variable is not supported in a #[grad] body: write its body where it is called",
            );
            Binding::Poisoned
        };
        self.scope.push((name, binding));
    }

    /// The closure `func` names, if it names one a `let` bound.
    pub(super) fn bound_closure(&self, func: &Expr) -> Option<usize> {
        let Expr::Path(p) = func else { return None };
        let name = p.path.get_ident()?.to_string();
        match self.scope.iter().rev().find(|(n, _)| *n == name) {
            Some((_, Binding::Closure(k))) => Some(*k),
            _ => None,
        }
    }

    /// `f(a, b)` of closure `k`: its body, its parameters bound to the arguments (read
    /// here) and the names it captured to what they were where it was bound.
    pub(super) fn call_closure(&mut self, c: &ExprCall, k: usize) -> Result<Id, ()> {
        let (closure, visible) = self.closures[k].clone();
        if closure.inputs.len() != c.args.len() {
            return self.error(
                &c.args,
                format!(
                    "this closure takes {}, found {}",
                    super::plural(closure.inputs.len(), "argument"),
                    c.args.len()
                ),
            );
        }
        let args: Vec<Result<Id, ()>> = c.args.iter().map(|a| self.expr(a)).collect();
        let mut params = Vec::new();
        for (pat, arg) in closure.inputs.iter().zip(args) {
            let Some(name) = param_name(pat) else {
                return self.error(
                    pat,
                    "a closure's parameters are plain names in a #[grad] body",
                );
            };
            params.push((name, arg.map_or(Binding::Poisoned, Binding::Node)));
        }
        // Only what the closure could see where it was bound, then its parameters.
        let mut scope = self.scope[..visible].to_vec();
        scope.extend(params);
        let outer = std::mem::replace(&mut self.scope, scope);
        let names = std::mem::replace(&mut self.outer_names, visible);
        let value = match &*closure.body {
            Expr::Block(b) if b.label.is_none() => {
                self.block_value(&b.block, true).and_then(|v| v.ok_or(()))
            }
            body => self.expr(body),
        };
        self.scope = outer;
        self.outer_names = names;
        value
    }
}

/// The name a closure's parameter binds: `v`, `v: f64`, `&v`.
fn param_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(p) if p.subpat.is_none() => Some(p.ident.to_string()),
        Pat::Type(t) => param_name(&t.pat),
        Pat::Reference(r) => param_name(&r.pat),
        _ => None,
    }
}
