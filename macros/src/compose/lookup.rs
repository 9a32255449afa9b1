//! Asking for a function's body: the code an expansion writes, in place of a
//! generated function's body, when the loss calls a function not known yet.
//!
//! The call's path is imported in a block, `use path as h;`, inside a block
//! that imports a fallback `h` whose `body!` says the function is not
//! marked. A name in a block shadows the same name in an enclosing block, in
//! each namespace separately: when `path` is marked, its hidden module (the
//! type namespace) is the inner `h` and `h::body!` is the helper's; when it
//! is not, the inner `h` is only the function, and `h::body!` is the
//! fallback's. (Within one module, an explicit import may not shadow a glob
//! one for a macro path when both come from a macro expansion; across blocks
//! it may, which is why the lookup sits in the function's body.)

use proc_macro2::TokenStream;
use quote::quote;

use super::carry::Continuation;
use super::key_tokens;

/// The block that asks for `cont.pending`'s body and, through it, becomes
/// the generated function's body.
pub fn ask(cont: &Continuation) -> TokenStream {
    let path = key_tokens(&cont.pending);
    let continuation = cont.to_tokens();
    quote! {{
        mod __matgrad_fallback {
            pub(crate) mod __matgrad_h {
                macro_rules! __matgrad_unmarked {
                    ($($continuation:tt)*) => {
                        ::matgrad::__private::resume! { @unmarked $($continuation)* }
                    };
                }
                pub(crate) use __matgrad_unmarked as body;
            }
        }
        #[allow(unused_imports)]
        use __matgrad_fallback::__matgrad_h;
        {
            #[allow(unused_imports)]
            use #path as __matgrad_h;
            // (In a block of its own, so that what the invocation expands to
            // cannot be where `path` is found: the import stays decidable.)
            { __matgrad_h::body! { #continuation } }
        }
    }}
}
