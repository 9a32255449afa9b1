//! The runtime's functions that a `#[grad]` body reads as its operations (`sigmoid`,
//! `ln_gamma`, …), each marked by a hidden module of the same name, as
//! `#[matgrad::differentiable]` marks a helper. A body that calls a bare `ln_gamma` asks the
//! name's module (`macros/src/compose/lookup.rs`): `matgrad`'s, imported by the user, answers
//! that it is the runtime's; a function of the user's of that name has none, so it stays the
//! user's and is never taken for matgrad's.

/// What the mark of a runtime function answers.
#[doc(hidden)]
#[macro_export]
macro_rules! __matgrad_runtime_body {
    ($($continuation:tt)*) => {
        $crate::__private::resume! { @runtime $($continuation)* }
    };
}

/// The hidden modules, one per runtime function a body may call by a bare name.
macro_rules! marks {
    ($($name:ident)*) => {$(
        #[doc(hidden)]
        pub mod $name {
            pub use crate::__matgrad_runtime_body as body;
        }
    )*};
}

pub(crate) use marks;
