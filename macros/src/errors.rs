//! Every error of one expansion, each at its tokens, reported together.

use proc_macro2::TokenStream;
use quote::ToTokens;

#[derive(Default)]
pub struct Errors {
    list: Vec<syn::Error>,
}

impl Errors {
    pub fn at(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.list.push(syn::Error::new_spanned(tokens, msg));
    }

    pub fn push(&mut self, err: syn::Error) {
        self.list.push(err);
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Forgets the errors after the first `len` (of an attempt given up).
    pub fn truncate(&mut self, len: usize) {
        self.list.truncate(len);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn to_compile_errors(&self) -> TokenStream {
        self.list.iter().map(syn::Error::to_compile_error).collect()
    }
}

/// Tokens as a user writes them: `DVector<f64>`, `na::Matrix3::identity`,
/// not `DVector < f64 >`.
pub fn show(tokens: impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let mut out = String::new();
    for (i, part) in text.split(' ').enumerate() {
        let glue = i > 0
            && !matches!(
                part.chars().next(),
                Some('<' | '>' | ',' | ')' | ']' | ':' | '.')
            )
            && !matches!(out.chars().last(), Some('<' | '&' | '(' | '[' | ':' | '.'));
        if glue {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}
