//! The attribute's arguments: `#[grad(a, b)]` lists the parameters to
//! differentiate with respect to; `#[grad]` means the first.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Ident, Token};

use crate::errors::Errors;

/// The names listed, each once; a repeated name is reported at its repetition.
pub fn wrt(tokens: TokenStream, errors: &mut Errors) -> Vec<Ident> {
    let parsed = match Punctuated::<Ident, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(p) => p,
        Err(e) => {
            errors.push(syn::Error::new(
                e.span(),
                "expected the names of parameters to differentiate, as in `#[grad(w, b)]`",
            ));
            return Vec::new();
        }
    };
    let mut names: Vec<Ident> = Vec::new();
    for name in parsed {
        if names.contains(&name) {
            errors.at(&name, format!("`{name}` is listed twice"));
        } else {
            names.push(name);
        }
    }
    names
}
