//! An expansion in steps. The first writes the function as written and its
//! generated functions, whole when the body calls no helper it has not read;
//! otherwise each generated function's body asks for the next helper
//! (`compose::lookup`), and a later step (`resume!`) writes that body again,
//! knowing one more helper. This module drives the steps; `expand` (the
//! gradient) and `derivatives` (Hessians and Jacobians) write the code.

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{Ident, ItemFn};

use crate::attr::Kind;
use crate::compose::carry::Continuation;
use crate::compose::{lookup, Calls, Helper};
use crate::expand::{generated_fn, grad, grad_types, original, read, Companion, Read};
use crate::{derivatives, signature};

/// Which part of an expansion a step writes.
pub enum Step {
    /// The function as written and its generated functions.
    First,
    /// The body of the generated function with this suffix, once a helper's
    /// body has arrived.
    Body(String),
}

/// Expands `kind`'s attribute on `item`, knowing the helpers in `calls`.
/// When the body calls a helper not read yet, each generated function's body
/// asks for it (see `compose::lookup`) instead of being derived.
pub fn run(
    kind: Kind,
    attr: TokenStream,
    item: TokenStream,
    mut calls: Calls,
    step: Step,
) -> TokenStream {
    let mut read = match read(kind, attr.clone(), item.clone(), &mut calls) {
        Ok(r) => r,
        Err(out) => return out,
    };
    if read.errors.is_empty() && !calls.missing.is_empty() {
        let pending = calls.missing.remove(0);
        calls.missing.clear();
        let ask = |target: &str| {
            lookup::ask(&Continuation {
                kind,
                attr: attr.clone(),
                item: item.clone(),
                target: target.to_owned(),
                pending: pending.clone(),
                calls: calls.clone(),
            })
        };
        return match step {
            Step::First => {
                let shells = companions(kind, &mut read).into_iter().map(|c| {
                    let doc = format!(
                        " Value and derivatives of `{}`, derived by `#[{}]` through the helper functions it calls.",
                        read.func.sig.ident,
                        kind.name()
                    );
                    let attrs = quote!(#[doc = #doc] #[must_use] #[allow(unused_variables, unused_mut, unused_parens, clippy::needless_range_loop)]);
                    generated_fn(&read.func, c.suffix, &c.extra, &c.outputs, attrs, ask(c.suffix))
                });
                let func = original(&read.func);
                quote!(#func #(#shells)*)
            }
            Step::Body(target) => ask(&target),
        };
    }
    let generated = match kind {
        Kind::Grad => grad(&mut read),
        Kind::Hessian => derivatives::hessian(&mut read),
        Kind::Jacobian => derivatives::jacobian(&mut read),
    };
    let errors = read.errors.to_compile_errors();
    match step {
        Step::First => {
            let func = original(&read.func);
            quote!(#func #generated #errors)
        }
        Step::Body(target) => {
            let name = signature::suffixed(&read.func.sig.ident, &target);
            let body = body_of(generated, &name);
            quote!({ #errors #body })
        }
    }
}

/// The first step of `kind`'s expansion, knowing no helper.
pub fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    run(kind, attr, item, Calls::none(), Step::First)
}

/// The generated functions of `kind` for `read`.
fn companions(kind: Kind, read: &mut Read) -> Vec<Companion> {
    match kind {
        Kind::Grad => vec![Companion {
            suffix: "grad",
            extra: Vec::new(),
            outputs: grad_types(read),
        }],
        Kind::Hessian => derivatives::hessian_companions(read),
        Kind::Jacobian => {
            let entries = derivatives::declared_entries(read);
            vec![derivatives::jacobian_companion(read, entries)]
        }
    }
}

/// The body of the function `name` among `generated`.
fn body_of(generated: TokenStream, name: &Ident) -> TokenStream {
    let file: Option<syn::File> = syn::parse2(generated).ok();
    let found = file
        .into_iter()
        .flat_map(|f| f.items)
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == *name => Some(f.block),
            _ => None,
        });
    match found {
        Some(block) => block.to_token_stream(),
        None => quote!({ ::core::unreachable!("matgrad reported an error") }),
    }
}

/// `resume! { @helper [fn …] <continuation> }` (the helper's body arrived) or
/// `resume! { @unmarked <continuation> }` (the function is not marked): the
/// body of the waiting generated function, written knowing one more function.
/// What a lookup found for the name it asked about.
enum Found {
    /// A helper marked `#[differentiable]`, with its tokens.
    Helper(Box<ItemFn>),
    /// A function not marked.
    Unmarked,
    /// One of the runtime's own functions (`matgrad::ln_gamma`), by a bare name.
    Runtime,
}

pub fn resume(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let (at, tag) = (tokens.next(), tokens.next());
    let helper = match (at, tag) {
        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(tag))) if p.as_char() == '@' => {
            match tag.to_string().as_str() {
                "helper" => match tokens.next() {
                    Some(TokenTree::Group(g)) => syn::parse2::<ItemFn>(g.stream()).ok(),
                    _ => None,
                }
                .map(|f| Found::Helper(Box::new(f))),
                "unmarked" => Some(Found::Unmarked),
                "runtime" => Some(Found::Runtime),
                _ => None,
            }
        }
        _ => None,
    };
    let rest: TokenStream = tokens.collect();
    let (Some(helper), Some(mut cont)) = (helper, Continuation::parse(rest)) else {
        return quote!(
            ::core::compile_error! { "matgrad: malformed continuation (do the versions of matgrad and matgrad-macros differ?)" }
        );
    };
    let key = std::mem::take(&mut cont.pending);
    match helper {
        Found::Helper(func) => cont.calls.helpers.push(Helper { key, func: *func }),
        Found::Unmarked => cont.calls.unmarked.push(key),
        Found::Runtime => cont.calls.runtime.push(key),
    }
    let step = Step::Body(cont.target);
    run(cont.kind, cont.attr, cont.item, cont.calls, step)
}
