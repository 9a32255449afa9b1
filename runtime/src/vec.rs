//! The operators of matrix calculus in vectorised form: `vec`, its inverse, the
//! Kronecker product and the commutation matrix, with
//! `vec(A X B) = (Bᵀ ⊗ A) vec(X)` and `vec(Xᵀ) = K vec(X)`.

use nalgebra::{DMatrix, DVector, Dim, Matrix, RealField, Storage};

/// `vec(X)`: the columns of `X` stacked into one column (column-major, nalgebra's
/// storage order).
///
/// ```
/// use matgrad::nalgebra::Matrix2;
/// let x = Matrix2::new(1.0, 2.0, 3.0, 4.0);
/// assert_eq!(matgrad::vec(&x).as_slice(), &[1.0, 3.0, 2.0, 4.0]);
/// ```
pub fn vec<T, R, C, S>(x: &Matrix<T, R, C, S>) -> DVector<T>
where
    T: RealField + Copy,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
{
    DVector::from_iterator(x.len(), x.iter().copied())
}

/// `unvec(v, m, n)`: the `m×n` matrix whose `vec` is `v` (the inverse of [`vec()`]).
///
/// # Panics
///
/// If `v` does not have `m·n` entries.
///
/// ```
/// use matgrad::nalgebra::DVector;
/// let v = DVector::from_vec(vec![1.0, 3.0, 2.0, 4.0]);
/// let x = matgrad::unvec(&v, 2, 2);
/// assert_eq!(x[(0, 1)], 2.0);
/// assert_eq!(matgrad::vec(&x), v);
/// ```
pub fn unvec<T, S>(v: &Matrix<T, nalgebra::Dyn, nalgebra::U1, S>, m: usize, n: usize) -> DMatrix<T>
where
    T: RealField + Copy,
    S: Storage<T, nalgebra::Dyn, nalgebra::U1>,
{
    assert_eq!(
        v.len(),
        m * n,
        "unvec: {} entries do not make a {m}×{n} matrix",
        v.len()
    );
    DMatrix::from_iterator(m, n, v.iter().copied())
}

/// The Kronecker product `A ⊗ B`: the block matrix `[A_ij B]`.
///
/// ```
/// use matgrad::nalgebra::{DMatrix, Matrix2};
/// let (a, x, b) = (Matrix2::new(1.0, 2.0, 3.0, 4.0), Matrix2::new(0.5, -1.0, 2.0, 0.0), Matrix2::new(0.0, 1.0, 1.0, 1.0));
/// // vec(A X B) = (Bᵀ ⊗ A) vec(X)
/// let lhs = matgrad::vec(&(a * x * b));
/// let rhs = matgrad::kron(&b.transpose(), &a) * matgrad::vec(&x);
/// assert!((lhs - rhs).norm() < 1e-12);
/// ```
pub fn kron<T, R1, C1, S1, R2, C2, S2>(
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
) -> DMatrix<T>
where
    T: RealField + Copy,
    R1: Dim,
    C1: Dim,
    S1: Storage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: Storage<T, R2, C2>,
{
    let (p, q) = b.shape();
    DMatrix::from_fn(a.nrows() * p, a.ncols() * q, |i, j| {
        a[(i / p, j / q)] * b[(i % p, j % q)]
    })
}

/// The commutation matrix `K_mn`, the `mn×mn` permutation with
/// `K_mn vec(X) = vec(Xᵀ)` for every `m×n` matrix `X`.
///
/// ```
/// use matgrad::nalgebra::Matrix2x3;
/// let x = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
/// let k = matgrad::commutation_matrix::<f64>(2, 3);
/// assert_eq!(k * matgrad::vec(&x), matgrad::vec(&x.transpose()));
/// ```
pub fn commutation_matrix<T: RealField + Copy>(m: usize, n: usize) -> DMatrix<T> {
    // vec(X)[i + j m] = X_ij = vec(Xᵀ)[j + i n].
    let mut k = DMatrix::zeros(m * n, m * n);
    for i in 0..m {
        for j in 0..n {
            k[(j + i * n, i + j * m)] = T::one();
        }
    }
    k
}
