//! matgrad: exact gradients of nalgebra loss functions, derived symbolically at compile time.
//!
//! (Crate guide: see the README.)

pub use matgrad_macros::grad;
pub use nalgebra;

mod check;
pub use check::{check_gradient, GradientCheck, Point};

#[doc(hidden)]
pub mod __private;
