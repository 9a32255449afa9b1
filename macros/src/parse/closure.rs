//! Closures that read values from around them: `x.map(|v| (v * beta).exp())`
//! and `a.zip_map(&b, |p, q| …)`. A `map` closure reading scalars from around
//! it stays a `map`, its captures arguments of the map (see
//! [`BodyParser::capturing_map`]): one pass, as written, with the captures'
//! gradients sums over the entries. Anything more (a closure reading a
//! matrix, assigning to an outer variable, holding a loop; `zip_map`) is read
//! as the loop over the entries it stands for, `out[k] = f(x[k], …)` for `k in
//! 0..x.len()`, whose captured values get their gradients from the loop
//! rules. A closure that reads only its parameters and literals is a plain
//! `map` (see `BodyParser::map_closure`).

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, ExprClosure, ExprMethodCall, Pat};

use super::{Binding, BodyParser};
use crate::ir::ops::{LambdaParam, Map, Zeros};
use crate::ir::Id;

impl BodyParser<'_> {
    /// `a.zip_map(&b, |p, q| f(p, q))`: entry by entry.
    pub(super) fn zip_map(&mut self, m: &ExprMethodCall) -> Result<Id, ()> {
        let Some((other, closure)) = zip_closure(m) else {
            return self.error(
                &m.args,
                "`zip_map` needs a matrix and a closure of two parameters, as in `.zip_map(&b, |p, q| p * q.exp())`",
            );
        };
        let (a, b) = (self.expr(&m.receiver), self.expr(other));
        let (a, b) = (a?, b?);
        self.g.span = m.span();
        let (sa, sb) = (self.g.shape(a), self.g.shape(b));
        if let Err(msg) = crate::ir::ops::same_shape(sa, sb, &mut self.g.dims, "`zip_map`") {
            return self.error(m, msg);
        }
        self.entrywise_loop(m, &[a, b], closure)
    }

    /// `x.map(|v| f(v, κ))` where `f` reads scalars `κ` from around it (`m`
    /// in `|v| (v - m).exp()`): a [`Map`] whose body reads each of them as a
    /// [`Captured`] leaf, given as the map's arguments after `x`, so that the
    /// closure runs as written, in one pass. `None` where the closure is more
    /// than that (reads a matrix from around it, assigns to an outer
    /// variable, holds a loop or a branch): the caller reads it as the loop
    /// it stands for.
    pub(super) fn capturing_map(
        &mut self,
        m: &ExprMethodCall,
        receiver: Id,
        closure: &ExprClosure,
    ) -> Option<Result<Id, ()>> {
        let [Pat::Ident(param)] = closure.inputs.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        // (A complex map is an `Entrywise` of its own, capturing nothing yet.)
        if self.g.is_complex(receiver) {
            return None;
        }
        let before = self.bound_nodes();
        let depth = self.scope.len();
        let v = self.g.build(LambdaParam, &[]);
        (self.scope).push((param.ident.to_string(), Binding::Node(v)));
        let body = self.expr(&closure.body);
        self.scope.truncate(depth);
        if self.bound_nodes() != before {
            return None;
        }
        let body = match body {
            Ok(body) => body,
            Err(()) => return Some(Err(())),
        };
        if !self.g.shape(body).is_scalar() {
            return Some(self.error(
                &closure.body,
                "the closure passed to `map` must return a scalar",
            ));
        }
        if self.g.is_complex(body) {
            return None;
        }
        let region = self.g.region;
        let (body, captures) = crate::ir::ops::abstract_captures(self.g, body, region)?;
        self.g.span = m.span();
        Some(self.build(m, Map { body }, &[&[receiver], &captures[..]].concat()))
    }

    /// The nodes the names in scope stand for, to tell whether parsing
    /// changed any.
    fn bound_nodes(&self) -> Vec<Option<Id>> {
        (self.scope.iter())
            .map(|(_, b)| match b {
                Binding::Node(id) => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// Whether `closure` reads a name bound around it (other than its own
    /// parameters).
    pub(super) fn captures(&self, closure: &ExprClosure) -> bool {
        let params = closure_params(closure);
        let mut names = Vec::new();
        idents(closure.body.to_token_stream(), &mut names);
        names
            .iter()
            .any(|n| !params.contains(n) && self.scope.iter().any(|(bound, _)| bound == n))
    }

    /// `f.(x₁, x₂, …)` entry by entry, as a loop writing each entry of a
    /// matrix of `xs[0]`'s shape.
    pub(super) fn entrywise_loop(
        &mut self,
        m: &ExprMethodCall,
        xs: &[Id],
        closure: &ExprClosure,
    ) -> Result<Id, ()> {
        let params = closure_params(closure);
        if params.len() != xs.len() {
            return self.error(
                &closure.inputs,
                format!(
                    "`{}` needs a closure of {} parameter{}",
                    m.method,
                    xs.len(),
                    if xs.len() == 1 { "" } else { "s" }
                ),
            );
        }
        let shape = self.g.shape(xs[0]);
        if !shape.is_matrix() {
            return self.error(
                &m.receiver,
                format!(
                    "`{}` applies to a matrix or vector; this is a scalar",
                    m.method
                ),
            );
        }
        let depth = self.scope.len();
        let zeros = self.g.build(Zeros(shape), &[]);
        self.scope
            .push(("__mg_zeros".to_owned(), Binding::Node(zeros)));
        let mut reads = Vec::new();
        for (k, (&x, name)) in xs.iter().zip(&params).enumerate() {
            let source = quote::format_ident!("__mg_src{k}");
            self.scope.push((source.to_string(), Binding::Node(x)));
            let name = syn::Ident::new(name, proc_macro2::Span::call_site());
            reads.push(quote::quote!(let #name = #source[__mg_k];));
        }
        let body = &closure.body;
        let block: syn::Block = syn::parse_quote!({
            let mut __mg_out = __mg_zeros;
            for __mg_k in 0..__mg_src0.len() {
                #(#reads)*
                __mg_out[__mg_k] = #body;
            }
            __mg_out
        });
        let needs_tail = std::mem::replace(&mut self.needs_tail, true);
        let value = self.block(&block);
        self.needs_tail = needs_tail;
        self.scope.truncate(depth);
        value.ok_or(())
    }
}

/// The names a closure binds, in order.
fn closure_params(closure: &ExprClosure) -> Vec<String> {
    closure
        .inputs
        .iter()
        .map(|p| match p {
            Pat::Type(t) => &*t.pat,
            p => p,
        })
        .flat_map(crate::signature::pattern_names)
        .map(|i| i.to_string())
        .collect()
}

/// Every identifier in `tokens` (method names too: a name that is both is
/// taken for a capture, which only costs the faster form).
pub(super) fn idents(tokens: TokenStream, out: &mut Vec<String>) {
    for t in tokens {
        match t {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => idents(g.stream(), out),
            _ => {}
        }
    }
}

/// `zip_map`'s operands: the receiver and the other matrix.
fn zip_closure(m: &ExprMethodCall) -> Option<(&Expr, &ExprClosure)> {
    match (m.args.len(), m.args.first(), m.args.last()) {
        (2, Some(other), Some(Expr::Closure(c))) => Some((other, c)),
        _ => None,
    }
}
