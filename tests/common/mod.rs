//! Helpers shared by the finite-difference integration tests: deterministic
//! pseudo-random inputs (no `rand`), tolerances per scalar type, and the
//! [`check!`] macro that compares a `<name>_grad` against the plain function.
//!
//! Each test file is its own crate and uses only part of this module.
#![allow(dead_code, unused_macros)]

use core::fmt::{Display, LowerExp};

use matgrad::nalgebra::{Complex, DMatrix, DVector, RealField, RowDVector, SMatrix};
use matgrad::{check_gradient, Point};

/// `f64` or `f32`, with the tolerances the tests use for it.
pub trait Real: RealField + Copy + LowerExp + Display {
    /// Largest error `check_gradient` may report (see its error measure:
    /// relative for derivatives above 1 in magnitude, absolute below).
    const GRAD_TOL: Self;
    /// Largest relative difference between the value `<name>_grad` returns
    /// and the plain function's value.
    const VALUE_TOL: Self;
    fn of(x: f64) -> Self;
}

impl Real for f64 {
    /// The bound the project asks for: central differences with the step
    /// `check_gradient` takes (ε^(1/3)·max(1,|x|) ≈ 6e-6) are good to about
    /// ε^(2/3) ≈ 4e-11 times the scale of f and f''' (the worst case measured
    /// over these tests is about 4e-9), far below 1e-6.
    const GRAD_TOL: f64 = 1e-6;
    /// The generated code may evaluate the forward pass in another order
    /// (shared subexpressions, `tr_dot` for a trace of a product, …), so
    /// allow a few hundred ulps rather than bitwise equality.
    const VALUE_TOL: f64 = 1e-12;
    fn of(x: f64) -> f64 {
        x
    }
}

impl Real for f32 {
    /// In f32 the step is ε^(1/3) ≈ 4.9e-3, so the rounding part of the
    /// central difference is about ε·|f|/h ≈ 2.4e-5·|f| and the truncation
    /// part h²·|f'''|/6 ≈ 4e-6·|f'''|; with the losses below (|f| up to ~100,
    /// a few ulps of rounding per operation inside f) that is up to a few
    /// 1e-3 (the worst case measured over these tests is about 3e-4). 2e-2
    /// leaves headroom for that noise while a wrong rule (a missing term, a
    /// transpose, a factor 2) still shows as an error of order 1; the same
    /// rules are held to 1e-6 by the `f64` cases.
    const GRAD_TOL: f32 = 2e-2;
    /// A few ulps per operation for a dozen operations evaluated in a
    /// possibly different order: about 80 ulps of f32.
    const VALUE_TOL: f32 = 1e-5;
    fn of(x: f64) -> f32 {
        x as f32
    }
}

/// A deterministic pseudo-random number in [-1, 1] for entry (i, j) of the
/// matrix number `seed`: the three mixed by SplitMix64's finalizer after each
/// is folded in, so that entries are unrelated (an affine hash of `i` and `j`
/// mapped through `sin` would make every matrix of rank 2).
pub fn rnd(seed: u32, i: usize, j: usize) -> f64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in [seed as u64, i as u64, j as u64] {
        h = mix(h.wrapping_add(k).wrapping_add(0x9E37_79B9_7F4A_7C15));
    }
    (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// Entries in [-1, 1].
pub fn dm<T: Real>(r: usize, c: usize, seed: u32) -> DMatrix<T> {
    DMatrix::from_fn(r, c, |i, j| T::of(rnd(seed, i, j)))
}
pub fn dv<T: Real>(n: usize, seed: u32) -> DVector<T> {
    DVector::from_fn(n, |i, j| T::of(rnd(seed, i, j)))
}
pub fn dr<T: Real>(n: usize, seed: u32) -> RowDVector<T> {
    RowDVector::from_fn(n, |i, j| T::of(rnd(seed, i, j)))
}
/// Any static shape: `Matrix3`, `Matrix2x3`, `Vector3`, `RowVector3`,
/// `SMatrix<_, R, C>`, `SVector<_, N>` are all `SMatrix`.
pub fn sm<T: Real, const R: usize, const C: usize>(seed: u32) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|i, j| T::of(rnd(seed, i, j)))
}

/// Entries in [0.5, 1.5] (for `ln`, `sqrt`, `powf`, divisors, …).
pub fn dm_pos<T: Real>(r: usize, c: usize, seed: u32) -> DMatrix<T> {
    DMatrix::from_fn(r, c, |i, j| T::of(1.0 + 0.5 * rnd(seed, i, j)))
}
pub fn dv_pos<T: Real>(n: usize, seed: u32) -> DVector<T> {
    DVector::from_fn(n, |i, j| T::of(1.0 + 0.5 * rnd(seed, i, j)))
}
pub fn dr_pos<T: Real>(n: usize, seed: u32) -> RowDVector<T> {
    RowDVector::from_fn(n, |i, j| T::of(1.0 + 0.5 * rnd(seed, i, j)))
}
pub fn sm_pos<T: Real, const R: usize, const C: usize>(seed: u32) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|i, j| T::of(1.0 + 0.5 * rnd(seed, i, j)))
}

/// Entries in ±[0.5, 1.5]: away from 0 but of both signs (for `abs`).
fn away(seed: u32, i: usize, j: usize) -> f64 {
    let v = rnd(seed, i, j);
    v.signum() * (0.5 + v.abs())
}
pub fn dm_away<T: Real>(r: usize, c: usize, seed: u32) -> DMatrix<T> {
    DMatrix::from_fn(r, c, |i, j| T::of(away(seed, i, j)))
}
pub fn sm_away<T: Real, const R: usize, const C: usize>(seed: u32) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|i, j| T::of(away(seed, i, j)))
}

/// `n·I + R/2` with R in [-1, 1]: diagonally dominant, so invertible with a
/// condition number of about 1 and a determinant far from 0.
pub fn dm_well<T: Real>(n: usize, seed: u32) -> DMatrix<T> {
    DMatrix::from_fn(n, n, |i, j| T::of(well(n, seed, i, j)))
}
pub fn sm_well<T: Real, const N: usize>(seed: u32) -> SMatrix<T, N, N> {
    SMatrix::from_fn(|i, j| T::of(well(N, seed, i, j)))
}
fn well(n: usize, seed: u32, i: usize, j: usize) -> f64 {
    0.5 * rnd(seed, i, j) + if i == j { n as f64 } else { 0.0 }
}

/// Symmetric positive definite, `n·I + (R + Rᵀ)/4`: positive determinant.
pub fn dm_spd<T: Real>(n: usize, seed: u32) -> DMatrix<T> {
    DMatrix::from_fn(n, n, |i, j| T::of(spd(n, seed, i, j)))
}
pub fn sm_spd<T: Real, const N: usize>(seed: u32) -> SMatrix<T, N, N> {
    SMatrix::from_fn(|i, j| T::of(spd(N, seed, i, j)))
}
fn spd(n: usize, seed: u32, i: usize, j: usize) -> f64 {
    0.25 * (rnd(seed, i, j) + rnd(seed, j, i)) + if i == j { n as f64 } else { 0.0 }
}

/// A scalar in [0.5, 1.5].
pub fn sc<T: Real>(seed: u32) -> T {
    T::of(1.0 + 0.5 * rnd(seed, 7, 11))
}

/// An owned copy (the closures of `check!` shadow each parameter with it).
pub fn own<T: Clone>(x: &T) -> T {
    x.clone()
}

/// Only compiles if both have the same type: a gradient has the type of its
/// parameter with the reference removed.
pub fn same_type<T>(_param: &T, _grad: &T) {}

/// Asserts that `grad` is within `T::GRAD_TOL` of central finite differences
/// of `f` at `x` (`GradientCheck::assert_within`), naming the case on failure.
#[track_caller]
pub fn fd<P, F>(what: &str, f: F, x: &P, grad: &P)
where
    P: Point,
    P::Scalar: Real,
    F: FnMut(&P::Owned) -> P::Scalar,
{
    let report = check_gradient(f, x, grad);
    if !report.is_within(<P::Scalar as Real>::GRAD_TOL) {
        eprintln!("{what}: {report}");
    }
    report.assert_within(<P::Scalar as Real>::GRAD_TOL);
}

/// Derivatives of `f` at `x` along three directions by central differences, against
/// `⟨grad, v⟩`: for matrices too large for differences over every entry.
pub fn fd_along(
    what: &str,
    f: impl Fn(&DMatrix<f64>) -> f64,
    x: &DMatrix<f64>,
    grad: &DMatrix<f64>,
) {
    for seed in 0..3 {
        let v = dm::<f64>(x.nrows(), x.ncols(), 100 + seed);
        let eps = 1e-5;
        let by_differences = (f(&(x + &v * eps)) - f(&(x - &v * eps))) / (2.0 * eps);
        let exact = grad.dot(&v);
        assert!(
            (by_differences - exact).abs() <= 1e-6 * exact.abs().max(1.0),
            "{what}, along direction {seed}: {by_differences} by differences, {exact} by the gradient"
        );
    }
}

/// Whether sums run in the function's own order: with the `parallel` feature and more than
/// one thread, loops and products of dynamic size may be split into blocks whose sums are added
/// (CI runs every test that way with `MATGRAD_MIN_WORK=1`), equal to the last bits only.
pub fn sums_in_order() -> bool {
    matgrad::threads() == 1
}

/// Asserts that the value `<name>_grad` returned equals the plain function's
/// value up to `T::VALUE_TOL` relative.
#[track_caller]
pub fn same_value<T: Real>(what: &str, got: T, want: T) {
    let scale = got.abs().max(want.abs());
    assert!(
        got == want || (got - want).abs() <= T::VALUE_TOL * scale,
        "{what}: value {got:e} of the _grad function differs from the plain value {want:e}"
    );
    assert!(got.is_finite(), "{what}: value {got:e} is not finite");
}

/// `check!(f(args…) => f_grad[a, b, s])`
///
/// Calls `f_grad(args…)` once, checks that its value equals `f(args…)`, that
/// each gradient has the owned type of its parameter, and that the gradient
/// with respect to each listed name (in the order of the `#[grad(…)]`
/// attribute) matches central finite differences of `f` in that argument, the
/// others held fixed. The arguments are written as in a normal call, in terms
/// of local variables named like the parameters (`&a`, `b.clone()`, `s`); in
/// each finite-difference closure the listed name is shadowed by the perturbed
/// copy.
macro_rules! check {
    ($f:ident $args:tt => $g:ident [$($w:ident),+ $(,)?]) => {{
        let result = $g $args;
        $crate::common::same_value(stringify!($f), result.0, $f $args);
        check!(@each result, $f $args, [$($w)+], [1 2 3 4 5 6 7 8 9]);
    }};
    (@each $res:ident, $f:ident $args:tt, [], [$($i:tt)*]) => {};
    (@each $res:ident, $f:ident $args:tt, [$w:ident $($rest:ident)*], [$i:tt $($is:tt)*]) => {
        $crate::common::same_type(&$w, &$res.$i);
        $crate::common::fd(
            concat!(stringify!($f), ": gradient with respect to ", stringify!($w)),
            |$w: &_| {
                let $w = $crate::common::own($w);
                $f $args
            },
            &$w,
            &$res.$i,
        );
        check!(@each $res, $f $args, [$($rest)*], [$($is)*]);
    };
}

/// Central differences of a gradient: column `k` of the Hessian.
pub fn fd_hessian(grad: impl Fn(&DVector<f64>) -> DVector<f64>, x: &DVector<f64>) -> DMatrix<f64> {
    let n = x.len();
    let mut h = DMatrix::zeros(n, n);
    for k in 0..n {
        let step = 1e-5 * x[k].abs().max(1.0);
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[k] += step;
        minus[k] -= step;
        h.set_column(k, &((grad(&plus) - grad(&minus)) / (2.0 * step)));
    }
    h
}

/// `actual` and `expected` agree to `tol`, relative to the larger of 1 and
/// the largest entry of `expected`.
pub fn assert_close(actual: &DMatrix<f64>, expected: &DMatrix<f64>, tol: f64, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}");
    let err = (actual - expected).amax() / expected.amax().max(1.0);
    assert!(
        err <= tol,
        "{what}: error {err:e}\nactual {actual}\nexpected {expected}"
    );
}

/// Complex entries with parts in [-1, 1] (the imaginary part from the seed's neighbour).
pub fn dmc<T: Real>(r: usize, c: usize, seed: u32) -> DMatrix<Complex<T>> {
    DMatrix::from_fn(r, c, |i, j| {
        Complex::new(T::of(rnd(seed, i, j)), T::of(rnd(seed + 1000, i, j)))
    })
}
pub fn dvc<T: Real>(n: usize, seed: u32) -> DVector<Complex<T>> {
    DVector::from_fn(n, |i, j| {
        Complex::new(T::of(rnd(seed, i, j)), T::of(rnd(seed + 1000, i, j)))
    })
}
pub fn smc<T: Real, const R: usize, const C: usize>(seed: u32) -> SMatrix<Complex<T>, R, C> {
    SMatrix::from_fn(|i, j| Complex::new(T::of(rnd(seed, i, j)), T::of(rnd(seed + 1000, i, j))))
}
/// `n·I + R/2` with complex `R`: invertible, far from singular.
pub fn dmc_well<T: Real>(n: usize, seed: u32) -> DMatrix<Complex<T>> {
    dmc::<T>(n, n, seed).scale(T::of(0.5))
        + DMatrix::from_diagonal_element(n, n, Complex::new(T::of(n as f64), T::of(0.0)))
}
pub fn smc_well<T: Real, const N: usize>(seed: u32) -> SMatrix<Complex<T>, N, N> {
    smc::<T, N, N>(seed).scale(T::of(0.5))
        + SMatrix::from_diagonal_element(Complex::new(T::of(N as f64), T::of(0.0)))
}
/// A complex scalar with parts in [0.5, 1.5].
pub fn csc<T: Real>(seed: u32) -> Complex<T> {
    Complex::new(sc::<T>(seed), sc::<T>(seed + 1000))
}
