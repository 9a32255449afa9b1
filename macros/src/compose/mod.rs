//! Composition: a body calls helper functions marked `#[matgrad::differentiable]`,
//! and the gradient flows through them as if their bodies were written inline.
//!
//! A procedural macro sees only the item it is attached to, so the helper's
//! tokens are carried to the caller. `#[differentiable] fn h` emits, beside
//! `h` unchanged, a hidden module of the same name (the type namespace, so
//! `use m::h;` and the path `m::h` reach both) holding a `macro_rules!` that
//! passes `h`'s tokens on to a continuation. When a body calls a function it
//! has no rule for, its expansion invokes that macro through the call's own
//! path, with itself as the continuation; the continuation expands
//! the function again, now knowing `h`'s body, until every helper it needs is
//! known (the `ambassador` crate carries trait definitions the same way).
//!
//! Name resolution does the lookup, so a helper is found exactly where the
//! call finds the function; a function that is not marked falls back to a
//! macro that says so, and its call is then a constant (all arguments
//! constants) or an error (see [`lookup`]). The lookup is written where the
//! generated function's body goes, so the generated function's signature is
//! written on the first step, and its body once every helper is known.

pub mod carry;
pub mod lookup;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::ItemFn;

/// Functions of the runtime the body may call (with or without `matgrad::`).
pub const RUNTIME_FUNCTIONS: &[&str] = &[
    "sigmoid",
    "softplus",
    "relu",
    "erf",
    "erfc",
    "normal_cdf",
    "ln_gamma",
    "digamma",
    "log_sum_exp",
    "logdet",
    "logm",
];

/// A helper read so far: the path the caller reaches it by, and its tokens.
#[derive(Clone)]
pub struct Helper {
    pub key: String,
    pub func: ItemFn,
}

impl Helper {
    /// What identifies the function, whatever path reached it: its tokens.
    pub fn identity(&self) -> String {
        quote::ToTokens::to_token_stream(&self.func).to_string()
    }
}

/// What a body may call beyond nalgebra's methods: the helpers read so far,
/// and which parameters are differentiated (a call whose arguments depend on
/// none of them is a constant and needs no helper).
#[derive(Clone)]
pub struct Calls {
    pub helpers: Vec<Helper>,
    /// Indices of the differentiated parameters; `None`: all of them.
    pub active: Option<Vec<usize>>,
    /// Keys of the functions the body calls that are not known yet (marked
    /// or not), in the order met.
    pub missing: Vec<String>,
    /// Keys of functions found not marked `#[differentiable]`: their calls
    /// with a differentiated argument are errors.
    pub unmarked: Vec<String>,
    /// Keys of bare names (`ln_gamma`) found to be the runtime's own functions, which the
    /// body reads as its operations (a function of the user's of that name is unmarked).
    pub runtime: Vec<String>,
}

impl Calls {
    /// Every parameter differentiated, no helper known (tests of the pipeline).
    pub fn none() -> Self {
        Calls {
            helpers: Vec::new(),
            active: None,
            missing: Vec::new(),
            unmarked: Vec::new(),
            runtime: Vec::new(),
        }
    }

    /// [`Calls::none`], every bare runtime name known to be the runtime's (tests below the
    /// macro, which no lookup answers).
    #[cfg(test)]
    pub fn runtime_known() -> Self {
        let runtime = RUNTIME_FUNCTIONS.iter().map(|n| n.to_string()).collect();
        Calls {
            runtime,
            ..Calls::none()
        }
    }

    pub fn find(&self, key: &str) -> Option<&Helper> {
        self.helpers.iter().find(|h| h.key == key)
    }
}

/// A path's tokens as one key: `helpers :: softmax` → `helpers::softmax`.
pub fn path_key(path: &syn::Path) -> String {
    let mut key = String::new();
    if path.leading_colon.is_some() {
        key.push_str("::");
    }
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    key.push_str(&segs.join("::"));
    key
}

/// Tokens of a key, for a `use` or a macro path.
pub fn key_tokens(key: &str) -> TokenStream {
    key.parse().expect("a key is a path")
}
