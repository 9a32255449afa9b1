//! A guide to matgrad: what `#[grad]` does, what it accepts, how to read what
//! it generates, and what its errors mean.
//!
//! # What it does
//!
//! `#[grad]` reads the body of your loss function as an expression of matrices,
//! derives its gradient with the rules of matrix differential calculus (each
//! operation has one rule; a reverse sweep chains them), simplifies the result
//! with the identities below, and emits `<name>_grad`: the forward values once,
//! then a backward pass that reuses them, as plain nalgebra code. A `for` loop
//! in the body becomes a `for` loop in `<name>_grad` (and, for a recurrence, a
//! second loop running backwards); an `if` becomes an `if`. Nothing runs at
//! run time that you would not have written by hand.
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
//! | `C = log A` | `Ā = L_log(Aᵀ, C̄)` ([`logm_frechet`](crate::logm_frechet)) |
//!
//! Hessians of `e^A` and `log A` differentiate `L_f(Aᵀ, C̄)` once more:
//! `dĀ = L_f(Aᵀ, dC̄) + L²_f(Aᵀ; dAᵀ, C̄)`, with the second Fréchet derivative
//! [`expm_frechet2`](crate::expm_frechet2), [`logm_frechet2`](crate::logm_frechet2).
//!
//! ## Complex parameters
//!
//! Parameters may be complex scalars, vectors and matrices (`Complex<f64>`,
//! `DMatrix<Complex<f64>>`, `Matrix3<Complex<f32>>`, with `Complex` from
//! `matgrad::nalgebra` or `num_complex`), beside real ones; the loss stays
//! real. For `Z = X + iY` the gradient has `Z`'s type and entries
//! `∂L/∂X_ij + i ∂L/∂Y_ij` (which is `2 ∂L/∂Z̄_ij` in Wirtinger's terms):
//! `dL = Re tr(Z̄ᴴ dZ)`, so `z -= step * grad` descends. This is PyTorch's
//! convention; JAX's `grad` returns the conjugate. The rules are the real
//! ones with `ᴴ` for `ᵀ` and conjugates where the differential has them:
//! `C = A B` gives `Ā = C̄ Bᴴ`, `B̄ = Aᴴ C̄`; `C = Zᴴ` gives `Z̄ = C̄ᴴ`;
//! `c = tr Z` gives `Z̄ = c̄ I`; `r = Re c` gives `c̄ = r̄`; `r = |z|²` gives
//! `z̄ = 2 r̄ z`; a holomorphic `w = g(z)` gives `z̄ = conj(g′(z)) w̄`; and a
//! real parameter of a complex operation gets the real part of its rule.
//!
//! The body may use `adjoint()`, `conjugate()`, `transpose()`, `+`, `-`, `*`
//! (products, and `z * s` for a complex scalar `s`), `scale(r)` and
//! `unscale(r)` by a real `r`, `trace()`, `determinant()`,
//! `try_inverse().unwrap()`, `dot`, `dotc`, `tr_mul`, `ad_mul`, `tr_dot`,
//! `norm()`, `norm_squared()`, `component_mul`, `pow(n)`, indexing, and
//! `map` with any closure of these (holomorphic or not, complex to real, or
//! real to complex as in `theta.map(|t| Complex::new(t.cos(), t.sin()))`);
//! on complex scalars `+ - * /` (with real operands too), `.re`, `.im`,
//! `norm_sqr()`, `norm()`, `conj()`, `ln()`, `exp()`, and
//! `Complex::new(re, im)` of real scalars. Anything else on a complex value
//! (`for` loops over one, `sum`, `sin`, …) is a compile error at its tokens.
//! [`check_gradient`](crate::check_gradient) perturbs the real and the
//! imaginary part of each entry, so it checks this convention (and a
//! conjugated gradient fails it). `#[hessian]` is the Hessian over the real
//! coordinates of the parameters, a complex entry being two, its real part
//! then its imaginary part; `_hvp` takes a complex direction and returns a
//! complex matrix.
//!
//! ```
//! use matgrad::grad;
//! use matgrad::nalgebra::{Complex, DMatrix};
//!
//! /// `Re tr(Zᴴ M Z) + ‖Z − M‖²`: ∇Z = (Mᴴ + M) Z + 2 (Z − M).
//! #[grad(z)]
//! fn energy(z: &DMatrix<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
//!     (z.adjoint() * m * z).trace().re + (z - m).norm_squared()
//! }
//!
//! let m = DMatrix::from_fn(2, 2, |i, j| Complex::new(i as f64, 1.0 - j as f64));
//! let z = DMatrix::from_fn(2, 2, |i, j| Complex::new(0.5 - j as f64, i as f64));
//! let (_, dz) = energy_grad(&z, &m);
//! let expected = (m.adjoint() + &m) * &z + (&z - &m).scale(2.0);
//! assert!((&dz - expected).norm() < 1e-12);
//! matgrad::check_gradient(|z| energy(z, &m), &z, &dz).assert_within(1e-6);
//! ```
//!
//! # The body language
//!
//! Statements, then the loss as the final expression. Statements are `let`
//! bindings (`let mut` too, `let (a, b) = (…, …);`, `let (n, d) = x.shape();`),
//! assignments (`h = …;`, `s += t;`, `-=`, `*=`, `/=`), writes into a local's
//! entries and blocks (`lp[c] = s;`, `g[(i, j)] += t;`,
//! `out.row_mut(i).copy_from(&r);`, `out.set_row(i, &r);`,
//! `out.set_column(j, &c);`), `for` loops and `if`s: see [Loops, branches and
//! element access](#loops-branches-and-element-access). Entries and views:
//! `x[i]`, `x[(i, j)]`, `v.x` … `v.w`, `xs[i]` of a data slice, `row(i)`,
//! `column(j)`, `rows(i, n)`, `columns(j, n)`, `fixed_rows::<N>(i)`,
//! `fixed_columns::<N>(j)`, `fixed_view::<R, C>(i, j)`, `view((i, j), (r, c))`,
//! `diagonal()`. Integers: `x.nrows()`, `x.ncols()`, `x.len()`, `xs.len()`,
//! integer parameters, `+ - * / %` on them, and casts `as f64`, `as f32`,
//! `as usize` (and the other integer types). Number literals,
//! parentheses, `&x`, `*x`, `.clone()`; `+`, `-`, `*`, `/` by a scalar;
//! comparisons `< <= > >= == !=` and `!` in conditions. Matrix
//! methods: `transpose`, `tr_mul`, `dot`, `tr_dot`, `trace`, `determinant`,
//! `determinant().ln()`, `try_inverse().unwrap()` / `.expect("…")`, `pow(n)`,
//! `exp`, `kronecker`, `cross`, `component_mul`, `component_div`, `norm`,
//! `norm_squared`, `sum`, `max`, `min`, `amax`, `amin`, `abs`, `lp_norm(1)`,
//! `lp_norm(2)`, `row_sum` (the sum of the rows: a row vector), `column_sum`,
//! `row_mean`, `column_mean`, `mean`, `variance` (divided by the number of
//! entries, as nalgebra does), `add_scalar(s)`, `map(|v| …)` (a scalar expression of `v` and literals, or
//! `map(matgrad::sigmoid)`, `map(f64::ln_1p)`). Scalar methods, also by path
//! (`f64::ln_1p(x)`): `exp`, `ln`, `sqrt`, `powi(n)`, `powf(e)`, `sin`, `cos`,
//! `tanh`, `abs`, `recip`, `ln_1p`, `exp_m1`, `log(b)`, `log2`, `log10`,
//! `exp2`, `cbrt`, `hypot`, `tan`, `asin`, `acos`, `atan`, `atan2`, `sinh`,
//! `cosh`, `asinh`, `acosh`, `atanh`, `mul_add`, `midpoint`, `to_degrees`,
//! `to_radians`, and the branches `max`, `min`, `clamp`, `signum` (the
//! gradient goes to the argument returned; at a tie to the receiver).
//! Factorisations: `let chol = a.clone().cholesky().unwrap();` (or
//! `.expect("…")`), then `chol.l()`, `chol.solve(&b)`, `chol.inverse()`,
//! `chol.determinant()`, `chol.ln_determinant()`, as often as you like, or
//! chained at once (`k.clone().cholesky().unwrap().solve(&y)`);
//! `let lu = a.clone().lu();`, then `lu.solve(&b).unwrap()`,
//! `lu.determinant()`, `lu.try_inverse().unwrap()`; and
//! `a.solve_lower_triangular(&b).unwrap()`, `solve_upper_triangular` and their
//! `tr_` forms. One factorisation serves the value and the gradient, whose
//! rules are triangular solves with its factors; no inverse is formed unless
//! the loss or a (log-)determinant's gradient is one. `cholesky()` reads only
//! the lower triangle of its argument, and the triangular solves only their
//! triangle, so the gradient is zero in the other triangle and each entry
//! below the diagonal carries both halves of the symmetric matrix factorised:
//! entry `(i, j)` is `∂f/∂A_ij` of your function as written (symmetrise it
//! yourself if you parametrise a symmetric matrix by both triangles). A matrix
//! that is not positive definite (or singular, or with a zero on the
//! diagonal of a triangle) panics in `<name>_grad` as in your function.
//!
//! ```
//! use matgrad::grad;
//! use matgrad::nalgebra::{DMatrix, DVector};
//!
//! /// A Gaussian process's negative log marginal likelihood (scikit-learn's).
//! #[grad(k)]
//! fn nlml(k: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
//!     let chol = k.clone().cholesky().unwrap();
//!     let alpha = chol.solve(y);
//!     0.5 * y.dot(&alpha) + chol.l().diagonal().map(|v| v.ln()).sum()
//! }
//!
//! let k = DMatrix::from_fn(3, 3, |i, j| if i == j { 2.0 } else { 0.5 });
//! let y = DVector::from_vec(vec![1.0, -1.0, 0.5]);
//! let (_, dk) = nlml_grad(&k, &y);
//! assert_eq!(dk[(0, 2)], 0.0); // above the diagonal: never read
//! matgrad::check_gradient(|k| nlml(k, &y), &k, &dk).assert_within(1e-6);
//! ```
//!
//! Constants: `std::f64::consts::PI` and the others, `f64::EPSILON`, `f32::MAX`,
//! …, and `T::pi()`. Functions:
//! [`sigmoid`](crate::sigmoid), [`softplus`](crate::softplus),
//! [`relu`](crate::relu), [`log_sum_exp`](crate::log_sum_exp),
//! [`logdet`](crate::logdet), [`logm`](crate::logm) (the principal matrix
//! logarithm; NaN for a matrix with an eigenvalue on the closed negative real
//! axis).
//!
//! Matrices built in the body, differentiable in everything they are built
//! from: `Vector3::new(a, b, c)`, `Matrix3::new(..)` (row-major arguments, as
//! nalgebra), `SVector::<f64, 3>::from([a, b, c])`, `DVector::from_element(n,
//! b)`, `DMatrix::from_element(r, c, b)`, `repeat`, `zeros`, `identity`,
//! `from_diagonal_element`, `from_diagonal(&v)`, `from_column_slice(r, c,
//! w.as_slice())`, and `DMatrix::from_fn(r, c, |i, j| …)`, read as the loops
//! writing each entry (so its body may read parameters' entries and outer
//! values, as a loop body does). A broadcast is written by hand, as in
//! nalgebra: `&DVector::from_element(n, 1.0) * b.transpose()` repeats the row
//! `bᵀ`. Rotations: `Rotation3::new(v)` and `from_scaled_axis(v)` (the SO(3)
//! exponential map of bundle adjustment), times vectors and matrices,
//! `.matrix()`, `.inverse()`; the gradient in `v` goes through the right
//! Jacobian of the map, whose coefficients `(1 − cos θ)/θ²` and
//! `(θ − sin θ)/θ³` are summed as series near `θ = 0`, so it is finite and
//! accurate at the zero rotation. Fixed-size constructors and rotations stay on
//! the stack.
//!
//! ```
//! use matgrad::grad;
//! use matgrad::nalgebra::{Rotation3, Vector2, Vector3};
//!
//! /// A reprojection residual of bundle adjustment.
//! #[grad(aa, t)]
//! fn residual(aa: &Vector3<f64>, t: &Vector3<f64>, p: &Vector3<f64>, obs: &Vector2<f64>) -> f64 {
//!     let q = Rotation3::new(*aa) * p + t;
//!     (Vector2::new(q.x / q.z, q.y / q.z) - obs).norm_squared()
//! }
//!
//! let (p, obs) = (Vector3::new(0.1, -0.2, 1.0), Vector2::new(0.05, 0.1));
//! let (aa, t) = (Vector3::zeros(), Vector3::new(0.0, 0.0, 2.0));
//! let (_, daa, _) = residual_grad(&aa, &t, &p, &obs);
//! matgrad::check_gradient(|aa| residual(aa, &t, &p, &obs), &aa, &daa).assert_within(1e-6);
//! ```
//!
//! Parameters are scalars or nalgebra matrices and vectors (`DMatrix`,
//! `DVector`, `RowDVector`, `Matrix3`, `Matrix2x3`, `Vector4`, `SMatrix`,
//! `SVector`, `Matrix3xX`, `MatrixXx2`, `OMatrix<_, U3, Dyn>`,
//! `OVector<_, Const<4>>`, …) of `f64`, `f32`, or a type parameter `T: RealField + Copy`
//! (write literals as `T::from_f64(0.5).unwrap()` or `nalgebra::convert(0.5)`).
//! A parameter you do not differentiate may also be data of any other type: a
//! constant of the gradient. Integers (`steps: usize`) and `bool`s are read
//! as such; slices, `Vec`s and arrays of `f64`, `f32`, integers or fixed-size
//! vectors and matrices (`xs: &[Vector2<f64>]`, `labels: &[usize]`) can be
//! indexed, iterated and measured with `len()`.
//! In methods, fields of `self` are constants; a field's shape comes from how it
//! is used (`&self.x * w` and `self.x.nrows()` say a matrix, `self.lambda * s` a
//! scalar) or from a typed `let` where the use does not say
//! (`let lambda: f64 = self.lambda;`, or for data read by index or iterated,
//! `let ys: &Vec<f64> = &self.ys;`).
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
//! # Loops, branches and element access
//!
//! A loss over samples, a recurrence, a per-sample case split: write them as
//! you would in plain Rust, and the function still runs as written.
//!
//! ```
//! use matgrad::grad;
//! use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Matrix3x2, Vector2, Vector3};
//!
//! /// The mean Huber loss of the residuals `xᵢᵀw − yᵢ`, one row at a time.
//! #[grad(w)]
//! fn huber(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
//!     let n = x.nrows();
//!     let mut total = 0.0;
//!     for i in 0..n {
//!         let r = x.row(i).transpose().dot(w) - y[i];
//!         total += if r.abs() <= delta {
//!             0.5 * r * r
//!         } else {
//!             delta * (r.abs() - 0.5 * delta)
//!         };
//!     }
//!     total / n as f64
//! }
//!
//! /// A recurrent network's final state, `hₜ₊₁ = tanh.(W hₜ + U xₜ)`.
//! #[grad(w, u)]
//! fn rnn(w: &Matrix3<f64>, u: &Matrix3x2<f64>, h0: &Vector3<f64>, xs: &[Vector2<f64>]) -> f64 {
//!     let mut h = *h0;
//!     for x in xs.iter() {
//!         h = (w * h + u * x).map(|v| v.tanh());
//!     }
//!     h.norm_squared()
//! }
//!
//! /// Logistic loss over samples kept as vectors, written as an iterator chain.
//! #[grad(w)]
//! fn logistic(w: &DVector<f64>, xs: &[DVector<f64>], ys: &[f64]) -> f64 {
//!     let total: f64 = xs
//!         .iter()
//!         .zip(ys.iter())
//!         .map(|(x, y)| (1.0 + (-y * w.dot(x)).exp()).ln())
//!         .sum();
//!     total / xs.len() as f64
//! }
//!
//! let x = DMatrix::from_fn(6, 3, |i, j| ((i * 3 + j) as f64 * 0.7).sin());
//! let y = DVector::from_fn(6, |i, _| (i as f64 - 2.5) * 0.4);
//! let w = DVector::from_vec(vec![0.3, -0.2, 0.5]);
//! let (loss, dw) = huber_grad(&w, &x, &y, 0.5);
//! // `X w` for all the rows at once may round differently from a row at a time.
//! assert!((loss - huber(&w, &x, &y, 0.5)).abs() <= 1e-12 * loss.abs());
//! matgrad::check_gradient(|w| huber(w, &x, &y, 0.5), &w, &dw).assert_within(1e-6);
//!
//! let (w, u, h0) = (Matrix3::from_fn(|i, j| 0.3 * (i as f64 - j as f64)),
//!                   Matrix3x2::from_fn(|i, j| 0.2 * (i + j) as f64 - 0.1),
//!                   Vector3::new(0.1, -0.2, 0.3));
//! let xs: Vec<Vector2<f64>> = (0..10).map(|t| Vector2::new((t as f64).cos(), 0.1 * t as f64)).collect();
//! let (_, dw, du) = rnn_grad(&w, &u, &h0, &xs);
//! matgrad::check_gradient(|w| rnn(w, &u, &h0, &xs), &w, &dw).assert_within(1e-6);
//! matgrad::check_gradient(|u| rnn(&w, u, &h0, &xs), &u, &du).assert_within(1e-6);
//!
//! let samples: Vec<DVector<f64>> = (0..5)
//!     .map(|i| DVector::from_fn(3, |j, _| ((i * 3 + j) as f64).sin()))
//!     .collect();
//! let labels = [1.0, -1.0, 1.0, 1.0, -1.0];
//! let w = DVector::from_vec(vec![0.3, -0.2, 0.5]);
//! let (loss, dw) = logistic_grad(&w, &samples, &labels);
//! assert_eq!(loss, logistic(&w, &samples, &labels)); // summed in the same order, from -0.0
//! matgrad::check_gradient(|w| logistic(w, &samples, &labels), &w, &dw).assert_within(1e-6);
//! ```
//!
//! ## How to write them
//!
//! - **Loops**: `for i in a..b`, `a..=b`, `(a..b).rev()`; `for v in x.iter()`
//!   over the entries of a vector or matrix (column-major, as nalgebra
//!   iterates) or `for x in xs.iter()` (or `xs`, `&xs`) over a data slice;
//!   `.enumerate()`, `.zip(…)` of two `iter()`s, `.rev()` on an `iter()`;
//!   `x.column_iter()`, `x.row_iter()`; `x.as_slice().windows(k)` of a vector
//!   (`p[1] - p[0]` of each window: a smoothness penalty); `.copied()`,
//!   `.cloned()`. A data
//!   slice's elements may be numbers or nalgebra vectors and matrices of
//!   fixed or run-time size (`xs: &[DVector<f64>]`), tuples of numbers and
//!   fixed-size matrices (`ratings: &[(usize, usize, f64)]`), or rows kept as
//!   `Vec`s (`returns: &[Vec<f64>]`). Patterns are names, `_`, `&v`, pairs
//!   such as `(i, (a, b))` and a tuple's fields (`for &(user, item, r) in
//!   ratings`). Loops nest. A name bound before the loop
//!   and assigned inside it is *carried* from one iteration to the next
//!   (`total`, `h` above); anything bound inside lives for one iteration.
//!   A carried value keeps the size it had before the loop: assigning it a
//!   value whose size is computed from the loop's index or carried values
//!   (`h = w.rows(0, k + 1) * 1.0`), or computed apart from its size before
//!   the loop, is a compile error (the same for a name an `if` assigns, and
//!   for the values the two sides of an `if` yield).
//!   Not supported: `while`, `loop`, `break`, `continue`, `return` in a
//!   loop, labels, other iterators. (A `return` at the end of the body, or in
//!   a guard clause `if c { …; return v; }` among its top-level statements, is
//!   the value it stands for: `if c { …; v } else { the rest }`.)
//! - **Iterator chains** that fold one of those iterators are the loops they
//!   stand for: `r.iter().map(|v| v * v).sum::<f64>()` is
//!   `let mut s = -0.0; for v in r.iter() { s += v * v; }` (Rust's `sum`
//!   starts from `-0.0`, so the value is the same bits), `product()` starts
//!   from `1.0`, `fold(init, |acc, x| …)` carries `acc`, and a sum of
//!   fixed-size matrices (`sum::<Matrix3<f64>>()`, or typed by the `let`)
//!   starts from zeros. The map may be a closure with statements or a
//!   function by path (`.copied().map(f64::ln)`); a `filter(|q| cond)`
//!   before the `map` (or the fold) puts each step under `if cond`. `skip(k)`
//!   and `take(k)` narrow the range, in chains as in loops (`y.iter()
//!   .enumerate().skip(p)`: an AR model's residuals); `step_by`, `chain` and
//!   the other adaptors are compile errors: write the loop.
//! - **Products over all the samples at once**: in a loop `for i in 0..n`
//!   not nested in another, a product of a sample's data with values from
//!   outside the loop (`x.row(i).transpose().dot(w)`, `(x.row(i) * w)[0]`,
//!   `x.column(i).dot(w)`, `x.row(i) * m`, `m * x.column(i)`) that reads no
//!   carried value is computed for all the samples before the loop, by one
//!   product (`X w`), and the loop reads its entry or row `i`; the gradient
//!   then has the transposed product after the loop (`Xᵀ z̄`), where it would
//!   have had one small product per sample. A dot product written as an
//!   inner loop, `for j in 0..d { z += x[(i, j)] * w[j] }`, is read as the
//!   `dot` it is first, so the double loop is `X w` too. Over a slice of
//!   vectors (`for x in xs.iter()`, `m * x` with a dynamic `m`), the
//!   vectors are put as the rows of one matrix first: a recurrent network's
//!   `U xₜ` for every step is one product before the loop and `Ū` one after
//!   the reverse loop. Products of fixed sizes only stay in the loop (they
//!   are cheap there and need no heap). The rest of the loop, its branches
//!   included, runs as written, one sample at a time.
//! - **Branches**: `if c { … } else if d { … } else { … }`, as a statement
//!   (assigning variables; the `else` may be left out) or as a value
//!   (`let l = if … { … } else { … };`, `total += if …`). A condition compares
//!   two scalars or two integers, or is a `bool` parameter, or `!`, `&&`,
//!   `||` of them (the right side evaluated only when the left does not
//!   decide, as in Rust). The gradient is
//!   that of the side taken; the condition is a constant, so at a switching
//!   point (`r.abs() == delta` above) you get the one-sided derivative of
//!   the side the condition picks. A `match` on a number or a `bool` (arms
//!   of literals, `1 | 2`, `3..=5`, guards, `_`, a name binding the rest) is
//!   the chain of `if`s it stands for, and values chosen together,
//!   `let (p_t, a_t) = if y == 1 { (p, a) } else { (1.0 - p, 1.0 - a) };`,
//!   one `if` per name.
//! - **Entries and views**: `x[i]`, `x[(i, j)]`, `v.x` … `v.w`, `xs[i]`
//!   (`xs[i][2]` for an entry of a data vector, `ratings[k].2` for a tuple's
//!   field), and the views `row`,
//!   `column`, `rows`, `columns`, `fixed_rows::<N>`, `fixed_columns::<N>`,
//!   `fixed_view::<R, C>`, `view((i, j), (r, c))`, `diagonal()`. The adjoint
//!   of a read goes into that entry or block only.
//! - **Writes** into a local: `lp[c] = s;`, `g[(i, j)] += t;`,
//!   `out.row_mut(i).copy_from(&r);` (any view above with `_mut`),
//!   `out.set_row(i, &r);`, `out.set_column(j, &c);`. Start from a local
//!   you own: a matrix built in the body (`let mut z = DVector::zeros(k);`)
//!   or a copy (`let mut lp = w.column(0).clone_owned();`).
//! - **Assertions** on the inputs (`assert_eq!(x.ncols(), w.len());`,
//!   `debug_assert!(lambda >= 0.0);`) among the top-level statements, reading
//!   parameters only, are checked first by each generated function.
//! - **Closures** bound by a `let` (`let sq = |v: f64| v * v;`) are read at
//!   each call (`sq(r[i])`, `r.map(sq)`) as their body, the names they
//!   captured as they were where they were bound. A closure that assigns to a
//!   variable is a compile error.
//! - **Integers**: sizes (`x.nrows()`, `x.ncols()`, `x.len()`, `xs.len()`,
//!   `let (n, d) = x.shape();`), integer parameters, `+ - * / %`, and casts
//!   `as f64`, `as f32`, `as usize`, …. An unsuffixed literal beside an
//!   integer is an integer (`n - 1`). Integers and `bool`s are constants of
//!   the gradient; a cast from a float to an integer has derivative 0.
//!
//! Data as such code keeps it, a `match` on a label:
//!
//! ```
//! use matgrad::grad;
//! use matgrad::nalgebra::DMatrix;
//!
//! /// Matrix factorisation over observed `(user, item, rating)` triplets, squared errors for
//! /// the ratings of kind 0, absolute errors for the others.
//! #[grad(u, v)]
//! fn ratings_loss(
//!     u: &DMatrix<f64>,
//!     v: &DMatrix<f64>,
//!     ratings: &[(usize, usize, f64)],
//!     kinds: &[u8],
//! ) -> f64 {
//!     let mut loss = 0.0;
//!     for (k, &(user, item, r)) in ratings.iter().enumerate() {
//!         let e = u.row(user).dot(&v.row(item)) - r;
//!         loss += match kinds[k] {
//!             0 => e * e,
//!             _ => e.abs(),
//!         };
//!     }
//!     loss
//! }
//!
//! let u = DMatrix::from_fn(3, 2, |i, j| 0.1 * (i + 2 * j) as f64 + 0.3);
//! let v = DMatrix::from_fn(4, 2, |i, j| 0.2 * (2 * i + j) as f64 - 0.1);
//! let ratings = [(0, 1, 4.0), (2, 3, 1.0), (1, 0, 3.5)];
//! let kinds = [0, 1, 0];
//! let (value, du, dv) = ratings_loss_grad(&u, &v, &ratings, &kinds);
//! assert_eq!(value, ratings_loss(&u, &v, &ratings, &kinds));
//! // Only the users and items rated get a gradient.
//! assert_eq!(du.nrows(), 3);
//! assert!(dv.row(2).iter().all(|g| *g == 0.0));
//! ```
//!
//! `#[hessian]` and `_hvp` work through all of these: the tangent of a loop
//! is a loop carrying each value and its tangent, and the tangent of an `if`
//! is the tangent of the side taken.
//!
//! ## What they cost
//!
//! - **A sum** — a loop whose only differentiated carried value is a scalar
//!   that each iteration adds to (`total += …`, `total -= …`), such as
//!   `huber` — is differentiated inside the loop itself: one loop computes the
//!   value and accumulates the gradient, and nothing is stored. On
//!   fixed-size values it makes no heap allocation at all.
//! - **A recurrence** — any other loop, such as `rnn` — becomes a forward loop
//!   and a reverse loop over the same range, backwards. The forward loop
//!   stores each carried value the reverse loop reads (here `hₜ`, the state
//!   entering each step), once per iteration, in one `Vec` allocated once for
//!   the loop with the trip count as its capacity; the reverse loop reads it
//!   back — the state leaving a step is the next entry, so a step's result
//!   (`hₜ₊₁ = tanh(…)`) is read, not computed again — recomputes what else
//!   the adjoint rules read, and applies them. Memory: one state per
//!   iteration (`T × 3` numbers for `rnn`); time: the body once plus its
//!   adjoint, when the adjoint reads only states (as backpropagation through
//!   time does). A fixed-size state makes no
//!   allocation per iteration, so the whole gradient makes one, whatever the
//!   trip count; a dynamic one makes one per iteration, the state stored,
//!   and none per reverse iteration (`tests/no_alloc.rs` checks them).
//!   Carried values the reverse loop does not read — sums beside the
//!   recurrence — are not stored.
//! - **Nested loops** run inside the body that holds them, in both loops:
//!   an inner recurrence's tape is filled again for each outer iteration.
//! - **Branches** run only the side taken, forwards and backwards; the
//!   adjoint is an `if` on the same `bool`, so an untaken side that would be
//!   NaN (`v.sqrt()` for `v < 0`) never reaches the gradient.
//! - **Entries, views and writes inside a loop** update the carried value or
//!   the gradient's accumulator in place (`acc[(i, j)] += …`,
//!   `acc.row_mut(i) += …`): O(1) per entry read, not a new matrix. A loop
//!   nested in another loop's body gets a reverse loop that adds straight into
//!   the outer loop's accumulator (moved in and back), so a dot product
//!   written as an inner loop costs one more pass over its row backwards.
//! - The body is emitted as written: values that do not change from one
//!   iteration to the next are still computed in every iteration (hoist
//!   them out yourself), and a loop over entries is a scalar loop. Where the
//!   loss has a matrix form (`x * w` rather than a loop over rows), the matrix
//!   form is several times faster (the Loops section of `bench/README.md`
//!   measures both); loops are for what matrix expressions cannot say.
//!
//! ## What the generated code looks like
//!
//! `rnn_grad`, as `cargo expand` prints it (the `#[allow]` attributes left out
//! and `::matgrad::__private::nalgebra::` paths shortened; the comments are
//! added):
//!
//! ```text
//! let __mg_t5 = xs.len();
//! let __mg_loop15 = {                                  // the forward loop
//!     let mut __mg_c15_0 = h0.clone();                 // h
//!     let mut __mg_tape15_0 = ::std::vec::Vec::with_capacity(
//!         ::core::iter::Iterator::size_hint(&(0..__mg_t5)).0,
//!     );
//!     for __mg_i15 in 0..__mg_t5 {
//!         let __mg_x_8 = &xs[__mg_i15];
//!         let __mg_b11 = (w * &__mg_c15_0) + u * __mg_x_8;
//!         let __mg_h_14 = __mg_p::map_in_place(__mg_b11, |__mg_v| { __mg_v.tanh() });
//!         let __mg_u15_0 = __mg_h_14;
//!         // hₜ₊₁ replaces hₜ, which goes onto the tape (moved, not copied)
//!         __mg_tape15_0.push(::core::mem::replace(&mut __mg_c15_0, __mg_u15_0));
//!     }
//!     (__mg_c15_0, __mg_tape15_0)
//! };
//! let __mg_h_16 = __mg_loop15.0;
//! let __mg_t21 = __mg_loop15.1;                        // the tape
//! let __mg_loop48 = {                                  // the reverse loop
//!     let mut __mg_c48_0 = (&__mg_h_16 * 2f64);        // h̄ = 2h
//!     let mut __mg_c48_1 = __mg_p::filled(Const::<3usize>, Const::<3usize>, 0f64); // W̄ = 0
//!     let mut __mg_c48_2 = __mg_p::filled(Const::<3usize>, Const::<2usize>, 0f64); // Ū = 0
//!     for __mg_i48 in (0..__mg_t5).rev() {
//!         let __mg_b26 = &__mg_t21[__mg_i48];          // hₜ, read back
//!         let __mg_b27 = &xs[__mg_i48];
//!         let __mg_b33 = if __mg_i48 + 1 < __mg_t21.len() {
//!             &__mg_t21[__mg_i48 + 1]                  // hₜ₊₁, read back too
//!         } else {
//!             &__mg_h_16                               // (the loop's result)
//!         };
//!         let __mg_b36 = __mg_c48_0                    // δ = h̄ ∘ (1 − hₜ₊₁²)
//!             .zip_map(__mg_b33, |__mg_g, __mg_y| { __mg_g * (1f64 - __mg_y * __mg_y) });
//!         let __mg_b38 = &__mg_b36 * __mg_b27.transpose(); // δ xₜᵀ
//!         let __mg_b41 = &__mg_b36 * __mg_b26.transpose(); // δ hₜᵀ
//!         let __mg_b42 = w.tr_mul(&__mg_b36);          // Wᵀ δ
//!         let __mg_u48_0 = __mg_b42;
//!         let __mg_u48_1 = &__mg_b41;
//!         let __mg_u48_2 = &__mg_b38;
//!         __mg_c48_1 += __mg_u48_1;                    // W̄ += δ hₜᵀ, in place
//!         __mg_c48_2 += __mg_u48_2;                    // Ū += δ xₜᵀ
//!         __mg_c48_0 = __mg_u48_0;                     // h̄ ← Wᵀ δ
//!     }
//!     (__mg_c48_0, __mg_c48_1, __mg_c48_2, (), (), ())
//! };
//! let __mg_w_bar_50 = __mg_loop48.1;
//! let __mg_u_bar_51 = __mg_loop48.2;
//! (__mg_h_16.norm_squared(), __mg_w_bar_50, __mg_u_bar_51)
//! ```
//!
//! With a dynamic `u` (`OMatrix<f64, Dyn, U16>`), `u * x` for every step is
//! one product before the forward loop, the inputs as the rows of one matrix
//! (`U X`), and `Ū` one product after the reverse loop.
//!
//! In `huber_grad`, the product each sample's term reads, `xᵢ · w`, is
//! computed for all the rows at once before the loop (`X w`, one product),
//! and the gradient's `Xᵀ r̄` after it: the loop itself does the scalar work,
//! the term and, on the same side of the same `bool`, its derivative, added
//! in place, in one pass that stores nothing. The `1/n` is applied once,
//! after the loop. Every value the loop carries is a sum whose terms read
//! none of them, so the loop is handed to `sum_loop` as a function of a block
//! of its range: with the `parallel` feature and enough work (the second
//! argument estimates one iteration's), blocks run on every core from zeros
//! and their sums are added; without it, `sum_loop` calls the function once
//! on the whole range:
//!
//! ```text
//! let __mg_t27 = __mg_p::mul(x, w);                                   // X w
//! let __mg_loop41 = {
//!     let __mg_range = 0..Dim::value(&x.shape_generic().0);
//!     let (__mg_c41_0, __mg_c41_1) = __mg_p::sum_loop(
//!         __mg_range,
//!         16usize,
//!         (0f64, OMatrix::<f64, _, _>::zeros_generic(x.shape_generic().0, Const::<1usize>)),
//!         |__mg_block, (mut __mg_c41_0, mut __mg_c41_1)| {            // total, r̄
//!             for __mg_i41 in __mg_block {
//!                 let __mg_r_29 = __mg_t27[__mg_i41] - y[__mg_i41];   // rᵢ
//!                 let __mg_b31 = (__mg_r_29.abs() <= delta);
//!                 let __mg_if38 = if __mg_b31 {                      // the term
//!                     ((0.5f64 * __mg_r_29 * __mg_r_29),)
//!                 } else {
//!                     ((delta * (__mg_r_29.abs() - 0.5f64 * delta)),)
//!                 };
//!                 let __mg_if117 = if __mg_b31 {                     // its derivative in rᵢ
//!                     (__mg_r_29,)
//!                 } else {
//!                     ((delta * __mg_p::sign(__mg_r_29)),)
//!                 };
//!                 let __mg_u41_0 = __mg_if38.0;
//!                 let __mg_u41_1_0 = __mg_if117.0;
//!                 let __mg_u41_1_1 = __mg_i41;
//!                 __mg_c41_0 += __mg_u41_0;
//!                 __mg_c41_1[__mg_u41_1_1] += __mg_u41_1_0;          // r̄ᵢ, in place
//!             }
//!             (__mg_c41_0, __mg_c41_1)
//!         },
//!     );
//!     (__mg_c41_0, __mg_c41_1, (), ())
//! };
//! let __mg_t43 = (Dim::value(&x.shape_generic().0) as f64);
//! let __mg_t123 = __mg_loop41.1;
//! let __mg_w_bar_129 = __mg_p::tr_mul_vector_scaled((1f64 / __mg_t43), x, &__mg_t123); // Xᵀ r̄ / n
//! ((__mg_loop41.0 / __mg_t43), __mg_w_bar_129)
//! ```
//!
//! `cargo test -p matgrad-macros --lib loop_shapes -- --nocapture` prints
//! it in full with two others and checks their shape: one loop between one
//! product and one transposed product for the rows of a matrix; one loop,
//! no `Vec` and one `sum_loop` over a slice of vectors; two loops, one
//! `Vec`, the second loop reversed and no `sum_loop`, for the recurrence.
//!
//! # Helper functions
//!
//! A loss may call functions marked [`#[differentiable]`](crate::differentiable):
//!
//! ```
//! use matgrad::nalgebra::{DMatrix, DVector};
//! use matgrad::{differentiable, grad};
//!
//! #[differentiable]
//! fn logistic(z: f64) -> f64 {
//!     1.0 / (1.0 + (-z).exp())
//! }
//!
//! #[grad(w)]
//! fn log_likelihood(w: &DVector<f64>, x: &DMatrix<f64>, y: &[f64]) -> f64 {
//!     let mut total = 0.0;
//!     for i in 0..x.nrows() {
//!         let p = logistic(x.row(i).transpose().dot(w));
//!         total += y[i] * p.ln() + (1.0 - y[i]) * (1.0 - p).ln();
//!     }
//!     total
//! }
//!
//! let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, -0.3, 2.0]);
//! let w = DVector::from_vec(vec![0.2, -0.1]);
//! let (value, dw) = log_likelihood_grad(&w, &x, &[1.0, 0.0]);
//! assert_eq!(value, log_likelihood(&w, &x, &[1.0, 0.0]));
//! matgrad::check_gradient(|w| log_likelihood(w, &x, &[1.0, 0.0]), &w, &dw).assert_within(1e-6);
//! ```
//!
//! **How.** A procedural macro sees only the item it is attached to, so the
//! helper's tokens travel to the loss. `#[differentiable] fn logistic` keeps
//! `logistic` as written and adds a hidden module of the same name (modules
//! and functions live in different namespaces, so `use m::logistic;` and the
//! path `m::logistic` reach both) holding a `macro_rules!` that hands the
//! helper's tokens to whatever invokes it. When `#[grad]` meets a call of a
//! function it has no rule for and an argument depends on a differentiated
//! parameter, it writes each generated function with its full signature and,
//! as its body, an invocation of `logistic::body!` with itself as the
//! continuation; the continuation is `#[grad]` again, which now knows the
//! helper's body and reads it inline at the call, as if the loss had been
//! written with it. A loss calling several helpers (or helpers calling
//! helpers) takes one such step per helper. A function that is not marked has
//! no hidden module: the invocation then reaches a fallback, shadowed by the
//! helper's module when there is one, that reports the call.
//!
//! **Why inline, not a pullback per helper.** The other design generates,
//! beside each helper, a function returning its value and a closure that maps
//! an output adjoint to input adjoints (a vector–Jacobian product), and calls
//! it from the loss's gradient. Reading the body inline instead means that a
//! helper is differentiated with everything around it: one graph, one
//! simplification and one memory plan, so the value the helper computes is
//! shared with the gradient, nothing is recomputed, a scalar helper inside a
//! loop costs what its arithmetic costs, and second derivatives (`#[hessian]`,
//! `_hvp`) need no further generated function per helper. The price: the
//! expansion repeats once per helper, a helper's body must be in the body
//! language, and the generated function's documentation cannot show the
//! derived formula (its signature is written before the helpers are read).
//!
//! **Constants.** A call whose arguments depend on no differentiated
//! parameter is not looked up: it is a constant, called as written, and the
//! function need not be marked (`ln_gamma(alpha)` on data, `n_choose_k(n, k)`).
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
//! - *`while` / `loop` / `break` / `continue` is not supported here*,
//!   *`return` is supported … at its end and in a guard*, *macros are not
//!   supported*: a body is `let`s, assignments, `for`
//!   loops over a range or an iterator matgrad knows, and `if`s, so that every
//!   operation and every trip count is visible to the differentiator (write a
//!   loop that stops early as a `for` over its largest range with an `if`
//!   inside).
//! - *`#[grad]` loops over a range … or over `x.iter()`*: the loop's iterator
//!   is not one of `a..b`, `a..=b`, `.rev()`, `x.iter()` (with `enumerate`,
//!   `zip`, `rev`), `column_iter()`, `row_iter()`.
//! - *unsupported operator*: `%` on floats, bit operations.
//! - *`floor` is not differentiable*: `floor`, `ceil`, `round`, `trunc`,
//!   `fract`, `rem_euclid`, `copysign`, … have no useful derivative; compute
//!   what they decide (an index, a condition) from integers or data instead.
//! - *an `if` used as a value needs an `else`*; *cannot tell the type of this
//!   data's elements*: index slices, `Vec`s and arrays of numbers or
//!   fixed-size matrices only; *`as Real` is not supported*: cast to `f64`,
//!   `f32` or an integer type by name.
//! - *`…` is called with a value matgrad differentiates*: mark the function
//!   `#[matgrad::differentiable]` (see [Helper functions](#helper-functions));
//!   a call on constants only needs no mark.
//! - *cannot tell whether `self.x` is a scalar or a matrix*: bind the field
//!   with its type first (`let lambda: f64 = self.lambda;`). A field takes its
//!   shape from where it is first read: beside the other operand of `+` or
//!   `−`, as the receiver or argument of a method of matrices or of scalars,
//!   as the argument of a function; in `*` and `/`, a borrowed or cloned field
//!   (`&self.x`) is a matrix and a bare one beside a scalar a scalar. A bare
//!   field times a matrix (a scaling, or a product with a `Copy` matrix), a
//!   field read alone, negated, or as the receiver of `exp` does not tell.
//! - *`cholesky()` returns an `Option`*, *`solve` of an LU factorisation
//!   returns an `Option`*, *`solve_lower_triangular` returns an `Option`*:
//!   follow it with `.unwrap()` or `.expect("…")`, as the gradient must panic
//!   where your function does. *this is a Cholesky factorisation, not a
//!   matrix*: use it through its methods; *unsupported method `l_dirty`*
//!   (its upper triangle is whatever the input held) or `solve_mut` (it
//!   writes into its argument): use `l()` and `solve(&b)`.
//! - *needs `T: Copy`*: the generated code copies scalars.
//! - *`sum` is not supported for complex matrices yet*: the operation has no
//!   rule for complex values yet (see [Complex
//!   parameters](#complex-parameters)); the message lists those that do.
//!   *complex entries over a type parameter*: use `Complex<f64>` or
//!   `Complex<f32>`, over the loss's own real type.
//!
//! # Performance notes
//!
//! Each value is computed once; values the result does not need are not
//! computed. Products are fused the way nalgebra offers (`tr_mul` for `Aᵀ B`,
//! `tr_dot` or `dot` for traces of products), scalars are kept out of matrix
//! products, Kronecker products are differentiated by blocks without forming
//! anything larger than the product, and one LU factorisation serves a
//! matrix's inverse, determinant and log-determinant (closed forms up to 3×3),
//! as one Cholesky factorisation serves everything read off it and its
//! gradient (stack-allocated for fixed sizes). A real matrix that is exactly
//! symmetric and positive definite (a covariance) is factorised by Cholesky
//! there too, half the work of the LU, with the same results up to rounding.
//! A determinant's second derivative beyond 3×3 takes one SVD of its matrix
//! (Jacobi rotations), made before a Hessian's loop over directions.
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
//! 50 × 50; the inverse of a Cholesky factor the same way. Scalar arithmetic
//! read once is written inline where it is used.
//! In a loop with dynamic sizes, a `map`, a map's adjoint or a product writes
//! into the buffer its previous iteration's result left, and a value that
//! replaces a carried value takes the old value's buffer: the reverse loop of
//! a recurrence allocates nothing per step.
//!
//! With the `parallel` feature, a loss whose samples are the rows of its data
//! matrices (`X`, `y`), where the value and the gradient only sum over them,
//! gets a second body taken where the work is large enough: blocks of rows
//! (views of `X` and `y` under their own names), each computing its share of
//! the value and of `∇w = Xᵀ r` in one pass on its own core, the shares added
//! in block order. For `lsq` (`‖X w − y‖²`):
//!
//! ```text
//! if __mg_p::splits_rows(__mg_samples, __mg_work) {
//!     let (__mg_sum5, __mg_sum14) = __mg_p::sum_blocks(0..__mg_samples, __mg_work, |__mg_rows| {
//!         let x = &x.rows_range(__mg_rows.clone());
//!         let y = &y.rows_range(__mg_rows.clone());
//!         let __mg_r_4 = __mg_p::mul(x, w) - y;
//!         (__mg_r_4.norm_squared(), __mg_p::tr_mul(x, &__mg_r_4))
//!     });
//!     (__mg_sum5, &__mg_sum14 * 2f64)
//! } else {
//!     let __mg_r_4 = __mg_p::mul(x, w) - y;                          // as written
//!     (__mg_r_4.norm_squared(), __mg_p::tr_mul_vector_scaled(2f64, x, &__mg_r_4))
//! }
//! ```
//!
//! Without the feature the condition is the constant `false`. Products of
//! two matrices in the blocks (`U Vᵀ` in `‖M − U Vᵀ‖²`) are computed block
//! by block too; elsewhere, a large one is split by blocks of its rows or
//! columns.
//!
//! Loops and branches are emitted as written, so their cost is the body's:
//! see [What they cost](#what-they-cost).
//!
//! # How it works: the pipeline
//!
//! For contributors: what happens to a function between the attribute and
//! the generated code, and where each stage lives in `macros/src/`.
//!
//! 1. **Signature** (`signature.rs`, `attr.rs`): each parameter gets a shape —
//!    a matrix of fixed or symbolic dimensions, a scalar, an integer, a
//!    `bool`, or data (anything else: a constant, with an element shape when
//!    it is a slice, `Vec` or array of numbers or fixed-size matrices).
//! 2. **Parse** (`parse/`: `mod.rs` for expressions and methods, `control.rs`
//!    for assignments, writes, `for` and `if`, `access.rs` for sizes, casts,
//!    indexing and views, `scalar.rs` for the scalar vocabulary): the body
//!    becomes nodes of the IR (`ir.rs`), one per operation, each of an
//!    operation of `ops/` that knows its shape rule, its emitted code, its
//!    adjoint rule, its tangent rule and its formula. Names are scopes over
//!    nodes, so `h = f(h)` just rebinds `h`; nothing is mutable in the IR.
//!    Nodes are hash-consed (identical operations on identical arguments in
//!    the same region are one node) and **simplified as they are built**:
//!    `Graph::build` runs the rewrite table of `simplify.rs` on every new
//!    node, in the parser and in the differentiator alike, so there is no
//!    separate simplification pass and the graph never holds an
//!    unsimplified form. A call of a helper marked `#[differentiable]` is read
//!    inline (`parse/helper.rs`): its parameters are bound to the argument
//!    nodes and its body parsed in their place, so the IR never holds a call.
//!    Until every helper's body is known, the expansion writes, as each
//!    generated function's body, a lookup that brings the next one
//!    (`compose/`: the tokens travel through the helper's hidden module, and
//!    `matgrad::__private::resume!` expands the function again with them). A
//!    `map` closure that reads values from around it, and `zip_map`, are
//!    parsed as the loop over the entries they stand for
//!    (`parse/closure.rs`).
//! 3. **Regions**: a `for` loop is one `Loop` node owning its body as a
//!    region; an `if` is one `If` node owning a region per side. Nodes of a
//!    region may read nodes of the regions around it; the owning node lists
//!    those as its *captures*. A name assigned in a loop body and bound
//!    before the loop is a *carried value*: the region reads it as an input
//!    and yields its new value as an output; after the loop the name is bound
//!    to the loop's `Output` node.
//! 4. **Reverse sweep** (`diff/mod.rs`): from the loss, the nodes of a region
//!    that depend on a differentiated parameter are visited in reverse id
//!    order; each node's adjoint goes through its operation's adjoint rule
//!    and the contributions to each argument are summed. A `Loop` or `If` is
//!    visited as one node once the adjoints of all its outputs are known,
//!    and is handed to `diff/region.rs`:
//!    - `loop_adjoint` builds a **reverse loop**: a new region that copies the
//!      forward body (`clone_region`) with the carried values read off the
//!      forward loop's tapes, runs a sweep over that copy, and carries the
//!      adjoints of the carried values and one accumulator per captured value
//!      that needs a gradient. It runs over the same range, backwards.
//!    - `fuse` then checks whether the reverse loop is needed at all: when the
//!      loop's only differentiated carried value is a scalar sum (its adjoint
//!      leaves an iteration as it entered) and the reverse body reads no
//!      tape, the reverse body's accumulations are copied into the forward
//!      body, for a seed of 1, as extra carried values, and the forward loop
//!      node is replaced by that wider loop; the gradient is its outputs
//!      times the sum's adjoint. One pass, nothing stored.
//!    - `if_adjoint` builds an `If` on the same condition whose sides are the
//!      adjoints of the forward sides (each recomputing what it reads).
//!    - `loop_tangent` and `if_tangent` are the forward-mode counterparts for
//!      `#[hessian]`: the loop of tangents carries each value and then its
//!      tangent, its body the forward body followed by the tangent rules.
//! 5. **Emit** (`emit/mod.rs`, `emit/region.rs`, `plan.rs`): the needed nodes
//!    in id order, each as a `let` spanned to the user's tokens, so the
//!    forward values come first and the backward pass reuses them. Each batch
//!    of `let`s — the function body, a loop body, a side of an `if` — is
//!    planned on its own (`plan.rs`: which local moves into its last reader,
//!    which products accumulate with `gemm`'s β = 1). A `Loop` becomes a Rust
//!    `for` over its range with the carried values in `let mut` locals, a
//!    tape (`Vec`) only for the carried values the reverse loop reads, and
//!    updates of the form `c = c + x` or `c[i] = y` done in place on the
//!    carried local (`c += x`, `c[i] = y`); an `If` becomes `if` yielding a
//!    tuple. The formula for the doc comment is written from the same graph
//!    (`formula.rs`).
//!
//! A loop in the IR, and the reverse loop built from it:
//!
//! ```text
//!  region 0 (the function body)
//!  ┌──────────────────────────────────────────────────────────────────────────┐
//!  │ h0, w, u, xs ── parameters                                               │
//!  │                                                                          │
//!  │ L = Loop { region 1, range: lo..hi, carried: 1 }                         │
//!  │       args: lo, hi, h0 (init of h), w, u, xs (captures)                  │
//!  │   ┌─ region 1: the body, run once per iteration ───────────────────────┐ │
//!  │   │ inputs:  i (RegionParam 0), h (RegionParam 1: h as it enters)      │ │
//!  │   │ nodes:   x = xs[i];  a = w h + u x;  h′ = tanh.(a)                 │ │
//!  │   │ outputs: h′ (h as it leaves)                                       │ │
//!  │   └────────────────────────────────────────────────────────────────────┘ │
//!  │ Output(0) of L ── h after the last iteration (the name `h` after it)     │
//!  │ Tape(0) of L   ── h as it entered each iteration, in order (a Vec)       │
//!  │                                                                          │
//!  │ loss = ‖Output(0)‖²;   h̄ = 2 Output(0)                                   │
//!  │                                                                          │
//!  │ R = Loop { region 2, range: (lo..hi).rev(), carried: 2 }                 │
//!  │       args: lo, hi, h̄, 0 (init of W̄), Tape(0) of L, w, u, xs (captures)  │
//!  │   ┌─ region 2: the reverse body ───────────────────────────────────────┐ │
//!  │   │ inputs:  i, h̄ (entering), W̄ (accumulator)                          │ │
//!  │   │ nodes:   h = TapeRead(Tape(0), i − lo)     ← the carried value     │ │
//!  │   │          x = xs[i]; a = w h + u x; h′ = tanh.(a)   (copied body)   │ │
//!  │   │          δ = h̄ ∘ (1 − h′²)                  (the sweep of the copy)│ │
//!  │   │ outputs: Wᵀ δ (h̄ leaving),  W̄ + δ hᵀ                               │ │
//!  │   └────────────────────────────────────────────────────────────────────┘ │
//!  │ Output(1) of R ── W̄, the gradient                                        │
//!  └──────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! For a sum (`total += g(i, w)`), `fuse` would instead widen `L` itself to
//! carry `total` and `W̄`, region 1 gaining the accumulation `W̄ + ∂gᵢ/∂w`,
//! and no `R` and no tape would be emitted. The tests of each stage:
//! `simplify_tests.rs` (one per rewrite), `expand_tests.rs` (the emitted
//! shapes, including those of loops, and expansion-size bounds),
//! `random_tests.rs` (random programs against finite differences), and the
//! integration tests in `tests/` (`loops.rs`, `branches.rs`, `access.rs`,
//! `views.rs`, `writes.rs`, `hessian_control.rs`, `no_alloc.rs`).
