//! A guide to matgrad: what `#[grad]` does, what it accepts, how to read what
//! it generates, and what its errors mean.
//!
//! # What it does
//!
//! `#[grad]` reads the body of your loss function as an expression of matrices,
//! derives its gradient with the rules of matrix differential calculus (each
//! operation has one rule; a reverse sweep chains them), simplifies the result
//! with the identities below, and emits `<name>_grad`: the forward values once,
//! then a backward pass that reuses them, as plain nalgebra code. Nothing runs
//! at run time that you would not have written by hand.
//!
//! # Conventions
//!
//! The gradient of a scalar `f` with respect to an `m×n` matrix `X` is the
//! `m×n` matrix `∇_X f` with entries `(∇_X f)_ij = ∂f/∂X_ij`: the same shape as
//! `X`. In differential form, `df = tr((∇_X f)ᵀ dX) = ⟨∇_X f, dX⟩`. Texts that
//! write `df = tr(A dX)` and call `A` the derivative use the *numerator layout*
//! (`∂f/∂X = A`); the gradient is then `Aᵀ`. For a vector-valued `y(x)`, the
//! numerator layout puts `∂yᵢ/∂xⱼ` at row `i`, column `j` (an `m×n` Jacobian);
//! the denominator layout is its transpose.
//!
//! | forward | gradient rule (`C̄` is the gradient with respect to the result) |
//! |---|---|
//! | `C = A + B` | `Ā = C̄`, `B̄ = C̄` |
//! | `C = A B` | `Ā = C̄ Bᵀ`, `B̄ = Aᵀ C̄` |
//! | `C = Aᵀ` | `Ā = C̄ᵀ` |
//! | `c = tr A` | `Ā = c̄ I` |
//! | `c = det A` | `Ā = c̄ adj(A)ᵀ` (`c̄ c A⁻ᵀ` for invertible `A`) |
//! | `c = ln det A` | `Ā = c̄ A⁻ᵀ` |
//! | `C = A⁻¹` | `Ā = −Cᵀ C̄ Cᵀ` |
//! | `C = A ∘ B` | `Ā = C̄ ∘ B` |
//! | `C = f.(A)` | `Ā = C̄ ∘ f′.(A)` |
//! | `C = A ⊗ B` | `Ā_ij = ⟨C̄_(ij), B⟩`, `B̄ = Σ A_ij C̄_(ij)` |
//! | `C = e^A` | `Ā = L_exp(Aᵀ, C̄)` ([`expm_frechet`](crate::expm_frechet)) |
//!
//! # The body language
//!
//! `let` bindings, then the loss as the final expression. Number literals,
//! parentheses, `&x`, `*x`, `.clone()`; `+`, `-`, `*`, `/` by a scalar. Matrix
//! methods: `transpose`, `tr_mul`, `dot`, `tr_dot`, `trace`, `determinant`,
//! `determinant().ln()`, `try_inverse().unwrap()` / `.expect("…")`, `pow(n)`,
//! `exp`, `kronecker`, `cross`, `component_mul`, `component_div`, `norm`,
//! `norm_squared`, `sum`, `max`, `min`, `amax`, `amin`, `abs`, `lp_norm(1)`,
//! `lp_norm(2)`, `map(|v| …)` (a scalar expression of `v` and literals, or
//! `map(matgrad::sigmoid)`, `map(f64::ln_1p)`). Scalar methods, also by path
//! (`f64::ln_1p(x)`): `exp`, `ln`, `sqrt`, `powi(n)`, `powf(e)`, `sin`, `cos`,
//! `tanh`, `abs`, `recip`, `ln_1p`, `exp_m1`, `log(b)`, `log2`, `log10`,
//! `exp2`, `cbrt`, `hypot`, `tan`, `asin`, `acos`, `atan`, `atan2`, `sinh`,
//! `cosh`, `asinh`, `acosh`, `atanh`, `mul_add`, `midpoint`, `to_degrees`,
//! `to_radians`, and the branches `max`, `min`, `clamp`, `signum` (the
//! gradient goes to the argument returned; at a tie to the receiver).
//! Constants: `std::f64::consts::PI` and the others, `f64::EPSILON`, `f32::MAX`,
//! …, and `T::pi()`. Functions:
//! [`sigmoid`](crate::sigmoid), [`softplus`](crate::softplus),
//! [`relu`](crate::relu), [`log_sum_exp`](crate::log_sum_exp),
//! [`logdet`](crate::logdet).
//!
//! Parameters are scalars or nalgebra matrices and vectors (`DMatrix`,
//! `DVector`, `RowDVector`, `Matrix3`, `Matrix2x3`, `Vector4`, `SMatrix`,
//! `SVector`, `Matrix3xX`, `MatrixXx2`, `OMatrix<_, U3, Dyn>`,
//! `OVector<_, Const<4>>`, …) of `f64`, `f32`, or a type parameter `T: RealField + Copy`
//! (write literals as `T::from_f64(0.5).unwrap()` or `nalgebra::convert(0.5)`).
//! In methods, fields of `self` are constants; a field's shape comes from how it
//! is used (`&self.x * w` is a matrix, `self.lambda * s` a scalar) or from a
//! typed `let` (`let lambda: f64 = self.lambda;`) where the use does not say.
//!
//! ```
//! use matgrad::grad;
//! use matgrad::nalgebra::{DMatrix, DVector};
//!
//! struct Ridge { x: DMatrix<f64>, y: DVector<f64>, lambda: f64 }
//!
//! impl Ridge {
//!     #[grad(w)]
//!     fn loss(&self, w: &DVector<f64>) -> f64 {
//!         let lambda: f64 = self.lambda;
//!         (&self.x * w - &self.y).norm_squared() + (w * lambda).dot(w)
//!     }
//! }
//!
//! let model = Ridge { x: DMatrix::identity(3, 2), y: DVector::zeros(3), lambda: 0.1 };
//! let w = DVector::from_vec(vec![1.0, 2.0]);
//! let (loss, dw) = model.loss_grad(&w);
//! assert!((dw - &w * 2.2).norm() < 1e-12 && (loss - 5.5).abs() < 1e-12);
//! ```
//!
//! # Reading the generated formula
//!
//! The doc comment of `<name>_grad` states each gradient in this notation:
//! juxtaposition is the matrix product, `ᵀ` the transpose, `∘` and `⊘` the
//! entrywise product and quotient, `⊗` the Kronecker product, `⟨A, B⟩` the
//! Frobenius inner product, `𝟙` a matrix of ones, `map(A, v ↦ f(v))` an
//! entrywise function. Your `let` names appear by name, with their definitions
//! after "where"; other subexpressions used more than once are named `u₁`,
//! `u₂`, …. For least squares: `∇w = 2 xᵀ r`, where `r = x w − y`.
//!
//! # What the errors mean
//!
//! Every error points at the tokens it is about, and all are reported in one
//! build; a stub `<name>_grad` keeps your callers compiling meanwhile.
//!
//! - *unsupported method / expression / operator*: outside the body language;
//!   the message lists what is supported.
//! - *unknown function*: only the functions above can be called.
//! - *is not a parameter*, *is listed twice*, *cannot differentiate with
//!   respect to `n`*: the attribute's list.
//! - *needs a function that returns a real scalar*: `#[grad]` differentiates
//!   scalar losses.
//! - *cannot multiply a 2×3 matrix by a 2×3 matrix*: the fixed sizes do not fit.
//! - *`return` / `if` / a loop / macros are not supported*: the body must be
//!   one expression, so every operation is visible to the differentiator.
//! - *the closure passed to `map` may use only its parameter*: captures would
//!   be differentiated silently wrong if treated as constants, so they are
//!   refused.
//! - *cannot tell whether `self.x` is a scalar or a matrix*: bind the field
//!   with its type first (`let lambda: f64 = self.lambda;`). A field takes its
//!   shape from where it is first read: beside the other operand of `+` or
//!   `−`, as the receiver or argument of a method of matrices or of scalars,
//!   as the argument of a function; in `*` and `/`, a borrowed or cloned field
//!   (`&self.x`) is a matrix and a bare one beside a scalar a scalar. A bare
//!   field times a matrix (a scaling, or a product with a `Copy` matrix), a
//!   field read alone, negated, or as the receiver of `exp` does not tell.
//! - *needs `T: Copy`*: the generated code copies scalars.
//!
//! # Performance notes
//!
//! Each value is computed once; values the result does not need are not
//! computed. Products are fused the way nalgebra offers (`tr_mul` for `Aᵀ B`,
//! `tr_dot` or `dot` for traces of products), scalars are kept out of matrix
//! products, Kronecker products are differentiated by blocks without forming
//! anything larger than the product, and one LU factorisation serves a
//! matrix's inverse, determinant and log-determinant (closed forms up to 3×3).
//! Fixed-size inputs stay on the stack.
//!
//! Dynamic matrices are reused rather than reallocated: a temporary is moved
//! into the operation that reads it last when that operation can work in its
//! buffer (`+`, `−`, scaling, `component_mul`), and a product added to another
//! term — as adjoints are summed — is accumulated onto that term's buffer by
//! `gemm` with β = 1. A dynamic `Aᵀ B` is handed to nalgebra's blocked `gemm`
//! as a transposed view, never as a transposed copy. A `map` whose derivative
//! is needed too (as under `sum`) computes both in one pass, so `exp(−v)` in
//! `ln(1 + exp(−v))` is evaluated once per entry. The inverse from the shared
//! LU factorisation is computed through block-recursive triangular inverses,
//! mostly matrix products, about 2.5 times faster than nalgebra's solve at
//! 50 × 50. Scalar arithmetic read once is written inline where it is used.
