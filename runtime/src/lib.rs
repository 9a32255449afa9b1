//! matgrad: exact gradients of nalgebra loss functions, derived symbolically at compile time.
//!
//! Write a loss as an ordinary function of [nalgebra](https://nalgebra.org) matrices and vectors
//! and put [`#[grad]`](macro@grad) on it. The function is kept exactly as written, and a second
//! function `<name>_grad`, with the same parameters, returns the value of the loss and its exact
//! gradient with respect to the parameters the attribute lists. The gradient is derived at
//! compile time with matrix calculus and emitted as plain nalgebra code: no operator-overloading
//! tape, no dual numbers, no graph built at run time. (A loop whose reverse pass needs the values
//! it carried stores them once per iteration in one buffer, as a hand-written gradient would; see
//! the [`guide`].)
//!
//! ```
//! use matgrad::grad;
//! use matgrad::nalgebra::{DMatrix, DVector};
//!
//! /// Least squares.
//! #[grad(w)]
//! pub fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
//!     let r = x * w - y;
//!     r.norm_squared()
//! }
//!
//! let x = DMatrix::from_fn(5, 3, |i, j| (i as f64 + 1.0) * 0.3 - j as f64 * 0.7);
//! let y = DVector::from_fn(5, |i, _| i as f64 * 0.5);
//! let w = DVector::from_vec(vec![0.1, -0.2, 0.3]);
//!
//! // The value, and ∇w = 2 xᵀ(x w − y): a DVector<f64>, the shape of w.
//! let (loss, dw) = lsq_grad(&w, &x, &y);
//! assert_eq!(loss, lsq(&w, &x, &y));
//!
//! // Compare with central finite differences, as you would in a test.
//! matgrad::check_gradient(|w| lsq(w, &x, &y), &w, &dw).assert_within(1e-6);
//! ```
//!
//! # The attribute
//!
//! - `#[grad(a, b, ...)]` differentiates with respect to the listed parameters; `#[grad]` alone
//!   means the first one.
//! - `<name>_grad` has the same parameters, generics, visibility and `where` clause as the
//!   original, and returns the flat tuple `(value, grad_a, grad_b, ...)` in the attribute's order.
//! - Each gradient has the type of its parameter with any reference removed (`&DMatrix<f64>` →
//!   `DMatrix<f64>`, `Matrix3<f32>` → `Matrix3<f32>`, `f64` → `f64`); its entry `(i, j)` is
//!   `∂f/∂X_ij`.
//! - The generated function's doc comment states the derived formulas.
//!
//! The [`guide`] covers the conventions, the whole body language, the generated formulas, the
//! errors and performance.
//!
//! # Every core
//!
//! With the feature `parallel` (off by default: `matgrad = { version = "0.1", features =
//! ["parallel"] }`), the matrix products of generated gradients whose sizes are dynamic and
//! large use every core, split across a pool of threads: matrix products by blocks of rows or
//! columns, matrix-vector products (`X w`, `Xᵀ r`) by blocks of the matrix; and a loop that
//! adds per-sample terms (the loss and the gradient accumulated in it) runs as blocks of
//! samples on every core, each block from zeros, the blocks' sums added in order. So does a
//! loss whose samples are the rows of its data matrices (`X`, `y`) where the value and the
//! gradient only sum over them (`‖X w − y‖²`, `Σ ln(1 + exp(−yᵢ xᵢ·w))`, `∇w = Xᵀ r`): each
//! block of rows computes its share of the value and the gradient in one pass, its rows of `X`
//! read while still in its cache. Products under about 10⁵ multiply-adds, loops and losses
//! whose work is estimated below that, and all fixed-size code stay on the calling thread, and
//! without the feature the generated code makes exactly nalgebra's calls. A split result
//! equals the single-threaded one up to rounding, and is the same from run to run at the same
//! thread count. A loop or a loss split this way reads its data from several threads, so what
//! it reads must be `Sync`: a method of a struct holding a `Cell` or an `Rc` whose loss has a
//! loop over samples compiles without the feature and, with it, stops at rustc's error that
//! the `Cell` "cannot be shared between threads safely".
//!
//! [`threads`] tells how many threads a product may use, [`set_threads`] changes it for the
//! process (1: none), and `MATGRAD_THREADS` in the environment sets it at start-up;
//! `MATGRAD_MIN_WORK` sets the threshold, in multiply-adds, from which work is split (131072
//! unless set). (matrixmultiply, under nalgebra's products, stays on the calling thread unless
//! another crate turns on its own `threading` feature; `MATMUL_NUM_THREADS=1` then keeps its
//! threads out of matgrad's.)
//!
//! ```
//! // When the caller already runs one loss per core (a parallel sweep over data sets), keep each
//! // gradient on its own thread.
//! matgrad::set_threads(1);
//! assert_eq!(matgrad::threads(), 1);
//! ```
//!
//! # Checking gradients
//!
//! [`check_gradient`] compares any gradient with central finite differences and returns a
//! [`GradientCheck`] report; [`Point`] describes the scalars and matrices it can perturb.

pub use matgrad_macros::{differentiable, grad, hessian, jacobian};

/// The nalgebra the generated code is written against: use its types in annotated signatures.
///
/// ```
/// use matgrad::nalgebra::{DMatrix, DVector};
///
/// let x = DMatrix::<f64>::identity(3, 3);
/// assert_eq!(&x * DVector::from_element(3, 2.0), DVector::from_element(3, 2.0));
/// ```
pub use nalgebra;

mod branch;
mod check;
pub use check::{check_gradient, GradientCheck, Point, PointEntry};

mod columns;
mod costly_map;
mod cpu;

mod determinant;
pub use determinant::det_hvp;

mod dots;

mod expm;
mod factor;
mod inverse;
mod jet;
mod linalg;
mod matrix_log;
mod narrow;
mod parallel;
#[cfg(feature = "parallel")]
mod pool;
mod triangular;
pub use parallel::{set_threads, threads};
mod product;
mod rotation;
mod sum_loop;
mod tape;
#[cfg(test)]
mod test_matrices;
pub use expm::{expm_frechet, expm_frechet2};
pub use linalg::logdet;
pub use matrix_log::{logm, logm_frechet, logm_frechet2};

mod marks;
marks::marks!(sigmoid softplus relu erf erfc normal_cdf ln_gamma digamma log_sum_exp logdet logm);
mod special;
pub use special::{digamma, erf, erfc, ln_gamma, normal_cdf, tetragamma, trigamma};
mod stable;
pub use stable::{log_sum_exp, relu, sigmoid, softplus};

mod vec;
pub use vec::{commutation_matrix, kron, unvec, vec};

#[cfg(feature = "argmin")]
pub mod argmin;

pub mod guide;

#[doc(hidden)]
pub mod __private;
