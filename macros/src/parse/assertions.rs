//! Assertions among a body's top-level statements (`assert_eq!(x.ncols(), w.len());`,
//! `assert!`, `assert_ne!` and their `debug_` forms), as careful code checks its inputs: each
//! generated function checks them first, as written, so it panics where the function does. An
//! assertion may read parameters only (it runs before anything the body computes); one in a
//! loop or a branch, or reading a value the body computes, is a compile error.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Block, Macro, Stmt};

use super::{Binding, BodyParser};
use crate::ir::ops::Op;

/// The assertion macros a body may hold.
const ASSERTIONS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
];

/// Whether `m` is one of [`ASSERTIONS`].
pub fn is_assertion(m: &Macro) -> bool {
    m.path
        .get_ident()
        .is_some_and(|i| ASSERTIONS.iter().any(|a| i == a))
}

/// `body` (a block) with the top-level assertions of `block` as its first statements.
pub fn put_first(block: &Block, body: TokenStream) -> TokenStream {
    let assertions: TokenStream = (block.stmts.iter())
        .filter(|s| matches!(s, Stmt::Macro(m) if is_assertion(&m.mac)))
        .map(ToTokens::to_token_stream)
        .collect();
    if assertions.is_empty() {
        return body;
    }
    let mut tokens = body.clone().into_iter();
    match (tokens.next(), tokens.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Brace => {
            let inner = g.stream();
            quote::quote!({ #assertions #inner })
        }
        _ => quote::quote!({ #assertions #body }),
    }
}

impl BodyParser<'_> {
    /// Checks that top-level assertion `m` reads parameters only.
    pub(super) fn assertion(&mut self, m: &Macro) {
        let mut names = Vec::new();
        super::closure::idents(m.tokens.clone(), &mut names);
        let computed = names.iter().find(|n| {
            let binding = self.scope.iter().rev().find(|(bound, _)| bound == *n);
            match binding {
                Some((_, Binding::Node(id))) => !matches!(self.g.op(*id), Op::Param(_)),
                Some(_) => true,
                None => false,
            }
        });
        if let Some(name) = computed {
            let _ = self.error(
                m,
                format!("an assertion in a #[grad] body reads parameters only (each generated function checks it first), and `{name}` is computed in the body"),
            );
        }
    }
}
