//! Finite-difference gradient checking.
//!
//! [`check_gradient`] compares a gradient (typically one derived by `#[matgrad::grad]`, but any
//! hand-written gradient works too) against central finite differences of the function, entry by
//! entry, and returns a [`GradientCheck`] report. The points it works on are described by the
//! [`Point`] trait, implemented for `f32`, `f64`, `Complex<f32>`, `Complex<f64>` and every nalgebra
//! matrix, vector or view of such entries. A complex entry is two real ones, its real part and its
//! imaginary part, perturbed one at a time.

use core::fmt;

use nalgebra::allocator::Allocator;
use nalgebra::{
    Complex, ComplexField, DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, RealField,
};

/// A point a scalar function can be evaluated at and perturbed entry by entry.
///
/// A point is a finite sequence of real entries. For matrices the entries are taken in
/// column-major order (the order of nalgebra's storage and of `matrix[i]` indexing), so entry `i`
/// of an `r × c` matrix is the one at row `i % r`, column `i / r`. A complex number is two real
/// entries, its real part then its imaginary part (the order of their storage): entry `2k` of a
/// complex matrix is the real part of `matrix[k]`, entry `2k + 1` its imaginary part. A gradient
/// of a complex point is then `∂f/∂Re z + i ∂f/∂Im z` entry by entry, the convention of
/// `#[grad]` (see the guide's "Complex parameters"), and its conjugate fails the check.
///
/// [`check_gradient`] needs three things from a point: read its entries ([`entry`](Point::entry)),
/// make one mutable copy of it ([`to_owned_point`](Point::to_owned_point)) that is handed to the
/// function under test, and change single entries of that copy
/// ([`set_entry`](Point::set_entry)).
///
/// Implemented for:
///
/// * `f32` and `f64` (a single entry; the owned copy is the number itself);
/// * `Complex<f32>` and `Complex<f64>` (two entries, the real and the imaginary part);
/// * every nalgebra [`Matrix<T, R, C, S>`](nalgebra::Matrix) whose entries `T` are one of these
///   four ([`PointEntry`]), with static or dynamic dimensions and any storage, owned or not:
///   `Matrix3<f32>`, `Vector4<f64>`, `SMatrix<f64, 2, 5>`, `DMatrix<f64>`, `DVector<f32>`,
///   `RowDVector<f64>`, `DMatrix<Complex<f64>>`, matrix views, … The owned copy is the matching
///   [`OMatrix`](nalgebra::OMatrix), which for fixed sizes lives on the stack.
///
/// You may implement it for your own parameter types. The contract: `len`, `entry` and
/// `set_entry` agree on one numbering `0..len` of the entries, and `to_owned_point` returns a copy
/// with the same entries as the point (so that setting entry `i` of the copy back to
/// `x.entry(i)` restores it).
///
/// # Example
///
/// ```
/// use matgrad::nalgebra::{DVector, Matrix2};
/// use matgrad::Point;
///
/// let m = Matrix2::new(1.0_f64, 2.0, 3.0, 4.0); // rows [1 2] and [3 4]
/// assert_eq!(Point::len(&m), 4);
/// assert_eq!(Point::shape(&m), (2, 2));
/// assert_eq!(m.entry(1), 3.0); // column-major: row 1, column 0
///
/// let v = DVector::from_vec(vec![1.0_f32, 2.0, 3.0]);
/// let mut owned = v.to_owned_point();
/// <DVector<f32> as Point>::set_entry(&mut owned, 2, 10.0);
/// assert_eq!(owned[2], 10.0);
/// assert_eq!(v[2], 3.0); // the original is untouched
///
/// // A complex vector: two real entries per complex one.
/// use matgrad::nalgebra::{Complex, Vector2};
/// let z = Vector2::new(Complex::new(1.0_f64, 2.0), Complex::new(3.0, 4.0));
/// assert_eq!(Point::len(&z), 4);
/// assert_eq!((z.entry(2), z.entry(3)), (3.0, 4.0)); // Re and Im of z[1]
/// ```
pub trait Point {
    /// The type of one entry (`f32` or `f64` for the provided implementations).
    type Scalar: RealField + Copy + fmt::LowerExp;

    /// An owned, mutable copy of the point: the type the function under test receives (by
    /// reference). For nalgebra matrices this is the owned matrix of the same shape, so a closure
    /// `|w| loss(w, ...)` can call a `loss(w: &DVector<f64>, ...)` directly.
    type Owned;

    /// Number of entries.
    fn len(&self) -> usize;

    /// Whether the point has no entries (for example a 0-length `DVector`).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `(rows, columns)` of the point, used only to describe entries in reports. Defaults to
    /// `(len, 1)`, a column; scalars are `(1, 1)`.
    fn shape(&self) -> (usize, usize) {
        (self.len(), 1)
    }

    /// How many real entries make one entry of [`shape`](Point::shape): 2 for complex points
    /// (the real part, then the imaginary part), 1 otherwise (the default). Used only to describe
    /// entries in reports.
    fn parts(&self) -> usize {
        1
    }

    /// Entry `i` (column-major for matrices).
    ///
    /// # Panics
    ///
    /// May panic if `i >= self.len()`.
    fn entry(&self, i: usize) -> Self::Scalar;

    /// An owned copy of the point.
    fn to_owned_point(&self) -> Self::Owned;

    /// Sets entry `i` (same numbering as [`entry`](Point::entry)) of an owned copy to `v`.
    ///
    /// # Panics
    ///
    /// May panic if `i` is out of range.
    fn set_entry(owned: &mut Self::Owned, i: usize, v: Self::Scalar);
}

macro_rules! impl_point_for_float {
    ($($t:ty),*) => {$(
        impl Point for $t {
            type Scalar = $t;
            type Owned = $t;

            #[inline]
            fn len(&self) -> usize {
                1
            }

            #[inline]
            fn shape(&self) -> (usize, usize) {
                (1, 1)
            }

            #[inline]
            fn entry(&self, i: usize) -> $t {
                assert_eq!(i, 0, "a scalar point has only entry 0, got index {i}");
                *self
            }

            #[inline]
            fn to_owned_point(&self) -> $t {
                *self
            }

            #[inline]
            fn set_entry(owned: &mut $t, i: usize, v: $t) {
                assert_eq!(i, 0, "a scalar point has only entry 0, got index {i}");
                *owned = v;
            }
        }
    )*};
}

impl_point_for_float!(f32, f64);

/// The entries of the matrices [`check_gradient`] perturbs: `f32` and `f64`, each one real entry,
/// and `Complex<f32>` and `Complex<f64>`, each two (the real part, then the imaginary part).
///
/// Implemented for these four types only.
pub trait PointEntry: Copy {
    /// The real type of the parts.
    type Real: RealField + Copy + fmt::LowerExp;
    /// The number of real parts: 1 or 2.
    const PARTS: usize;
    /// Part `k` (`0` the real part, `1` the imaginary part).
    fn part(self, k: usize) -> Self::Real;
    /// Sets part `k`.
    fn set_part(&mut self, k: usize, v: Self::Real);
}

macro_rules! impl_point_entry {
    ($($t:ty),*) => {$(
        impl PointEntry for $t {
            type Real = $t;
            const PARTS: usize = 1;
            #[inline]
            fn part(self, _: usize) -> $t {
                self
            }
            #[inline]
            fn set_part(&mut self, _: usize, v: $t) {
                *self = v;
            }
        }

        impl PointEntry for Complex<$t> {
            type Real = $t;
            const PARTS: usize = 2;
            #[inline]
            fn part(self, k: usize) -> $t {
                if k == 0 { self.re } else { self.im }
            }
            #[inline]
            fn set_part(&mut self, k: usize, v: $t) {
                if k == 0 { self.re = v } else { self.im = v }
            }
        }

        impl Point for Complex<$t> {
            type Scalar = $t;
            type Owned = Complex<$t>;

            #[inline]
            fn len(&self) -> usize {
                2
            }

            #[inline]
            fn shape(&self) -> (usize, usize) {
                (1, 1)
            }

            #[inline]
            fn parts(&self) -> usize {
                2
            }

            #[inline]
            fn entry(&self, i: usize) -> $t {
                assert!(i < 2, "a complex point has entries 0 and 1, got index {i}");
                self.part(i)
            }

            #[inline]
            fn to_owned_point(&self) -> Complex<$t> {
                *self
            }

            #[inline]
            fn set_entry(owned: &mut Complex<$t>, i: usize, v: $t) {
                assert!(i < 2, "a complex point has entries 0 and 1, got index {i}");
                owned.set_part(i, v);
            }
        }
    )*};
}

impl_point_entry!(f32, f64);

impl<T, R, C, S> Point for Matrix<T, R, C, S>
where
    T: PointEntry + nalgebra::Scalar,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Scalar = T::Real;
    type Owned = OMatrix<T, R, C>;

    #[inline]
    fn len(&self) -> usize {
        self.nrows() * self.ncols() * T::PARTS
    }

    #[inline]
    fn shape(&self) -> (usize, usize) {
        (self.nrows(), self.ncols())
    }

    #[inline]
    fn parts(&self) -> usize {
        T::PARTS
    }

    #[inline]
    fn entry(&self, i: usize) -> T::Real {
        self[i / T::PARTS].part(i % T::PARTS)
    }

    fn to_owned_point(&self) -> OMatrix<T, R, C> {
        // `clone_owned` needs `S: Storage`; going through the shape and the linear index works
        // for every `RawStorage` (strided views included) and never allocates for fixed sizes.
        let (r, c) = self.shape_generic();
        OMatrix::from_fn_generic(r, c, |i, j| self[(i, j)])
    }

    #[inline]
    fn set_entry(owned: &mut OMatrix<T, R, C>, i: usize, v: T::Real) {
        owned[i / T::PARTS].set_part(i % T::PARTS, v);
    }
}

/// Result of a [`check_gradient`] run: how far the given gradient is from central finite
/// differences, and where it is worst.
///
/// # Error measure
///
/// For each entry `i` with analytic (given) derivative `a` and finite-difference estimate `n`, the
/// error is
///
/// ```text
/// |a - n| / max(1, |a|, |n|)
/// ```
///
/// that is, a *relative* error for derivatives larger than 1 in magnitude and an *absolute* error
/// for smaller ones (so entries whose true derivative is 0 don't blow up the measure). The report
/// keeps the entry with the largest error. If any analytic or finite-difference value is NaN (or
/// both are infinite), its error is NaN, that entry is reported, and every tolerance check fails.
///
/// Central differences with the step [`check_gradient`] uses are accurate to roughly
/// `ε^(2/3)` times the scale of the function and its third derivative (ε the machine epsilon), so
/// sensible tolerances are around `1e-6` for `f64` and `1e-2`–`1e-3` for `f32`. Because small
/// derivatives are compared absolutely, a loss whose values (and so gradients) are all tiny, say
/// below `1e-6`, passes such tolerances trivially: scale it up before checking.
///
/// The struct is `#[non_exhaustive]`: more fields may be added; read the fields, don't build it.
///
/// # Example
///
/// ```
/// use matgrad::nalgebra::DVector;
/// use matgrad::check_gradient;
///
/// // f(w) = ‖w‖², ∇f(w) = 2w; but we pass a gradient that is wrong in entry 1.
/// let w = DVector::from_vec(vec![0.5_f64, -1.0, 2.0]);
/// let mut dw = 2.0 * &w;
/// dw[1] += 0.5;
///
/// let report = check_gradient(|w| w.norm_squared(), &w, &dw);
/// assert_eq!(report.entries, 3);
/// assert_eq!(report.worst_index, 1);
/// assert_eq!(report.analytic, -1.5);
/// assert!((report.numeric - -2.0).abs() < 1e-8);
/// assert!((report.max_rel_error - 0.25).abs() < 1e-8); // |-1.5 - -2| / 2
/// assert!(!report.is_within(1e-6));
/// println!("{report}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct GradientCheck<T> {
    /// The largest error over all entries (see [the error measure](GradientCheck#error-measure)),
    /// NaN if any entry's analytic or finite-difference value is NaN, and 0 if there are no
    /// entries.
    pub max_rel_error: T,
    /// Column-major linear index of the entry with the largest error (the first NaN one if there
    /// is a NaN; 0 if there are no entries). For an `r × c` matrix that is row
    /// `worst_index % r`, column `worst_index / r`; for a complex one, the real part (even) or the
    /// imaginary part (odd) of the entry at row `(worst_index / 2) % r`, column
    /// `(worst_index / 2) / r`.
    pub worst_index: usize,
    /// The given (analytic) derivative at [`worst_index`](GradientCheck::worst_index).
    pub analytic: T,
    /// The central finite-difference derivative at [`worst_index`](GradientCheck::worst_index).
    pub numeric: T,
    /// Number of entries checked (the length of the point).
    pub entries: usize,
    /// `(rows, columns)` of the checked point (`(1, 1)` for a scalar), to locate
    /// [`worst_index`](GradientCheck::worst_index).
    pub shape: (usize, usize),
    /// The real entries per entry of [`shape`](GradientCheck::shape): 2 for a complex point,
    /// else 1 ([`Point::parts`]).
    pub parts: usize,
}

impl<T: RealField + Copy + fmt::LowerExp> GradientCheck<T> {
    /// Whether every entry's error is at most `tol`.
    ///
    /// Always `false` if an error is NaN (so a NaN gradient never passes, whatever the
    /// tolerance, even `T::INFINITY`) or if `tol` is NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use matgrad::nalgebra::DVector;
    /// use matgrad::check_gradient;
    ///
    /// let w = DVector::from_vec(vec![1.0_f64, -2.0, 3.0]);
    /// let report = check_gradient(|w| w.norm_squared(), &w, &(2.0 * &w));
    /// assert!(report.is_within(1e-8));
    ///
    /// let nan_grad = DVector::from_vec(vec![2.0, f64::NAN, 6.0]);
    /// let report = check_gradient(|w| w.norm_squared(), &w, &nan_grad);
    /// assert!(!report.is_within(f64::INFINITY));
    /// ```
    #[must_use]
    pub fn is_within(&self, tol: T) -> bool {
        // `<=` is false when either side is NaN.
        self.max_rel_error <= tol
    }

    /// Panics unless [`is_within(tol)`](GradientCheck::is_within), with a message naming the
    /// worst entry (linear index, and row and column for matrices), the analytic and
    /// finite-difference values there, the error and the tolerance, e.g.
    ///
    /// ```text
    /// gradient check failed: entry 3 (row 1, column 1) of a 2×2 point: analytic 1.23 vs finite difference 1.25, relative error 1.60e-2 > tolerance 1e-6
    /// ```
    ///
    /// Meant for tests; the panic is reported at the caller's location.
    ///
    /// # Panics
    ///
    /// If some entry's error exceeds `tol`, or is NaN, or `tol` is NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use matgrad::nalgebra::DVector;
    /// use matgrad::check_gradient;
    ///
    /// fn f(w: &DVector<f64>) -> f64 {
    ///     w.norm_squared()
    /// }
    /// fn grad_f(w: &DVector<f64>) -> DVector<f64> {
    ///     2.0 * w
    /// }
    ///
    /// let w = DVector::from_vec(vec![0.3, -1.2, 4.0, 0.0]);
    /// check_gradient(f, &w, &grad_f(&w)).assert_within(1e-6);
    ///
    /// // A wrong gradient panics:
    /// let wrong = std::panic::catch_unwind(|| {
    ///     check_gradient(f, &w, &w).assert_within(1e-6); // forgot the factor 2
    /// });
    /// assert!(wrong.is_err());
    /// ```
    #[track_caller]
    pub fn assert_within(&self, tol: T) {
        if !self.is_within(tol) {
            panic!(
                "gradient check failed: {}, {} > tolerance {:e}",
                WorstEntry(self),
                ErrorValue(self.max_rel_error),
                tol
            );
        }
    }
}

/// One line: the number of entries, the worst error and where it is, e.g.
/// `gradient check of 4 entries: max relative error 1.60e-2 at entry 3 (row 1, column 1) of a 2×2
/// point: analytic 1.23 vs finite difference 1.25`.
impl<T: RealField + Copy + fmt::LowerExp> fmt::Display for GradientCheck<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries == 0 {
            return f.write_str("gradient check of 0 entries: nothing to compare");
        }
        let plural = if self.entries == 1 {
            "entry"
        } else {
            "entries"
        };
        write!(
            f,
            "gradient check of {} {plural}: max {} at {}",
            self.entries,
            ErrorValue(self.max_rel_error),
            WorstEntry(self)
        )
    }
}

/// Formats "entry i (row r, column c) of an r×c point: analytic a vs finite difference n".
struct WorstEntry<'a, T>(&'a GradientCheck<T>);

impl<T: RealField + Copy + fmt::LowerExp> fmt::Display for WorstEntry<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        write!(f, "entry {}", c.worst_index)?;
        let (rows, cols) = c.shape;
        // The entry of the shape, and which part of it for a complex point.
        let k = c.worst_index / c.parts.max(1);
        let mut place = Vec::new();
        if c.parts == 2 {
            let part = ["real", "imaginary"][c.worst_index % 2];
            place.push(match (rows, cols) {
                (1, 1) => format!("the {part} part"),
                _ => format!("the {part} part of entry {k}"),
            });
        }
        if rows > 1 && cols > 1 {
            place.push(format!("row {}, column {}", k % rows, k / rows));
        }
        if !place.is_empty() {
            write!(f, " ({})", place.join(", "))?;
        }
        if (rows, cols) != (1, 1) {
            write!(f, " of a {rows}×{cols} point")?;
        }
        write!(
            f,
            ": analytic {} vs finite difference {}",
            Num(c.analytic),
            Num(c.numeric)
        )
    }
}

/// Formats "relative error 1.60e-2", or an explanation for NaN.
struct ErrorValue<T>(T);

impl<T: RealField + Copy + fmt::LowerExp> fmt::Display for ErrorValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_nan(self.0) {
            f.write_str("relative error NaN (a NaN or infinite derivative)")
        } else {
            write!(f, "relative error {:.2e}", self.0)
        }
    }
}

/// Formats a number compactly: plain decimal for moderate magnitudes, scientific otherwise.
struct Num<T>(T);

impl<T: RealField + Copy + fmt::LowerExp> fmt::Display for Num<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        let a = ComplexField::abs(v);
        let lo = nalgebra::convert::<f64, T>(1e-4);
        let hi = nalgebra::convert::<f64, T>(1e7);
        if v == T::zero() || !v.is_finite() || (a >= lo && a < hi) {
            write!(f, "{v}")
        } else {
            write!(f, "{v:e}")
        }
    }
}

/// The machine epsilon: `approx`'s `default_epsilon`, which is `f32::EPSILON` / `f64::EPSILON`.
#[inline]
fn machine_epsilon<T: RealField>() -> T {
    T::default_epsilon()
}

#[inline]
fn is_nan<T: PartialOrd>(v: T) -> bool {
    v.partial_cmp(&v).is_none()
}

/// Checks a gradient against central finite differences of `f`, entry by entry.
///
/// * `f` is the scalar function; it receives an owned copy of the point (`&P::Owned`: for a
///   `DVector<f64>` point that is a `&DVector<f64>`, for an `f64` point a `&f64`).
/// * `x` is the point to check the gradient at.
/// * `grad` is the gradient to check, `∂f/∂x` at `x`, entry for entry in the same (column-major)
///   order as `x`. It may be any [`Point`] of the same scalar type and length, usually the same
///   type as `x`.
///
/// For each entry `i` the derivative is estimated by central differences with step
/// `h = ε^(1/3) · max(1, |x_i|)`, ε the machine epsilon of the scalar type (`f32::EPSILON` or
/// `f64::EPSILON`):
///
/// ```text
/// numeric_i = (f(x + h e_i) - f(x - h e_i)) / ((x_i + h) - (x_i - h))
/// ```
///
/// where the denominator is the step actually taken in floating point, which cancels the error of
/// representing `x_i ± h`. The result compares each numeric derivative with the analytic one;
/// see [`GradientCheck`] for the error measure and for tolerances.
///
/// `f` is called `2 · len` times. The point is copied once ([`Point::to_owned_point`]), and the
/// copy is perturbed and restored in place, so nothing is allocated for fixed-size matrices and
/// scalars, and a single matrix is allocated for dynamic ones.
///
/// # Panics
///
/// If `grad` does not have as many entries as `x`, or if `f` panics.
///
/// # Examples
///
/// A vector function and a hand-written gradient, `f(w) = ‖w‖² + w₀ w₁`:
///
/// ```
/// use matgrad::nalgebra::DVector;
/// use matgrad::check_gradient;
///
/// fn f(w: &DVector<f64>) -> f64 {
///     w.norm_squared() + w[0] * w[1]
/// }
///
/// let w = DVector::from_vec(vec![0.5, -1.5, 2.0]);
/// let mut dw = &w * 2.0;
/// dw[0] += w[1];
/// dw[1] += w[0];
///
/// let report = check_gradient(f, &w, &dw);
/// report.assert_within(1e-6);
/// assert_eq!(report.entries, 3);
/// ```
///
/// Extra arguments are captured by a closure; scalars and fixed-size matrices work the same way:
///
/// ```
/// use matgrad::nalgebra::{DMatrix, DVector, Matrix2};
/// use matgrad::check_gradient;
///
/// // ½‖Xw − y‖², gradient Xᵀ(Xw − y)
/// fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
///     0.5 * (x * w - y).norm_squared()
/// }
/// let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 0.5, -1.0, 3.0, 0.0]);
/// let y = DVector::from_vec(vec![1.0, 0.0, -2.0]);
/// let w = DVector::from_vec(vec![0.3, -0.7]);
/// let dw = x.transpose() * (&x * &w - &y);
/// check_gradient(|w| lsq(w, &x, &y), &w, &dw).assert_within(1e-6);
///
/// // scalar: d/dt (t³ sin t) = 3t² sin t + t³ cos t
/// let t = 1.3_f64;
/// let dt = 3.0 * t * t * t.sin() + t.powi(3) * t.cos();
/// check_gradient(|t: &f64| t.powi(3) * t.sin(), &t, &dt).assert_within(1e-6);
///
/// // f32 matrix: f(A) = tr(AᵀA) = ‖A‖²_F, ∇f = 2A
/// let a = Matrix2::new(1.0_f32, -2.0, 0.5, 3.0);
/// check_gradient(|a| a.norm_squared(), &a, &(a * 2.0)).assert_within(1e-3);
/// ```
pub fn check_gradient<P, G, F>(mut f: F, x: &P, grad: &G) -> GradientCheck<P::Scalar>
where
    P: Point + ?Sized,
    G: Point<Scalar = P::Scalar> + ?Sized,
    F: FnMut(&P::Owned) -> P::Scalar,
{
    let n = x.len();
    assert_eq!(
        grad.len(),
        n,
        "check_gradient: the gradient has {} entries but the point has {n}",
        grad.len()
    );

    let zero: P::Scalar = nalgebra::zero();
    let one: P::Scalar = nalgebra::one();
    let step_scale = ComplexField::cbrt(machine_epsilon::<P::Scalar>());

    let mut report = GradientCheck {
        max_rel_error: zero,
        worst_index: 0,
        analytic: zero,
        numeric: zero,
        entries: n,
        shape: x.shape(),
        parts: x.parts(),
    };

    let mut xs = x.to_owned_point();
    for i in 0..n {
        let xi = x.entry(i);
        let h = step_scale * RealField::max(one, ComplexField::abs(xi));
        let x_plus = xi + h;
        let x_minus = xi - h;

        P::set_entry(&mut xs, i, x_plus);
        let f_plus = f(&xs);
        P::set_entry(&mut xs, i, x_minus);
        let f_minus = f(&xs);
        P::set_entry(&mut xs, i, xi);

        let numeric = (f_plus - f_minus) / (x_plus - x_minus);
        let analytic = grad.entry(i);
        let scale = RealField::max(
            one,
            RealField::max(ComplexField::abs(analytic), ComplexField::abs(numeric)),
        );
        // NaN if either value is NaN (or both are infinite), since |a - n| is then NaN.
        let err = ComplexField::abs(analytic - numeric) / scale;

        // Keep the first entry (so the report always shows real values), then the largest error;
        // once a NaN error is recorded it is kept.
        let worse = i == 0
            || (!is_nan(report.max_rel_error) && (is_nan(err) || err > report.max_rel_error));
        if worse {
            report.max_rel_error = err;
            report.worst_index = i;
            report.analytic = analytic;
            report.numeric = numeric;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector, Matrix2x3, Matrix3, RowDVector, SMatrix, Vector3, Vector4};

    /// ½‖Xw − y‖², the function of the crate's running example.
    fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
        0.5 * (x * w - y).norm_squared()
    }

    fn lsq_data() -> (DMatrix<f64>, DVector<f64>, DVector<f64>) {
        let x = DMatrix::from_fn(5, 3, |i, j| {
            ((i * 3 + j) as f64 * 0.7).sin() + 0.1 * j as f64
        });
        let y = DVector::from_fn(5, |i, _| (i as f64).cos());
        let w = DVector::from_vec(vec![0.3, -1.7, 2.5]);
        (x, y, w)
    }

    #[test]
    fn scalar_f64_correct_gradient_passes() {
        // f(t) = t³ sin t + e^t, f'(t) = 3t² sin t + t³ cos t + e^t
        let f = |t: f64| t.powi(3) * t.sin() + t.exp();
        for &t in &[-3.0_f64, -0.2, 0.0, 1.3, 25.0] {
            let dt = 3.0 * t * t * t.sin() + t.powi(3) * t.cos() + t.exp();
            let r = check_gradient(|t| f(*t), &t, &dt);
            assert_eq!(r.entries, 1);
            assert_eq!(r.shape, (1, 1));
            assert_eq!(r.worst_index, 0);
            assert_eq!(r.analytic, dt);
            assert!(r.max_rel_error < 1e-8, "t = {t}: {r}");
            r.assert_within(1e-7);
        }
    }

    #[test]
    fn scalar_f32_correct_gradient_passes_and_wrong_fails() {
        let t = 0.7_f32;
        let r = check_gradient(|t: &f32| t.sin() * t, &t, &(t.cos() * t + t.sin()));
        r.assert_within(1e-3);
        let r = check_gradient(|t: &f32| t.sin() * t, &t, &(t.cos() * t));
        assert!(!r.is_within(1e-2), "{r}");
    }

    #[test]
    fn dvector_lsq_correct_gradient_passes() {
        let (x, y, w) = lsq_data();
        let dw = x.transpose() * (&x * &w - &y);
        let r = check_gradient(|w| lsq(w, &x, &y), &w, &dw);
        assert_eq!(r.entries, 3);
        assert_eq!(r.shape, (3, 1));
        assert!(r.max_rel_error < 1e-8, "{r}");
        r.assert_within(1e-6);
    }

    #[test]
    fn step_is_relative_to_large_entries() {
        // f(t) = t² / 10¹², f'(t) = 2t / 10¹² = 2 at t = 10¹². An absolute step of ε^(1/3) ≈ 6e-6
        // is below half an ulp of 10¹² (≈ 1.2e-4), so it would not move t at all.
        let t = 1e12_f64;
        let r = check_gradient(|t| t * t * 1e-12, &t, &2.0);
        assert!(r.max_rel_error < 1e-8, "{r}");
        // Same in f32: ε^(1/3) ≈ 4.9e-3 is below half an ulp of 10⁶ (0.0625 / 2).
        let t = 1e6_f32;
        // (A literal gradient of an f32 point needs its suffix.)
        check_gradient(|t| t * t * 1e-6, &t, &2.0_f32).assert_within(1e-3);
    }

    #[test]
    fn step_representation_error_cancels() {
        // For f(t) = t the difference quotient divides (t + h) - (t - h) by itself, so it is
        // exactly 1, while dividing by 2h would be off by the rounding of t ± h.
        for i in 0..60 {
            let t = (i as f32 * 0.731).sin() * 10f32.powi(i % 7 - 3);
            let r = check_gradient(|t| *t, &t, &1.0_f32);
            assert_eq!(r.max_rel_error, 0.0, "t = {t}: {r}");
            let t = (i as f64 * 0.731).sin() * 10f64.powi(i % 9 - 4);
            let r = check_gradient(|t| *t, &t, &1.0);
            assert_eq!(r.max_rel_error, 0.0, "t = {t}: {r}");
        }
    }

    #[test]
    fn matrix3_f32_correct_gradient_passes() {
        // f(A) = tr(A B Aᵀ) + Σ sin(a_ij), ∇f = A (B + Bᵀ) + cos(A)
        let b = Matrix3::new(1.0_f32, 0.5, -0.3, 0.2, 2.0, 0.1, -1.0, 0.4, 0.7);
        let a = Matrix3::new(0.3_f32, -0.8, 1.1, 0.0, 0.6, -0.4, 1.5, 0.25, -1.2);
        let f = |a: &Matrix3<f32>| (a * b * a.transpose()).trace() + a.map(f32::sin).sum();
        let grad = a * (b + b.transpose()) + a.map(f32::cos);
        let r = check_gradient(f, &a, &grad);
        assert_eq!(r.entries, 9);
        assert_eq!(r.shape, (3, 3));
        assert!(r.max_rel_error < 1e-3, "{r}");
        r.assert_within(1e-3);

        // and a clearly wrong one (the transpose of B forgotten) fails
        let wrong = a * b * 2.0 + a.map(f32::cos);
        assert!(!check_gradient(f, &a, &wrong).is_within(1e-2));
    }

    #[test]
    fn dmatrix_f64_correct_gradient_passes() {
        // f(W) = Σ_k log(1 + exp((W v)_k)) + ½‖W‖², ∇f = σ(W v) vᵀ + W, W non-square 3×4
        let v = DVector::from_vec(vec![0.5, -1.0, 2.0, 0.25]);
        let w = DMatrix::from_fn(3, 4, |i, j| (i as f64 - 1.0) * 0.3 + j as f64 * 0.2);
        let f = |w: &DMatrix<f64>| (w * &v).map(|z| z.exp().ln_1p()).sum() + 0.5 * w.norm_squared();
        let sig = (&w * &v).map(|z| 1.0 / (1.0 + (-z).exp()));
        let grad = &sig * v.transpose() + &w;
        let r = check_gradient(f, &w, &grad);
        assert_eq!(r.entries, 12);
        assert_eq!(r.shape, (3, 4));
        assert!(r.max_rel_error < 1e-8, "{r}");
        r.assert_within(1e-6);
    }

    #[test]
    fn other_shapes_and_storages_work() {
        // Vector4<f32>
        let v = Vector4::new(1.0_f32, -2.0, 0.5, 3.0);
        check_gradient(|v| v.norm_squared(), &v, &(v * 2.0)).assert_within(1e-3);

        // SMatrix<f64, 2, 5>: f = Σ a_ij³, ∇f = 3a²
        let m = SMatrix::<f64, 2, 5>::from_fn(|i, j| i as f64 - j as f64 * 0.5);
        let f = |m: &SMatrix<f64, 2, 5>| m.map(|a| a * a * a).sum();
        check_gradient(f, &m, &m.map(|a| 3.0 * a * a)).assert_within(1e-6);

        // RowDVector<f64>
        let r = RowDVector::from_vec(vec![0.1, 0.2, -0.3]);
        check_gradient(|r| r.norm_squared(), &r, &(2.0 * &r)).assert_within(1e-6);

        // A strided view (a row of a matrix) as the point; its owned copy is a row vector.
        let big = Matrix2x3::new(1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0);
        let row = big.row(1);
        assert_eq!(Point::len(&row), 3);
        assert_eq!(row.entry(2), 6.0);
        assert_eq!(row.to_owned_point(), big.row(1).into_owned());
        check_gradient(|r| r.norm_squared(), &row, &(2.0 * row)).assert_within(1e-6);

        // The gradient may be any point of the same length (a view of a column vector here).
        let g = Vector3::new(2.0, 4.0, 6.0);
        let x = Vector3::new(1.0, 2.0, 3.0);
        check_gradient(|x| x.norm_squared(), &x, &g.rows(0, 3)).assert_within(1e-6);
    }

    #[test]
    fn empty_point_passes_vacuously() {
        let w = DVector::<f64>::zeros(0);
        let r = check_gradient(|w| w.norm_squared(), &w, &w);
        assert_eq!(r.entries, 0);
        assert_eq!(r.max_rel_error, 0.0);
        assert!(r.is_within(0.0));
        assert_eq!(
            r.to_string(),
            "gradient check of 0 entries: nothing to compare"
        );
    }

    #[test]
    fn wrong_entry_is_reported_with_its_index() {
        let (x, y, w) = lsq_data();
        let w = DVector::from_iterator(6, w.iter().copied().cycle().take(6));
        let x = DMatrix::from_fn(5, 6, |i, j| x[(i, j % 3)] + 0.05 * (i * j) as f64);
        let mut dw = x.transpose() * (&x * &w - &y);
        let exact = dw.clone();
        for bad in 0..6 {
            dw.copy_from(&exact);
            dw[bad] *= 1.01;
            let r = check_gradient(|w| lsq(w, &x, &y), &w, &dw);
            assert_eq!(r.worst_index, bad, "{r}");
            assert_eq!(r.analytic, dw[bad]);
            assert!((r.numeric - exact[bad]).abs() < 1e-6 * exact[bad].abs().max(1.0));
            let expected =
                (dw[bad] - r.numeric).abs() / dw[bad].abs().max(r.numeric.abs()).max(1.0);
            assert_eq!(r.max_rel_error, expected);
            assert!(r.max_rel_error > 1e-4, "{r}");
            assert!(!r.is_within(1e-6));
            assert!(r.is_within(0.1));
        }
    }

    #[test]
    fn wrong_matrix_entry_is_located_by_row_and_column() {
        let a = DMatrix::from_fn(3, 4, |i, j| i as f64 + 10.0 * j as f64);
        let mut g = 2.0 * &a;
        g[(1, 2)] += 1.0; // linear index 2 * 3 + 1 = 7
        let r = check_gradient(|a| a.norm_squared(), &a, &g);
        assert_eq!(r.worst_index, 7);
        assert_eq!(r.analytic, 43.0);
        let msg = r.to_string();
        assert!(
            msg.contains("entry 7 (row 1, column 2) of a 3×4 point"),
            "{msg}"
        );
        assert!(
            msg.contains("analytic 43 vs finite difference 41.99999"),
            "{msg}"
        );
        assert!(
            msg.starts_with("gradient check of 12 entries: max relative error 2.3"),
            "{msg}"
        );
    }

    #[test]
    fn complex_points_are_perturbed_in_each_part() {
        use nalgebra::{Complex, DMatrix};
        // f(Z) = Re tr(M Z) + |z₀₀|²: ∇ = Mᴴ + 2 z₀₀ e₀₀ (∂/∂Re + i ∂/∂Im).
        let m = DMatrix::from_fn(2, 2, |i, j| Complex::new(i as f64 - 0.5, j as f64 + 0.25));
        let z = DMatrix::from_fn(2, 2, |i, j| {
            Complex::new(0.3 * i as f64, -0.7 * j as f64 + 0.1)
        });
        let f = |z: &DMatrix<Complex<f64>>| (&m * z).trace().re + z[0].norm_sqr();
        let mut g = m.adjoint();
        g[0] += z[0] * 2.0;
        let r = check_gradient(f, &z, &g);
        assert_eq!((r.entries, r.parts, r.shape), (8, 2, (2, 2)));
        r.assert_within(1e-8);
        // The conjugate is wrong in the imaginary parts; the report says where.
        let r = check_gradient(f, &z, &g.conjugate());
        assert!(!r.is_within(1e-2));
        assert_eq!(r.worst_index % 2, 1, "{r}");
        let msg = r.to_string();
        assert!(msg.contains("(the imaginary part of entry "), "{msg}");
        assert!(msg.contains("of a 2×2 point"), "{msg}");
    }

    #[test]
    fn complex_scalars_and_f32() {
        use nalgebra::{Complex, Vector2};
        // f(z) = |z|² Re z: ∂/∂x = 3x² + y², ∂/∂y = 2xy.
        let z = Complex::new(0.5_f64, -1.5);
        let g = Complex::new(3.0 * z.re * z.re + z.im * z.im, 2.0 * z.re * z.im);
        let r = check_gradient(|z: &Complex<f64>| z.norm_sqr() * z.re, &z, &g);
        r.assert_within(1e-8);
        assert_eq!(r.entries, 2);
        let r = check_gradient(|z: &Complex<f64>| z.norm_sqr() * z.re, &z, &g.conj());
        assert!(
            r.to_string().contains("entry 1 (the imaginary part)"),
            "{r}"
        );
        let v = Vector2::new(Complex::new(1.0_f32, 2.0), Complex::new(-0.5, 0.25));
        check_gradient(|v| v.norm_squared(), &v, &(v * Complex::new(2.0, 0.0))).assert_within(1e-3);
    }

    #[test]
    #[should_panic(
        expected = "gradient check failed: entry 2 of a 3×1 point: analytic 6.5 vs finite difference "
    )]
    fn assert_within_panics_naming_the_worst_entry() {
        let w = DVector::from_vec(vec![1.0_f64, 2.0, 3.0]);
        let g = DVector::from_vec(vec![2.0, 4.0, 6.5]);
        check_gradient(|w| w.norm_squared(), &w, &g).assert_within(1e-6);
    }

    #[test]
    fn assert_within_message_has_error_and_tolerance() {
        let w = DVector::from_vec(vec![1.0_f64, 2.0, 3.0]);
        let g = DVector::from_vec(vec![2.0, 4.0, 6.5]);
        let r = check_gradient(|w| w.norm_squared(), &w, &g);
        let err = std::panic::catch_unwind(|| r.assert_within(1e-6)).unwrap_err();
        let msg = err
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(
            msg.ends_with(", relative error 7.69e-2 > tolerance 1e-6"),
            "{msg}"
        );
        r.assert_within(0.08);
    }

    #[test]
    fn nan_in_analytic_gradient_fails() {
        let w = DVector::from_vec(vec![1.0_f64, 2.0, 3.0, 4.0]);
        let mut g = 2.0 * &w;
        g[3] += 100.0; // a large but finite error before...
        g[1] = f64::NAN; // ...does not hide the NaN
        let r = check_gradient(|w| w.norm_squared(), &w, &g);
        assert!(r.max_rel_error.is_nan());
        assert_eq!(r.worst_index, 1);
        assert!(r.analytic.is_nan());
        assert!(!r.is_within(1e-6));
        assert!(!r.is_within(f64::INFINITY));
        assert!(!r.is_within(f64::MAX));
        assert!(r.to_string().contains("relative error NaN"), "{r}");
        let panicked = std::panic::catch_unwind(|| r.assert_within(f64::INFINITY));
        assert!(panicked.is_err());
    }

    #[test]
    fn nan_in_function_fails() {
        // f is NaN for w₀ > 1, so the finite difference of entry 0 at w₀ = 1 is NaN.
        let w = DVector::from_vec(vec![1.0_f64, 0.5]);
        let f = |w: &DVector<f64>| (1.0 - w[0]).sqrt() + w[1];
        let g = DVector::from_vec(vec![0.0, 1.0]);
        let r = check_gradient(f, &w, &g);
        assert_eq!(r.worst_index, 0);
        assert!(r.numeric.is_nan());
        assert!(!r.is_within(f64::INFINITY));

        // f32 too, and a NaN in the last entry
        let v = Vector4::new(1.0_f32, 2.0, 3.0, 4.0);
        let g = Vector4::new(2.0, 4.0, 6.0, f32::NAN);
        let r = check_gradient(|v| v.norm_squared(), &v, &g);
        assert_eq!(r.worst_index, 3);
        assert!(!r.is_within(f32::INFINITY));
    }

    #[test]
    fn infinite_values_fail() {
        let w = 2.0_f64;
        assert!(!check_gradient(|_| f64::INFINITY, &w, &f64::INFINITY).is_within(f64::INFINITY));
        assert!(!check_gradient(|w| w * w, &w, &f64::INFINITY).is_within(1e6));
    }

    #[test]
    fn nan_tolerance_fails() {
        let w = 2.0_f64;
        let r = check_gradient(|w| w * w, &w, &4.0);
        assert!(r.is_within(1e-6));
        assert!(!r.is_within(f64::NAN));
    }

    #[test]
    fn point_is_restored_between_entries() {
        // If an entry were left perturbed, later evaluations would see it.
        let w = Vector3::new(0.1_f64, 0.2, 0.3);
        let mut calls = 0;
        let r = check_gradient(
            |v: &Vector3<f64>| {
                calls += 1;
                let moved = (0..3).filter(|&k| v[k] != w[k]).count();
                assert_eq!(moved, 1, "exactly one entry is perturbed per evaluation");
                v.norm_squared()
            },
            &w,
            &(2.0 * w),
        );
        assert_eq!(calls, 6);
        r.assert_within(1e-8);
    }

    #[test]
    #[should_panic(expected = "the gradient has 2 entries but the point has 3")]
    fn length_mismatch_panics() {
        let w = DVector::from_vec(vec![1.0_f64, 2.0, 3.0]);
        let g = DVector::from_vec(vec![1.0, 2.0]);
        let _ = check_gradient(|w| w.norm_squared(), &w, &g);
    }

    #[test]
    fn point_trait_basics() {
        let m = DMatrix::from_row_slice(2, 3, &[1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(Point::len(&m), 6);
        assert!(!Point::is_empty(&m));
        assert_eq!(Point::shape(&m), (2, 3));
        let col_major: Vec<f32> = (0..6).map(|i| m.entry(i)).collect();
        assert_eq!(col_major, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let mut o = m.to_owned_point();
        <DMatrix<f32> as Point>::set_entry(&mut o, 3, -1.0);
        assert_eq!(o[(1, 1)], -1.0);

        let x = 2.5_f64;
        assert_eq!(
            (Point::len(&x), Point::shape(&x), x.entry(0)),
            (1, (1, 1), 2.5)
        );
        let mut o = x.to_owned_point();
        f64::set_entry(&mut o, 0, 1.0);
        assert_eq!(o, 1.0);
    }

    #[test]
    fn number_formatting() {
        assert_eq!(Num(1.25_f64).to_string(), "1.25");
        assert_eq!(Num(0.0_f64).to_string(), "0");
        assert_eq!(Num(-3e-9_f64).to_string(), "-3e-9");
        assert_eq!(Num(2.5e10_f32).to_string(), "2.5e10");
        assert_eq!(Num(f64::NAN).to_string(), "NaN");
        assert_eq!(Num(f32::NEG_INFINITY).to_string(), "-inf");
    }

    mod no_heap {
        //! Counts this thread's heap allocations to check that fixed-size inputs allocate nothing.
        use super::*;
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        struct Counting;

        thread_local! {
            static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
        }

        // SAFETY: forwards to the system allocator; only counts.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                // SAFETY: same contract as the caller's.
                unsafe { System.alloc(layout) }
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                // SAFETY: same contract as the caller's.
                unsafe { System.dealloc(ptr, layout) }
            }
        }

        #[global_allocator]
        static GLOBAL: Counting = Counting;

        fn allocations_during(f: impl FnOnce()) -> usize {
            let before = ALLOCATIONS.with(Cell::get);
            f();
            ALLOCATIONS.with(Cell::get) - before
        }

        #[test]
        fn fixed_size_inputs_do_not_allocate() {
            let a = Matrix3::new(0.3_f32, -0.8, 1.1, 0.0, 0.6, -0.4, 1.5, 0.25, -1.2);
            let n = allocations_during(|| {
                let r = check_gradient(|a| a.norm_squared(), &a, &(a * 2.0));
                assert!(r.is_within(1e-3));
            });
            assert_eq!(n, 0);

            let n = allocations_during(|| {
                let r = check_gradient(|t: &f64| t.sin(), &0.4, &0.4_f64.cos());
                assert!(r.is_within(1e-6));
            });
            assert_eq!(n, 0);
        }

        #[test]
        fn dynamic_inputs_allocate_one_copy() {
            let w = DVector::from_vec(vec![1.0_f64, 2.0, 3.0]);
            let g = 2.0 * &w;
            let n = allocations_during(|| {
                let r = check_gradient(|w| w.norm_squared(), &w, &g);
                assert!(r.is_within(1e-6));
            });
            assert_eq!(n, 1);
        }
    }
}
