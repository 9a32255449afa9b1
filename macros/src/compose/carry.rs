//! What travels between items: `#[differentiable]`'s hidden module with the
//! helper's tokens, and the continuation an annotated function passes through
//! it to get expanded again.

use proc_macro2::{Delimiter, Literal, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ItemFn;

use super::{Calls, Helper};
use crate::expand::{self, Kind};

/// `#[matgrad::differentiable] fn h`: `h` as written, and beside it the
/// hidden module `h` whose `body!` passes `h`'s tokens to a continuation.
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(e.span(), "#[matgrad::differentiable] applies to a function");
            let err = err.to_compile_error();
            return quote!(#item #err);
        }
    };
    let name = &func.sig.ident;
    let refused = if !attr.is_empty() {
        Some(syn::Error::new_spanned(
            &attr,
            "#[matgrad::differentiable] takes no arguments",
        ))
    } else if let Some(receiver) = func.sig.receiver() {
        Some(syn::Error::new_spanned(
            receiver,
            "#[matgrad::differentiable] applies to free functions (its body is read inline where it is called); pass what the method reads from `self` as parameters",
        ))
    } else if crate::parse::RUNTIME_FUNCTIONS.contains(&name.to_string().as_str()) {
        Some(syn::Error::new_spanned(
            name,
            format!("`{name}` is the name of `matgrad::{name}`, which a #[grad] body calls by that name: give this helper another name"),
        ))
    } else {
        None
    };
    if let Some(err) = refused {
        // The function as written, so that its callers see no second error.
        let err = err.to_compile_error();
        return quote!(#func #err);
    }
    quote! {
        #func
        #[doc(hidden)]
        #[allow(unused_imports, non_snake_case, unreachable_pub, clippy::all)]
        pub(crate) mod #name {
            // A helper's own calls are reached from here: they see what it sees.
            pub(crate) use super::*;
            macro_rules! __matgrad_body {
                ($($continuation:tt)*) => {
                    ::matgrad::__private::resume! { @helper [#func] $($continuation)* }
                };
            }
            pub(crate) use __matgrad_body as body;
        }
    }
}

/// The state of an expansion waiting for a helper's body: the attribute and
/// item it expands, the generated function whose body it writes, and what it
/// has learnt so far.
pub struct Continuation {
    pub kind: Kind,
    pub attr: TokenStream,
    pub item: TokenStream,
    /// The generated function's suffix (`grad`, `hessian`, `hvp`, `jacobian`).
    pub target: String,
    /// The key whose helper the next step brings.
    pub pending: String,
    pub calls: Calls,
}

impl Continuation {
    /// As tokens, for a macro to pass on: `[kind] [attr] [item] [target]
    /// [pending] [unmarked…] ([key] [helper])*`.
    pub fn to_tokens(&self) -> TokenStream {
        let kind = syn::Ident::new(self.kind.name(), proc_macro2::Span::call_site());
        let (attr, item) = (&self.attr, &self.item);
        let (target, pending) = (
            Literal::string(&self.target),
            Literal::string(&self.pending),
        );
        let unmarked = self.calls.unmarked.iter().map(|k| Literal::string(k));
        let helpers = self.calls.helpers.iter().map(|h| {
            let (key, func) = (Literal::string(&h.key), &h.func);
            quote!([#key] [#func])
        });
        quote!([#kind] [#attr] [#item] [#target] [#pending] [#(#unmarked)*] #(#helpers)*)
    }

    /// Reads [`Continuation::to_tokens`]'s output.
    fn parse(tokens: TokenStream) -> Option<Continuation> {
        let mut groups = tokens.into_iter().map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => Some(g.stream()),
            _ => None,
        });
        let mut next = || groups.next().flatten();
        let kind = match next()?.to_string().as_str() {
            "grad" => Kind::Grad,
            "hessian" => Kind::Hessian,
            "jacobian" => Kind::Jacobian,
            _ => return None,
        };
        let (attr, item) = (next()?, next()?);
        let target = string(next()?)?;
        let pending = string(next()?)?;
        let unmarked = next()?
            .into_iter()
            .map(|t| string(t.into_token_stream()))
            .collect::<Option<_>>()?;
        let mut helpers = Vec::new();
        while let Some(key) = next() {
            let func = syn::parse2(next()?).ok()?;
            helpers.push(Helper {
                key: string(key)?,
                func,
            });
        }
        let mut calls = Calls::none();
        calls.helpers = helpers;
        calls.unmarked = unmarked;
        Some(Continuation {
            kind,
            attr,
            item,
            target,
            pending,
            calls,
        })
    }
}

/// A string literal's value.
fn string(tokens: TokenStream) -> Option<String> {
    let lit: syn::LitStr = syn::parse2(tokens).ok()?;
    Some(lit.value())
}

/// `resume! { @helper [fn …] <continuation> }` (the helper's body arrived) or
/// `resume! { @unmarked <continuation> }` (the function is not marked): the
/// body of the waiting generated function, written knowing one more function.
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
                .map(Some),
                "unmarked" => Some(None),
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
        Some(func) => cont.calls.helpers.push(Helper { key, func }),
        None => cont.calls.unmarked.push(key),
    }
    let step = expand::Step::Body(cont.target);
    expand::run(cont.kind, cont.attr, cont.item, cont.calls, step)
}
