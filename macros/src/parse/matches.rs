//! A `match` on a number or a `bool`, read as the chain of `if`s it stands for:
//!
//! ```text
//! match label { 0 => a, 1 | 2 => b, 3..=5 if w => c, k => d }
//! if label == 0 { a } else if label == 1 || label == 2 { b }
//!     else if (3 <= label && label <= 5) && w { c } else { let k = label; d }
//! ```
//!
//! A name an arm binds is the scrutinee in its guard (`k if k > 2`) and is bound to it by a
//! `let` in its body. The scrutinee is read again in each condition: a #[grad] body has no side effects, and
//! what is matched on (a label, a count, a flag) is a constant of the gradient. The last arm is
//! the `else`: the user's function compiles, so the match is exhaustive, and no value reaches
//! past the arms before it but one the last arm takes.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Arm, Expr, ExprMatch, Pat};

/// `m` as an `if` chain, or the tokens to blame and why it cannot be one.
pub fn as_if(m: &ExprMatch) -> Result<Expr, (TokenStream, String)> {
    let scrutinee = &m.expr;
    let Some((last, arms)) = m.arms.split_last() else {
        return Err((
            m.to_token_stream(),
            "a `match` with no arms has no value".to_owned(),
        ));
    };
    if let Some((_, guard)) = &last.guard {
        return Err((
            guard.to_token_stream(),
            "the last arm of a `match` is read as the `else` of the `if`s before it, so it takes no guard: add an arm `_ => …`".to_owned(),
        ));
    }
    let mut chain = arm_block(last, scrutinee)?;
    for arm in arms.iter().rev() {
        let mut cond = condition(&arm.pat, scrutinee)?;
        if let Some((_, guard)) = &arm.guard {
            // A name the arm binds is the scrutinee in its guard too.
            let guard = match binding(&arm.pat) {
                Some(name) => {
                    let value = quote!((#scrutinee));
                    replace_name(guard.to_token_stream(), name, &value)
                }
                None => guard.to_token_stream(),
            };
            cond = match cond {
                Some(c) => Some(quote!((#c) && (#guard))),
                None => Some(quote!(#guard)),
            };
        }
        let Some(cond) = cond else {
            return Err((
                arm.pat.to_token_stream(),
                "this arm takes every value, so the arms after it are never reached: make it the last".to_owned(),
            ));
        };
        let then = arm_block(arm, scrutinee)?;
        chain = quote_spanned!(arm.pat.span()=> { if #cond #then else #chain });
    }
    // (The outer braces of the first arm's `if`, which a value expression does not need.)
    let chain: syn::Block = syn::parse2(chain).expect("a chain of `if`s");
    match chain.stmts.as_slice() {
        [syn::Stmt::Expr(e, None)] => Ok(e.clone()),
        _ => Err((
            last.pat.to_token_stream(),
            "a `match` of one arm: write its body (after `let name = …;` for a name it binds)"
                .to_owned(),
        )),
    }
}

/// The name a pattern binds the whole value to (`k => …`), if it does.
fn binding(pat: &Pat) -> Option<&syn::Ident> {
    match pat {
        Pat::Ident(p) if p.subpat.is_none() && !is_constant_name(&p.ident) => Some(&p.ident),
        _ => None,
    }
}

/// `tokens` with every `name` replaced by `value`.
fn replace_name(tokens: TokenStream, name: &syn::Ident, value: &TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    tokens
        .into_iter()
        .flat_map(|tree| match tree {
            TokenTree::Ident(i) if i == *name => value.clone(),
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), replace_name(g.stream(), name, value));
                inner.set_span(g.span());
                TokenTree::Group(inner).into()
            }
            other => other.into(),
        })
        .collect()
}

/// The arm's body as a block, its pattern's name bound first if it binds one.
fn arm_block(arm: &Arm, scrutinee: &Expr) -> Result<TokenStream, (TokenStream, String)> {
    let body = &arm.body;
    let binding = match &arm.pat {
        Pat::Ident(p) if binding(&arm.pat).is_some() => {
            let (mutability, name) = (&p.mutability, &p.ident);
            quote!(let #mutability #name = #scrutinee;)
        }
        _ => TokenStream::new(),
    };
    Ok(match &**body {
        Expr::Block(b) if binding.is_empty() => b.block.to_token_stream(),
        _ => quote_spanned!(body.span()=> { #binding #body }),
    })
}

/// The condition under which `pat` matches `scrutinee`; `None` if it matches every value.
fn condition(pat: &Pat, scrutinee: &Expr) -> Result<Option<TokenStream>, (TokenStream, String)> {
    Ok(Some(match pat {
        Pat::Wild(_) => return Ok(None),
        Pat::Ident(_) if binding(pat).is_some() => return Ok(None),
        Pat::Paren(p) => return condition(&p.pat, scrutinee),
        Pat::Lit(lit) => match &lit.lit {
            syn::Lit::Bool(b) if b.value => quote!(#scrutinee),
            syn::Lit::Bool(_) => quote!(!(#scrutinee)),
            _ => quote!(#scrutinee == #lit),
        },
        Pat::Range(r) => {
            let lower = r.start.as_ref().map(|lo| quote!(#lo <= #scrutinee));
            let upper = r.end.as_ref().map(|hi| match r.limits {
                syn::RangeLimits::Closed(_) => quote!(#scrutinee <= #hi),
                syn::RangeLimits::HalfOpen(_) => quote!(#scrutinee < #hi),
            });
            match (lower, upper) {
                (Some(l), Some(u)) => quote!((#l && #u)),
                (Some(c), None) | (None, Some(c)) => c,
                (None, None) => return Ok(None),
            }
        }
        Pat::Or(or) => {
            let mut any = Vec::new();
            for case in &or.cases {
                match condition(case, scrutinee)? {
                    Some(c) => any.push(c),
                    None => return Ok(None),
                }
            }
            quote!((#(#any)||*))
        }
        other => {
            return Err((
                other.to_token_stream(),
                "a #[grad] body matches numbers and `bool`s, by literals (`0`, `1 | 2`, `3..=5`, `true`), `_` and a name: other patterns (enum variants, tuples, constants) are not supported; write the `if`s".to_owned(),
            ))
        }
    }))
}

/// A name in a pattern that Rust reads as a constant to compare with (`MAX`), not a binding.
fn is_constant_name(name: &syn::Ident) -> bool {
    name.to_string()
        .starts_with(|c: char| c.is_ascii_uppercase())
}
