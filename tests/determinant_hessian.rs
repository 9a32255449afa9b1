//! `#[hessian]` of losses with `determinant()` of matrices larger than 3×3
//! (fixed `Matrix4`, `Matrix5`, `SMatrix<_, 6, 6>`, and `DMatrix` of every
//! size from 1 to 6), whose second derivative goes through an SVD: the value
//! and the gradient against finite differences of the function, the Hessian
//! against central differences of the gradient, its symmetry, and
//! `hvp(V) = H vec(V)`; at regular points and at singular ones (rank n − 1
//! and n − 2, an exactly zero LU pivot, Gram matrices `xᵀx` of a wide `x`),
//! `f64` and `f32`; and compound losses (`det²`, `det(A) tr(BA)`, a
//! determinant in a loop body, the user's own LU factorisation).

#[macro_use]
mod common;

use common::*;
use matgrad::hessian;
use matgrad::nalgebra::{DMatrix, DVector, Matrix4, Matrix5, SMatrix};
use matgrad::Point;

#[hessian(a)]
fn det_m4(a: &Matrix4<f64>) -> f64 {
    a.determinant()
}

#[hessian(a)]
fn det_m5(a: &Matrix5<f64>) -> f64 {
    a.determinant()
}

#[hessian(a)]
fn det_s6(a: &SMatrix<f64, 6, 6>) -> f64 {
    a.determinant()
}

#[hessian(a)]
fn det_d(a: &DMatrix<f64>) -> f64 {
    a.determinant()
}

#[hessian(a)]
fn det_m4_f32(a: &Matrix4<f32>) -> f32 {
    a.determinant()
}

#[hessian(a)]
fn det_s6_f32(a: &SMatrix<f32, 6, 6>) -> f32 {
    a.determinant()
}

#[hessian(a)]
fn det_d_f32(a: &DMatrix<f32>) -> f32 {
    a.determinant()
}

/// A Gram determinant: singular wherever `x` has fewer rows than columns.
#[hessian(x)]
fn gram(x: &DMatrix<f64>) -> f64 {
    (x.transpose() * x).determinant()
}

/// The same for a fixed size: a 5×5 Gram matrix of rank 3 (n − 2).
#[hessian(x)]
fn gram_s(x: &SMatrix<f64, 3, 5>) -> f64 {
    (x.transpose() * x).determinant()
}

#[hessian(x)]
fn gram_f32(x: &DMatrix<f32>) -> f32 {
    (x.transpose() * x).determinant()
}

#[hessian(a)]
fn det_squared(a: &DMatrix<f64>) -> f64 {
    let d = a.determinant();
    d * d
}

#[hessian(a, b)]
fn det_times_trace(a: &Matrix4<f64>, b: &Matrix4<f64>) -> f64 {
    a.determinant() * (b * a).trace()
}

#[hessian(a)]
fn det_in_loop(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for k in 0..3 {
        let m = a + b * (k as f64 * 0.5);
        s += m.determinant() * (1.0 + k as f64);
    }
    s
}

/// The user's own LU factorisation.
#[allow(clippy::clone_on_copy)] // written as for dynamic matrices
#[hessian(a)]
fn lu_det(a: &Matrix5<f64>) -> f64 {
    a.clone().lu().determinant() + a.norm_squared()
}

/// This file's tolerances, relative to the larger of 1 and the largest entry
/// compared against.
trait Tol: Real {
    /// A Hessian against central differences of the gradient: the gradient
    /// of a determinant is a polynomial, so the differences are good to
    /// their rounding, about ε^(2/3) (4e-11 in f64, 2e-5 in f32).
    const HESSIAN: Self;
    /// Two computations of the same quantity (the Hessian and its
    /// transpose, `hvp` and `H vec(V)`), a few ulps per product.
    const SAME: Self;
}

impl Tol for f64 {
    const HESSIAN: f64 = 1e-6;
    const SAME: f64 = 1e-12;
}

impl Tol for f32 {
    const HESSIAN: f32 = 2e-3;
    const SAME: f32 = 2e-5;
}

/// The entries of a point, column-major, as a `rows`-row matrix.
fn dense<P: Point>(p: &P, rows: usize) -> DMatrix<P::Scalar> {
    DMatrix::from_fn(rows, p.len() / rows, |i, j| p.entry(i + j * rows))
}

#[track_caller]
fn close<T: Tol>(actual: &DMatrix<T>, expected: &DMatrix<T>, tol: T, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}");
    let err = (actual - expected).amax() / expected.amax().max(T::one());
    assert!(
        err <= tol,
        "{what}: error {err:e}\nactual {actual}\nexpected {expected}"
    );
}

/// Checks `<name>_hessian` and `<name>_hvp` of a loss of one parameter at
/// `x`, and returns the gradient and the Hessian.
#[track_caller]
fn check_hessian<T, P, H>(
    what: &str,
    x: &P,
    plain: impl Fn(&P) -> T,
    hessian: impl Fn(&P) -> (T, P, H),
    hvp: impl Fn(&P, &P) -> (T, P, P),
) -> (DMatrix<T>, DMatrix<T>)
where
    T: Tol,
    P: Point<Scalar = T, Owned = P>,
    H: Point<Scalar = T>,
{
    let n = x.len();
    let (value, g, h) = hessian(x);
    let want = plain(x);
    // Relative above 1, absolute below: at a singular matrix the value is
    // rounding, which the factorisation and nalgebra's closed forms (for a
    // `DMatrix` up to 3×3) round differently.
    let err = (value - want).abs() / want.abs().max(T::one());
    assert!(
        err <= T::VALUE_TOL,
        "{what}: value {value:e}, plain {want:e}"
    );
    fd(what, &plain, x, &g);
    let h = dense(&h, n);
    assert!(h.iter().all(|v| v.is_finite()), "{what}: {h}");

    // Column k: central differences of the gradient along entry k.
    let cbrt_eps = T::default_epsilon().cbrt();
    let two = T::of(2.0);
    let mut differences = DMatrix::zeros(n, n);
    for k in 0..n {
        let step = cbrt_eps * x.entry(k).abs().max(T::one());
        let moved = |by: T| {
            let mut p = x.to_owned_point();
            P::set_entry(&mut p, k, x.entry(k) + by);
            dense(&hessian(&p).1, n)
        };
        let column = (moved(step) - moved(-step)) / (two * step);
        differences.set_column(k, &column.column(0));
    }
    close(&h, &differences, T::HESSIAN, &format!("{what}: Hessian"));
    let same = T::SAME;
    close(&h, &h.transpose(), same, &format!("{what}: symmetry"));

    let mut v = x.to_owned_point();
    for k in 0..n {
        P::set_entry(&mut v, k, T::of(entry(99, k, 0)));
    }
    let (value_v, g_v, hv) = hvp(x, &v);
    assert_eq!(value_v, value, "{what}: hvp's value");
    close(
        &dense(&g_v, n),
        &dense(&g, n),
        same,
        &format!("{what}: hvp's gradient"),
    );
    let hv_expected = &h * dense(&v, n);
    close(&dense(&hv, n), &hv_expected, same, &format!("{what}: hvp"));
    (dense(&g, n), h)
}

/// A pseudo-random number in [−1, 1] for entry (i, j) of matrix `seed`, from
/// a hash that mixes the three (SplitMix64's finaliser). Not `common::rnd`:
/// its entries are the sine of a sum of a row term and a column term, so
/// its square matrices have rank 2, and a determinant's derivatives need
/// matrices of every rank.
fn entry(seed: u32, i: usize, j: usize) -> f64 {
    let mut h = u64::from(seed);
    for k in [i as u64, j as u64] {
        h = (h ^ k).wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// An r×c matrix of entries in [−1, 1], computed in `f64`.
fn random<T: Real>(r: usize, c: usize, seed: u32) -> DMatrix<T> {
    DMatrix::from_fn(r, c, |i, j| T::of(entry(seed, i, j)))
}

/// An n×n matrix of rank `rank`: the product of n×rank and rank×n factors,
/// computed in `f64`.
fn of_rank<T: Real>(n: usize, rank: usize, seed: u32) -> DMatrix<T> {
    let product = random::<f64>(n, rank, seed) * random::<f64>(rank, n, seed + 1);
    product.map(T::of)
}

/// A random matrix with one row twice another: singular with an exactly
/// zero pivot in its LU factorisation.
fn twice_a_row<T: Real>(n: usize, seed: u32) -> DMatrix<T> {
    let mut a = random::<T>(n, n, seed);
    if n > 1 {
        let row = a.row(0) * T::of(2.0);
        a.set_row(n - 1, &row);
    }
    a
}

/// The points a determinant is checked at: a well-conditioned matrix
/// (`I` plus entries in [−1/2n, 1/2n]: diagonally dominant, with a
/// determinant near 1 that finite differences in `f32` resolve), a random
/// one, rank n − 1 and n − 2, and an exactly zero pivot.
fn points<T: Real>(n: usize, seed: u32) -> Vec<(String, DMatrix<T>)> {
    let well = DMatrix::from_fn(n, n, |i, j| {
        T::of(0.5 * entry(seed, i, j) / n as f64 + if i == j { 1.0 } else { 0.0 })
    });
    let mut out = vec![
        ("well conditioned".to_owned(), well),
        ("random".to_owned(), random(n, n, seed + 1)),
        ("twice a row".to_owned(), twice_a_row(n, seed + 2)),
    ];
    for rank in n.saturating_sub(2)..n {
        out.push((format!("rank {rank}"), of_rank(n, rank, seed + 3)));
    }
    out
}

fn fixed<T: Real, const N: usize>(m: &DMatrix<T>) -> SMatrix<T, N, N> {
    SMatrix::from_iterator(m.iter().copied())
}

/// What the gradient and the Hessian of `det` are at a singular point:
/// the cofactor matrix is non-zero at rank n − 1 and zero at rank n − 2,
/// where the Hessian is not.
#[track_caller]
fn singular_shape<T: Tol>(what: &str, rank_deficit: usize, g: &DMatrix<T>, h: &DMatrix<T>) {
    let scale = T::of(1e-3);
    match rank_deficit {
        1 => assert!(g.amax() > scale, "{what}: zero gradient at rank n − 1"),
        2 => {
            assert!(
                g.amax() < T::SAME.sqrt(),
                "{what}: gradient {g} at rank n − 2"
            );
            assert!(h.amax() > scale, "{what}: zero Hessian at rank n − 2");
        }
        _ => {}
    }
}

#[test]
fn fixed_sizes_f64() {
    for (name, a) in points::<f64>(4, 10) {
        let what = format!("Matrix4, {name}");
        let a = fixed::<f64, 4>(&a);
        check_hessian(&what, &a, det_m4, det_m4_hessian, det_m4_hvp);
    }
    for (name, a) in points::<f64>(5, 20) {
        let what = format!("Matrix5, {name}");
        let a = fixed::<f64, 5>(&a);
        check_hessian(&what, &a, det_m5, det_m5_hessian, det_m5_hvp);
    }
    for (name, a) in points::<f64>(6, 30) {
        let what = format!("SMatrix 6×6, {name}");
        let a = fixed::<f64, 6>(&a);
        check_hessian(&what, &a, det_s6, det_s6_hessian, det_s6_hvp);
    }
}

#[test]
fn every_dynamic_size_f64() {
    for n in 1..=6 {
        for (name, a) in points::<f64>(n, 40 + 10 * n as u32) {
            let what = format!("DMatrix {n}×{n}, {name}");
            check_hessian(&what, &a, det_d, det_d_hessian, det_d_hvp);
        }
    }
}

#[test]
fn singular_points_have_the_right_derivatives() {
    for n in 4..=6 {
        for deficit in 1..=2 {
            let a = of_rank::<f64>(n, n - deficit, 60 + n as u32);
            let what = format!("DMatrix {n}×{n} of rank {}", n - deficit);
            let (g, h) = check_hessian(&what, &a, det_d, det_d_hessian, det_d_hvp);
            singular_shape(&what, deficit, &g, &h);
        }
    }
    let a = fixed::<f64, 5>(&of_rank(5, 3, 70));
    let (g, h) = check_hessian("Matrix5 of rank 3", &a, det_m5, det_m5_hessian, det_m5_hvp);
    singular_shape("Matrix5 of rank 3", 2, &g, &h);
}

#[test]
fn f32_fixed_and_dynamic() {
    for (name, a) in points::<f32>(4, 80) {
        let what = format!("Matrix4<f32>, {name}");
        let a = fixed::<f32, 4>(&a);
        check_hessian(&what, &a, det_m4_f32, det_m4_f32_hessian, det_m4_f32_hvp);
    }
    for (name, a) in points::<f32>(6, 90) {
        let what = format!("SMatrix<f32, 6, 6>, {name}");
        let a = fixed::<f32, 6>(&a);
        check_hessian(&what, &a, det_s6_f32, det_s6_f32_hessian, det_s6_f32_hvp);
    }
    for n in 1..=6 {
        for (name, a) in points::<f32>(n, 100 + 10 * n as u32) {
            let what = format!("DMatrix<f32> {n}×{n}, {name}");
            check_hessian(&what, &a, det_d_f32, det_d_f32_hessian, det_d_f32_hvp);
        }
    }
}

#[test]
fn the_closed_form_where_invertible() {
    // H vec(E) = det(A) (tr(A⁻¹E) A⁻ᵀ − A⁻ᵀ Eᵀ A⁻ᵀ) (MATH.md).
    let a = fixed::<f64, 5>(&random(5, 5, 3));
    let e = fixed::<f64, 5>(&random(5, 5, 4));
    let inv = a.try_inverse().expect("invertible");
    let inv_t = inv.transpose();
    let expected = ((inv_t * (inv * e).trace()) - inv_t * e.transpose() * inv_t) * a.determinant();
    let (_, _, hv) = det_m5_hvp(&a, &e);
    assert!(
        (hv - expected).amax() < 1e-12 * expected.amax(),
        "{hv} vs {expected}"
    );
}

#[test]
fn gram_determinants() {
    // x is n×m, xᵀx m×m: regular for x of rank m.
    for (n, m) in [(6, 4), (4, 4), (7, 5), (5, 5), (6, 6)] {
        let what = format!("(xᵀx).determinant(), x {n}×{m}");
        let x = random::<f64>(n, m, 7 + n as u32);
        check_hessian(&what, &x, gram, gram_hessian, gram_hvp);
        let x = random::<f32>(n, m, 7 + n as u32);
        let what = format!("{what}, f32");
        check_hessian(&what, &x, gram_f32, gram_f32_hessian, gram_f32_hvp);
    }
    // x of rank m − 1: xᵀx has rank m − 1 and det(xᵀx) a double zero (for a
    // square x it is det(x)²): no gradient, but a Hessian.
    for (n, m) in [(5, 4), (4, 4), (6, 5), (6, 6)] {
        let what = format!("(xᵀx).determinant(), x {n}×{m} of rank {}", m - 1);
        let x = random::<f64>(n, m - 1, 8) * random::<f64>(m - 1, m, 9);
        let (g, h) = check_hessian(&what, &x, gram, gram_hessian, gram_hvp);
        assert!(g.amax() < 1e-12, "{what}: gradient {g}");
        assert!(h.amax() > 1e-3, "{what}: zero Hessian");
    }
    // Fewer rows than columns: xᵀx has rank n < m whatever x is, so the
    // loss is 0 everywhere, and its derivatives must be too (the cofactors
    // of xᵀx are not zero at rank m − 1, nor their derivative at m − 2).
    for (n, m) in [(3, 4), (2, 4), (4, 5), (3, 5), (5, 6), (4, 6)] {
        let what = format!("(xᵀx).determinant(), x {n}×{m}");
        let x = random::<f64>(n, m, 7 + n as u32);
        let (g, h) = check_hessian(&what, &x, gram, gram_hessian, gram_hvp);
        assert!(g.amax() < 1e-14 && h.amax() < 1e-14, "{what}: {g} {h}");
        let x = random::<f32>(n, m, 7 + n as u32);
        let what = format!("{what}, f32");
        check_hessian(&what, &x, gram_f32, gram_f32_hessian, gram_f32_hvp);
    }
    let x = SMatrix::<f64, 3, 5>::from_fn(|i, j| entry(5, i, j));
    let (g, h) = check_hessian("Gram 5×5 of rank 3", &x, gram_s, gram_s_hessian, gram_s_hvp);
    assert!(
        g.amax() < 1e-14 && h.amax() < 1e-14,
        "Gram 5×5 of rank 3: {g} {h}"
    );
}

#[test]
fn compound_losses() {
    for (name, a) in points::<f64>(5, 120) {
        let what = format!("det², {name}");
        check_hessian(&what, &a, det_squared, det_squared_hessian, det_squared_hvp);
    }
    let b = random::<f64>(5, 5, 130);
    for (name, a) in points::<f64>(5, 140) {
        let what = format!("a determinant in a loop, {name}");
        check_hessian(
            &what,
            &a,
            |a| det_in_loop(a, &b),
            |a| det_in_loop_hessian(a, &b),
            |a, v| det_in_loop_hvp(a, &b, v),
        );
    }
    for (name, a) in points::<f64>(5, 150) {
        let what = format!("lu().determinant(), {name}");
        let a = fixed::<f64, 5>(&a);
        check_hessian(&what, &a, lu_det, lu_det_hessian, lu_det_hvp);
    }
}

#[test]
fn two_parameters() {
    // det(A) tr(BA): the Hessian over [vec A; vec B], by differences of
    // the stacked gradient, at a regular and a singular A.
    let b = fixed::<f64, 4>(&random(4, 4, 160));
    for (name, a) in points::<f64>(4, 170) {
        let a = fixed::<f64, 4>(&a);
        let what = format!("det(A) tr(BA), {name}");
        let (value, ga, gb, h) = det_times_trace_hessian(&a, &b);
        same_value(&what, value, det_times_trace(&a, &b));
        fd(&what, |a| det_times_trace(a, &b), &a, &ga);
        fd(&what, |b| det_times_trace(&a, b), &b, &gb);
        let stacked = |p: &DVector<f64>| {
            let a = Matrix4::from_column_slice(&p.as_slice()[..16]);
            let b = Matrix4::from_column_slice(&p.as_slice()[16..]);
            let (_, ga, gb, _) = det_times_trace_hessian(&a, &b);
            DVector::from_iterator(32, ga.iter().chain(gb.iter()).copied())
        };
        let p = DVector::from_iterator(32, a.iter().chain(b.iter()).copied());
        let h = DMatrix::from_iterator(32, 32, h.iter().copied());
        close(&h, &fd_hessian(stacked, &p), 1e-6, &what);
        close(&h, &h.transpose(), 1e-12, &format!("{what}: symmetry"));
    }
}
