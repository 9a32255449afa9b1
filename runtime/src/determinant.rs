//! The cofactor matrix `adj(A)ᵀ` (the gradient of `det A`) and its derivative
//! (the second derivative of `det`) from a singular value decomposition, by
//! products of singular values only: exact at singular matrices, where the
//! forms through `A⁻¹` divide by zero or lose their digits near it.
//!
//! Nothing here allocates for fixed-size matrices.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, Matrix2, OMatrix, OVector, RealField, Storage, U1};

/// The second derivative of `det` at `a` applied to `e`: the derivative of
/// the cofactor matrix `∇ det A = adj(A)ᵀ` in the direction `E`, which is
/// `H vec(E)` for the Hessian `H` of `det` (as a matrix of the shape of `A`).
///
/// It is computed from an SVD of `A` with products of singular values only,
/// so it is exact at singular matrices too (of any rank), where the form
/// `det(A)(tr(A⁻¹E) A⁻ᵀ − A⁻ᵀEᵀA⁻ᵀ)` is undefined. No heap allocation for
/// fixed-size matrices.
///
/// ```
/// use matgrad::nalgebra::Matrix4;
/// // A singular matrix (its last row is the sum of the first two).
/// let a = Matrix4::new(
///     2.0, 1.0, 0.0, 1.0,
///     0.5, -1.0, 3.0, 0.0,
///     1.0, 1.0, 1.0, -2.0,
///     2.5, 0.0, 3.0, 1.0,
/// );
/// let e = Matrix4::from_fn(|i, j| ((i + 2 * j) as f64).sin());
/// // The cofactor matrix det(B) B⁻ᵀ of B = A + tE is a polynomial of degree 3
/// // in t, so five-point differences are exact for it, even with h = 1/2
/// // (where B is far from singular).
/// let c = |t: f64| {
///     let b = a + e * t;
///     b.try_inverse().unwrap().transpose() * b.determinant()
/// };
/// let h = 0.5;
/// let derivative = ((c(h) - c(-h)) * 8.0 - (c(2.0 * h) - c(-2.0 * h))) / (12.0 * h);
/// assert!((matgrad::det_hvp(&a, &e) - derivative).amax() < 1e-12);
/// ```
pub fn det_hvp<T, D, S1, S2>(a: &Matrix<T, D, D, S1>, e: &Matrix<T, D, D, S2>) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    CofactorSvd::new(a).tangent(e)
}

/// An SVD `A = U S Vᵀ` made ready for the cofactor matrix and its
/// derivatives (one per matrix, shared by every direction of a Hessian).
///
/// `U` and `V` are rotations (determinant 1) and `S` is diagonal with
/// entries `s_k` of either sign ([`jacobi_svd`]). Then `adj(A) = adj(Vᵀ)
/// adj(S) adj(U) = V adj(S) Uᵀ`, so `adj(A)ᵀ = U adj(S) Vᵀ`, where `adj(S)`
/// is diagonal with `p_i = Π_{k≠i} s_k`. Moving `A` by `E` moves `S` by
/// `F = Uᵀ E V`, and for a diagonal `S` the derivative of `adj(S)` along `F`
/// is, from the cofactors' expansion (each cofactor of `S + tF` keeps all the
/// diagonal entries but one or two, and only an entry of `F` filling the gap
/// contributes at first order),
///
/// `D_ii = Σ_{k≠i} q_ik F_kk`, `D_ij = −q_ij F_ij` (`i ≠ j`), `q_ij = Π_{k∉{i,j}} s_k`,
///
/// which is `det(S)(tr(S⁻¹F) S⁻¹ − S⁻¹ F S⁻¹)` where `S` is invertible (a
/// polynomial identity, so it holds everywhere). For 2×2,
/// `adj([[a, b], [c, d]]) = [[d, −b], [−c, a]]` gives `D = [[F₁₁, −F₀₁],
/// [−F₁₀, F₀₀]]`, as the formula does (`q₀₁ = 1`). So
/// `d adj(A)ᵀ[E] = U Dᵀ Vᵀ` with `Dᵀ = Diag(Q f) − Q ∘ Fᵀ`, `f = diag(F)`
/// and `Q` the matrix of the `q_ij` with a zero diagonal: products of
/// singular values, no division, so rank `n − 1` and `n − 2` are as exact
/// as any other point.
#[doc(hidden)]
pub struct CofactorSvd<T: RealField, D: Dim>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    u: OMatrix<T, D, D>,
    v: OMatrix<T, D, D>,
    /// `p_i = Π_{k≠i} s_k`, the diagonal of `adj(S)`.
    p: OVector<T, D>,
    /// `q_ij = Π_{k∉{i,j}} s_k` off the diagonal, 0 on it.
    q: OMatrix<T, D, D>,
}

impl<T, D> CofactorSvd<T, D>
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    pub fn new<S: Storage<T, D, D>>(a: &Matrix<T, D, D, S>) -> Self {
        let (u, s, v) = jacobi_svd(a.clone_owned());
        let (d, _) = a.shape_generic();
        let n = a.nrows();
        let product_without = |i: usize, j: usize| {
            (0..n)
                .filter(|&k| k != i && k != j)
                .fold(T::one(), |acc, k| acc * s[k])
        };
        let p = OVector::from_fn_generic(d, U1, |i, _| product_without(i, i));
        let q = OMatrix::from_fn_generic(d, d, |i, j| {
            if i == j {
                T::zero()
            } else {
                product_without(i, j)
            }
        });
        CofactorSvd { u, v, p, q }
    }

    /// `adj(A)ᵀ = U adj(S) Vᵀ`, the gradient of `det A`.
    pub fn cofactors(&self) -> OMatrix<T, D, D> {
        let mut up = self.u.clone();
        for (mut column, &p) in up.column_iter_mut().zip(self.p.iter()) {
            column *= p;
        }
        up * self.v.transpose()
    }

    /// `d adj(A)ᵀ[E] = U (Diag(Q f) − Q ∘ Fᵀ) Vᵀ` with `F = Uᵀ E V`,
    /// `f = diag(F)` (see the type's documentation).
    pub fn tangent<S: Storage<T, D, D>>(&self, e: &Matrix<T, D, D, S>) -> OMatrix<T, D, D> {
        let f = self.u.tr_mul(&(e * &self.v));
        let (d, _) = f.shape_generic();
        let qf = &self.q * diagonal(&f);
        let dt = OMatrix::from_fn_generic(d, d, |i, j| {
            if i == j {
                qf[i]
            } else {
                -self.q[(i, j)] * f[(j, i)]
            }
        });
        &self.u * dt * self.v.transpose()
    }
}

/// `(U, s, V)` with `A = U Diag(s) Vᵀ`.
type Svd<T, D> = (OMatrix<T, D, D>, OVector<T, D>, OMatrix<T, D, D>);

/// The most sweeps [`jacobi_svd`] makes. It converges quadratically: 7
/// sweeps at most for random 6×6 matrices of full or deficient rank, 11 at
/// 50×50, in `f64` and `f32`.
const MAX_SWEEPS: usize = 60;

/// `A = U Diag(s) Vᵀ` by two-sided (Kogbetliantz) Jacobi rotations: each
/// step makes one 2×2 principal block of `W = Uᵀ A V` diagonal, until every
/// off-diagonal entry is below `2ε` times the largest diagonal one (Eigen's
/// `JacobiSVD` criterion). `U` and `V` are products of rotations, so their
/// determinants are 1, and the `s_k` keep whatever sign they come with.
///
/// Not nalgebra's SVD: its Golub–Kahan iteration can return factors that do
/// not reproduce `A` (a residual of 6·10⁻³ for a 5×5 matrix of rank 4 here;
/// nalgebra issue #1172, small singular values), exactly the matrices the
/// cofactors are needed at. Jacobi's method is backward stable, and needs
/// no workspace beyond `W`, `U` and `V`.
fn jacobi_svd<T, D>(a: OMatrix<T, D, D>) -> Svd<T, D>
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    let (d, _) = a.shape_generic();
    let n = a.nrows();
    let (mut u, mut v) = (
        OMatrix::identity_generic(d, d),
        OMatrix::identity_generic(d, d),
    );
    // Scaled to entries of at most 1 (as Eigen does), so that the absolute
    // floor `tiny` of the threshold below is negligible against the entries.
    let scale = a.amax();
    if scale.is_zero() || !scale.is_finite() {
        return (u, diagonal(&a), v);
    }
    let mut w = a / scale;
    let precision = T::default_epsilon() * nalgebra::convert(2.0);
    let tiny: T = nalgebra::convert(f64::from(f32::MIN_POSITIVE));
    let mut largest = diagonal(&w).amax();
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for j in 1..n {
            for i in 0..j {
                let threshold = tiny.max(precision * largest);
                if w[(i, j)].abs() <= threshold && w[(j, i)].abs() <= threshold {
                    continue;
                }
                rotated = true;
                let block = Matrix2::new(w[(i, i)], w[(i, j)], w[(j, i)], w[(j, j)]);
                let (left, right) = diagonalise_2x2(&block);
                rotate_rows(&mut w, i, j, &left);
                rotate_columns(&mut w, i, j, &right);
                // A = U W Vᵀ stays true: U ← U Lᵀ, V ← V R.
                rotate_columns(&mut u, i, j, &left.transpose());
                rotate_columns(&mut v, i, j, &right);
                largest = largest.max(w[(i, i)].abs()).max(w[(j, j)].abs());
            }
        }
        if !rotated {
            break;
        }
    }
    (u, diagonal(&w) * scale, v)
}

/// The diagonal of a square matrix.
fn diagonal<T, D>(m: &OMatrix<T, D, D>) -> OVector<T, D>
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    let (d, _) = m.shape_generic();
    OVector::from_fn_generic(d, U1, |i, _| m[(i, i)])
}

/// Rotations `L`, `R` with `L M R` diagonal. A rotation `G` on the left
/// makes `N = G M` symmetric: with `G = [[c, s], [−s, c]]`, `N₀₁ = N₁₀`
/// means `s (m₀₀ + m₁₁) = c (m₁₀ − m₀₁)`. Then the symmetric Jacobi
/// rotation `J` makes `Jᵀ N J` diagonal: its off-diagonal entry
/// `cs (x − z) + (c² − s²) y` vanishes for `t = s/c` the smaller root of
/// `t² + 2τt − 1 = 0`, `τ = (z − x)/2y`. So `L = Jᵀ G`, `R = J`.
fn diagonalise_2x2<T: RealField + Copy>(m: &Matrix2<T>) -> (Matrix2<T>, Matrix2<T>) {
    let rotation = |c: T, s: T| Matrix2::new(c, s, -s, c);
    let (t, d) = (m[(0, 0)] + m[(1, 1)], m[(1, 0)] - m[(0, 1)]);
    let r = t.hypot(d);
    let g = if r.is_zero() {
        Matrix2::identity()
    } else {
        rotation(t / r, d / r)
    };
    let n = g * m;
    let (x, y, z) = (n[(0, 0)], n[(0, 1)], n[(1, 1)]);
    let j = if y.is_zero() {
        Matrix2::identity()
    } else {
        let tau = (z - x) / (y + y);
        let t =
            if tau < T::zero() { -T::one() } else { T::one() } / (tau.abs() + tau.hypot(T::one()));
        let c = T::one() / t.hypot(T::one());
        rotation(c, t * c)
    };
    (j.transpose() * g, j)
}

/// Rows `i` and `j` of `w` replaced by `l` times them.
fn rotate_rows<T, D>(w: &mut OMatrix<T, D, D>, i: usize, j: usize, l: &Matrix2<T>)
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    for k in 0..w.ncols() {
        let (a, b) = (w[(i, k)], w[(j, k)]);
        w[(i, k)] = l[(0, 0)] * a + l[(0, 1)] * b;
        w[(j, k)] = l[(1, 0)] * a + l[(1, 1)] * b;
    }
}

/// Columns `i` and `j` of `w` replaced by them times `r`.
fn rotate_columns<T, D>(w: &mut OMatrix<T, D, D>, i: usize, j: usize, r: &Matrix2<T>)
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    for k in 0..w.nrows() {
        let (a, b) = (w[(k, i)], w[(k, j)]);
        w[(k, i)] = a * r[(0, 0)] + b * r[(1, 0)];
        w[(k, j)] = a * r[(0, 1)] + b * r[(1, 1)];
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, Matrix2, Matrix4, SMatrix};

    use super::*;

    /// The cofactor matrix by its definition: signed minors.
    fn cofactors_by_minors(a: &DMatrix<f64>) -> DMatrix<f64> {
        let n = a.nrows();
        DMatrix::from_fn(n, n, |i, j| {
            let minor = a.clone().remove_row(i).remove_column(j);
            let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
            sign * minor.determinant()
        })
    }

    /// Its derivative by the definition: the derivative of each minor's
    /// determinant is the sum over its rows of the determinant with that row
    /// replaced by the direction's.
    fn cofactors_tangent_by_minors(a: &DMatrix<f64>, e: &DMatrix<f64>) -> DMatrix<f64> {
        let n = a.nrows();
        DMatrix::from_fn(n, n, |i, j| {
            let minor = a.clone().remove_row(i).remove_column(j);
            let dminor = e.clone().remove_row(i).remove_column(j);
            let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
            let d: f64 = (0..n - 1)
                .map(|k| {
                    let mut m = minor.clone();
                    m.set_row(k, &dminor.row(k));
                    m.determinant()
                })
                .sum();
            sign * d
        })
    }

    /// A pseudo-random number in [−1, 1] (a hash of the three).
    fn entry(seed: usize, i: usize, j: usize) -> f64 {
        let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
        for k in [seed, i, j] {
            h = (h ^ k as u64).wrapping_mul(6_364_136_223_846_793_005);
            h ^= h >> 29;
        }
        (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// A matrix of size n and rank `rank`: a product of n×rank and rank×n factors.
    fn of_rank(n: usize, rank: usize, seed: usize) -> DMatrix<f64> {
        let b = DMatrix::from_fn(n, rank, |i, j| entry(seed, i, j));
        let c = DMatrix::from_fn(rank, n, |i, j| entry(seed + 1, i, j));
        b * c
    }

    fn assert_near(got: &DMatrix<f64>, want: &DMatrix<f64>, what: &str) {
        let err = (got - want).amax() / want.amax().max(1.0);
        assert!(err < 1e-12, "{what}: error {err:e}\n{got}\n{want}");
    }

    #[test]
    fn the_two_by_two_closed_form() {
        // adj([[a, b], [c, d]]) = [[d, −b], [−c, a]]: cofactors [[d, −c], [−b, a]],
        // and their derivative is the same linear map of E.
        let a = Matrix2::new(1.5, -2.0, 0.5, 3.0);
        let e = Matrix2::new(0.3, 0.7, -1.1, 0.2);
        let svd = CofactorSvd::new(&a);
        let closed = |m: Matrix2<f64>| Matrix2::new(m[(1, 1)], -m[(1, 0)], -m[(0, 1)], m[(0, 0)]);
        assert!((svd.cofactors() - closed(a)).amax() < 1e-14);
        assert!((svd.tangent(&e) - closed(e)).amax() < 1e-14);
    }

    #[test]
    fn definition_at_every_rank() {
        for n in 1..=6usize {
            for rank in (n.saturating_sub(3)..=n).rev() {
                for seed in 0..3 {
                    let a = of_rank(n, rank, 10 * seed + n);
                    let e = DMatrix::from_fn(n, n, |i, j| entry(seed + 5, j, i));
                    let svd = CofactorSvd::new(&a);
                    let what = format!("n = {n}, rank {rank}, seed {seed}");
                    assert_near(&svd.cofactors(), &cofactors_by_minors(&a), &what);
                    let want = cofactors_tangent_by_minors(&a, &e);
                    assert_near(&svd.tangent(&e), &want, &what);
                    assert_near(&det_hvp(&a, &e), &want, &what);
                }
            }
        }
    }

    #[test]
    fn rank_n_minus_one_and_n_minus_two_are_not_zero() {
        // At rank n − 1 the cofactor matrix has rank 1; at rank n − 2 it is
        // zero but its derivative is not.
        let a = of_rank(5, 4, 3);
        assert!(CofactorSvd::new(&a).cofactors().amax() > 1e-3);
        let a = of_rank(5, 3, 3);
        let e = DMatrix::from_fn(5, 5, |i, j| entry(9, i, j));
        let svd = CofactorSvd::new(&a);
        assert!(svd.cofactors().amax() < 1e-14);
        assert!(svd.tangent(&e).amax() > 1e-3);
    }

    #[test]
    fn fixed_sizes_and_f32() {
        let a = Matrix4::from_fn(|i, j| entry(4, i, j));
        let e = Matrix4::from_fn(|i, j| entry(8, i, j));
        let dynamic = |m: &Matrix4<f64>| DMatrix::from_iterator(4, 4, m.iter().copied());
        let svd = CofactorSvd::new(&a);
        assert_near(
            &dynamic(&svd.tangent(&e)),
            &cofactors_tangent_by_minors(&dynamic(&a), &dynamic(&e)),
            "Matrix4",
        );
        let a32: SMatrix<f32, 6, 6> = SMatrix::from_fn(|i, j| entry(2, i, j) as f32);
        let e32: SMatrix<f32, 6, 6> = SMatrix::from_fn(|i, j| entry(3, i, j) as f32);
        let to64 =
            |m: &SMatrix<f32, 6, 6>| DMatrix::from_iterator(6, 6, m.iter().map(|&v| f64::from(v)));
        let want = cofactors_tangent_by_minors(&to64(&a32), &to64(&e32));
        let got = to64(&det_hvp(&a32, &e32));
        assert!((got - &want).amax() / want.amax() < 1e-5);
    }

    #[test]
    fn jacobi_svd_reproduces_the_matrix() {
        let mut cases: Vec<DMatrix<f64>> = Vec::new();
        for n in 1..=9 {
            for rank in 0..=n {
                cases.extend((0..4).map(|seed| of_rank(n, rank, 100 * seed + 10 * n + rank)));
            }
            // A permutation (det −1 for a swap), and repeated singular values.
            let mut swap = DMatrix::identity(n, n);
            swap.swap_rows(0, n - 1);
            cases.push(swap);
            cases.push(DMatrix::identity(n, n) * 3.0);
        }
        // Entries of very different sizes.
        cases.push(DMatrix::from_fn(5, 5, |i, j| {
            entry(1, i, j) * 10f64.powi(i as i32 * 40 - 80)
        }));
        for a in &cases {
            let n = a.nrows();
            let (u, s, v) = jacobi_svd(a.clone());
            let what = format!("{a}");
            let identity = DMatrix::identity(n, n);
            assert!((u.tr_mul(&u) - &identity).amax() < 1e-14, "UᵀU {what}");
            assert!((v.tr_mul(&v) - &identity).amax() < 1e-14, "VᵀV {what}");
            assert!((u.determinant() - 1.0).abs() < 1e-13, "det U {what}");
            assert!((v.determinant() - 1.0).abs() < 1e-13, "det V {what}");
            let rebuilt = &u * DMatrix::from_diagonal(&s) * v.transpose();
            assert!((rebuilt - a).amax() <= 1e-14 * a.amax(), "U S Vᵀ {what}");
        }
    }

    #[test]
    fn lu_gradient_at_singular_matrices() {
        // Rank n − 1 with an exactly zero pivot (a row twice another, kept
        // exactly by elimination), and from a product (a tiny pivot).
        for n in 4..=6 {
            let mut twice = DMatrix::from_fn(n, n, |i, j| entry(n, i, j));
            let row = twice.row(1) * 2.0;
            twice.set_row(n - 1, &row);
            assert_eq!(twice.clone().lu().u()[(n - 1, n - 1)], 0.0);
            for a in [twice, of_rank(n, n - 1, 7)] {
                let got = crate::linalg::Lu::new(&a).det_gradient();
                let want = cofactors_by_minors(&a);
                assert!(want.amax() > 1e-3);
                assert_near(&got, &want, &format!("{a}"));
            }
        }
        // The same for a fixed size (and no NaN from the zero pivot).
        let mut a = Matrix4::from_fn(|i, j| entry(3, i, j));
        let row = a.row(0) * -2.0;
        a.set_row(2, &row);
        let got = crate::linalg::Lu::new(&a).det_gradient();
        let dynamic = DMatrix::from_iterator(4, 4, a.iter().copied());
        let got = DMatrix::from_iterator(4, 4, got.iter().copied());
        assert_near(&got, &cofactors_by_minors(&dynamic), "Matrix4");
    }

    #[test]
    fn empty_matrix() {
        let a = DMatrix::<f64>::zeros(0, 0);
        assert_eq!(det_hvp(&a, &a).shape(), (0, 0));
        assert_eq!(CofactorSvd::new(&a).cofactors().shape(), (0, 0));
    }
}
