//! Fuzzing harness of `matgrad-macros`.
//!
//! The macro crate is a `proc-macro` crate, so its internals cannot be a
//! dependency. Its module tree is therefore declared here by path, read-only,
//! with the same names as in `macros/src/lib.rs`, so that every `crate::...`
//! path inside it resolves as it does there. The entry point is
//! [`steps::expand`], the function the three attributes call with
//! `proc_macro2` token streams.
//!
//! Keep this list in step with the `mod` lines of `macros/src/lib.rs` (the
//! `#[cfg(test)]` ones excepted).
#![allow(dead_code, unused_imports, unused_variables, clippy::all)]

#[path = "../../macros/src/attr.rs"]
pub mod attr;
#[path = "../../macros/src/batch.rs"]
pub mod batch;
#[path = "../../macros/src/code.rs"]
pub mod code;
#[path = "../../macros/src/compose/mod.rs"]
pub mod compose;
#[path = "../../macros/src/derivatives.rs"]
pub mod derivatives;
#[path = "../../macros/src/diff/mod.rs"]
pub mod diff;
#[path = "../../macros/src/emit/mod.rs"]
pub mod emit;
#[path = "../../macros/src/errors.rs"]
pub mod errors;
#[path = "../../macros/src/expand.rs"]
pub mod expand;
#[path = "../../macros/src/formula.rs"]
pub mod formula;
#[path = "../../macros/src/id.rs"]
pub mod id;
#[path = "../../macros/src/ir/mod.rs"]
pub mod ir;
#[path = "../../macros/src/kron_form.rs"]
pub mod kron_form;
#[path = "../../macros/src/notation.rs"]
pub mod notation;
#[path = "../../macros/src/parse/mod.rs"]
pub mod parse;
#[path = "../../macros/src/plan.rs"]
pub mod plan;
#[path = "../../macros/src/shape.rs"]
pub mod shape;
#[path = "../../macros/src/share.rs"]
pub mod share;
#[path = "../../macros/src/signature.rs"]
pub mod signature;
#[path = "../../macros/src/steps.rs"]
pub mod steps;

pub mod harness;
pub mod mutate;
pub mod rng;
