//! What travels between items: `#[differentiable]`'s hidden module with the
//! helper's tokens, and the continuation an annotated function passes through
//! it to get expanded again.

use proc_macro2::{Delimiter, Literal, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ItemFn;

use super::{Calls, Helper};
use crate::attr::Kind;

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
    } else if super::RUNTIME_FUNCTIONS.contains(&name.to_string().as_str()) {
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
    /// [pending] [unmarked…] [runtime…] ([key] [helper])*`.
    pub fn to_tokens(&self) -> TokenStream {
        let kind = syn::Ident::new(self.kind.name(), proc_macro2::Span::call_site());
        let (attr, item) = (&self.attr, &self.item);
        let (target, pending) = (
            Literal::string(&self.target),
            Literal::string(&self.pending),
        );
        let unmarked = self.calls.unmarked.iter().map(|k| Literal::string(k));
        let runtime = self.calls.runtime.iter().map(|k| Literal::string(k));
        let helpers = self.calls.helpers.iter().map(|h| {
            let (key, func) = (Literal::string(&h.key), &h.func);
            quote!([#key] [#func])
        });
        quote!([#kind] [#attr] [#item] [#target] [#pending] [#(#unmarked)*] [#(#runtime)*] #(#helpers)*)
    }

    /// Reads [`Continuation::to_tokens`]'s output.
    pub fn parse(tokens: TokenStream) -> Option<Continuation> {
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
        let mut strings = || -> Option<Vec<String>> {
            next()?
                .into_iter()
                .map(|t| string(t.into_token_stream()))
                .collect()
        };
        let (unmarked, runtime) = (strings()?, strings()?);
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
        calls.runtime = runtime;
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
