//! Products of lower-triangular matrices (inverses of triangular factors) that skip their
//! zeros, as LAPACK's `lauum` computes `Xᵀ X`: by halves, `X = [A 0; B D]` and
//! `Y = [A' 0; B' D']` give `Xᵀ Y = [AᵀA' + BᵀB', BᵀD'; DᵀB', DᵀD']`, so the zeros above the
//! diagonals are never multiplied; for `Xᵀ X` the upper block is the lower one mirrored. With
//! `DᵀB'` and `BᵀD'` by halves of `D` too, the products take n³/4 multiply-adds for `Xᵀ X` and
//! n³/3 for `Xᵀ Y` where `tr_mul` takes n³. (A 200 × 200 `X`: `Xᵀ X` 138–147 µs and `Xᵀ Y` 186–191 µs
//! against 296–302 µs for `tr_mul`; 400 × 400: 0.83–0.84 ms and 1.13–1.14 ms against 2.31–2.41
//! ms; on the 2-core machine, one thread.)

use nalgebra::allocator::Allocator;
use nalgebra::ViewStorageMut;
use nalgebra::{
    ComplexField, DefaultAllocator, Dim, Dyn, Matrix, OMatrix, Scalar, Storage, ViewStorage,
};

use crate::parallel;
use crate::product::{self, transposed};

/// Sides at or below which a product is computed whole: at 50 × 50 the halves of `Xᵀ X` took
/// as long as the whole (6.4–7.8 µs against 6.5 µs).
const WHOLE: usize = 64;

/// Sides from which a product of blocks may be split across threads (the `parallel` feature):
/// the blocks are fresh, and another thread reads them from the calling thread's core. (On the
/// 2-core machine, two threads took 1.04–1.07× one thread's time for the gradient of a
/// Gaussian process at 200 × 200 with its 100 × 100 blocks split, 0.97–1.00× unsplit, in runs
/// of the benchmark table; `L⁻ᵀ P L⁻¹` at 800 × 800 took 0.81–0.94× with its 400 × 400 blocks
/// split, in six runs of a crate timing it.)
const SPLIT: usize = 256;

/// A block of `X` or `Y`.
type Block<'a, T, RS, CS> = Matrix<T, Dyn, Dyn, ViewStorage<'a, T, Dyn, Dyn, RS, CS>>;
/// A block of the output.
type Out<'a, T, RS, CS> = Matrix<T, Dyn, Dyn, ViewStorageMut<'a, T, Dyn, Dyn, RS, CS>>;

/// `xᵀ x` for the lower-triangular `x` (what is above its diagonal must be zero: it is not
/// read past [`WHOLE`]).
pub fn lower_gram<T, D, S>(x: &Matrix<T, D, D, S>) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    product_of_lower(x, x, true)
}

/// `xᵀ y` for the lower-triangular `x` and `y` (zeros above their diagonals, as in
/// [`lower_gram`]).
pub fn tr_mul_lower<T, D, S1, S2>(
    x: &Matrix<T, D, D, S1>,
    y: &Matrix<T, D, D, S2>,
) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    product_of_lower(x, y, false)
}

/// `xᵀ y` into a new matrix, whole up to [`WHOLE`]; `gram` when `y` is `x`.
fn product_of_lower<T, D, S1, S2>(
    x: &Matrix<T, D, D, S1>,
    y: &Matrix<T, D, D, S2>,
    gram: bool,
) -> OMatrix<T, D, D>
where
    T: ComplexField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let n = x.nrows();
    if n <= WHOLE {
        return product::tr_mul(x, y);
    }
    let mut c = OMatrix::zeros_generic(x.shape_generic().0, x.shape_generic().1);
    let (x, y) = (x.view((0, 0), (n, n)), y.view((0, 0), (n, n)));
    lower_products(&x, &y, &mut c.view_mut((0, 0), (n, n)), gram);
    c
}

/// `c ← xᵀ y`, `x` and `y` lower triangular; `gram` when `y` is `x`, whose upper block is
/// then the lower one mirrored.
fn lower_products<T, R1, C1, R2, C2, RC, CC>(
    x: &Block<'_, T, R1, C1>,
    y: &Block<'_, T, R2, C2>,
    c: &mut Out<'_, T, RC, CC>,
    gram: bool,
) where
    T: ComplexField + Copy,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    RC: Dim,
    CC: Dim,
{
    let n = x.nrows();
    if n <= WHOLE {
        return tr_gemm(c, x, y, T::zero());
    }
    let h = n / 2;
    let ([a, b, d], [a2, b2, d2]) = (halves(x, h), halves(y, h));
    let mut top = c.view_mut((0, 0), (h, h));
    lower_products(&a, &a2, &mut top, gram);
    tr_gemm(&mut top, &b, &b2, T::one());
    lower_tr_mul(&d, &b2, &mut c.view_mut((h, 0), (n - h, h)), Side::DtB);
    lower_products(&d, &d2, &mut c.view_mut((h, h), (n - h, n - h)), gram);
    if gram {
        for j in h..n {
            for i in 0..h {
                c[(i, j)] = c[(j, i)];
            }
        }
    } else {
        lower_tr_mul(&d2, &b, &mut c.view_mut((0, h), (h, n - h)), Side::BtD);
    }
}

/// The blocks `[A, B, D]` of `m = [A 0; B D]`, `A` of side `h`.
fn halves<'a, T: Scalar, RS: Dim, CS: Dim>(
    m: &'a Block<'_, T, RS, CS>,
    h: usize,
) -> [Block<'a, T, RS, CS>; 3] {
    let n = m.nrows();
    [
        m.view((0, 0), (h, h)),
        m.view((h, 0), (n - h, h)),
        m.view((h, h), (n - h, n - h)),
    ]
}

/// Which product of a lower-triangular `d` and a `b` [`lower_tr_mul`] writes.
#[derive(Clone, Copy)]
enum Side {
    /// `dᵀ b`: a row of `c` per column of `d`.
    DtB,
    /// `bᵀ d`: a column of `c` per column of `d`.
    BtD,
}

impl Side {
    /// The rows (`DtB`) or columns (`BtD`) `start..start + len` of `c`.
    fn part<'c, T: Scalar, RC: Dim, CC: Dim>(
        self,
        c: &'c mut Out<'_, T, RC, CC>,
        start: usize,
        len: usize,
    ) -> Out<'c, T, RC, CC> {
        match self {
            Side::DtB => {
                let m = c.ncols();
                c.view_mut((start, 0), (len, m))
            }
            Side::BtD => {
                let m = c.nrows();
                c.view_mut((0, start), (m, len))
            }
        }
    }

    /// `c ← dᵀ b + β c` or `c ← bᵀ d + β c`.
    fn tr_gemm<T, R1, C1, R2, C2, RC, CC>(
        self,
        c: &mut Out<'_, T, RC, CC>,
        d: &Block<'_, T, R1, C1>,
        b: &Block<'_, T, R2, C2>,
        beta: T,
    ) where
        T: ComplexField + Copy,
        R1: Dim,
        C1: Dim,
        R2: Dim,
        C2: Dim,
        RC: Dim,
        CC: Dim,
    {
        match self {
            Side::DtB => tr_gemm(c, d, b, beta),
            Side::BtD => tr_gemm(c, b, d, beta),
        }
    }
}

/// `c ← dᵀ b` or `c ← bᵀ d` (`side`), `d` lower triangular: by halves `d = [D₁ 0; D₂ D₃]` and
/// `b = [B₁; B₂]`, `dᵀ b = [D₁ᵀB₁ + D₂ᵀB₂; D₃ᵀB₂]` and `bᵀ d = [B₁ᵀD₁ + B₂ᵀD₂, B₂ᵀD₃]`.
fn lower_tr_mul<T, R1, C1, R2, C2, RC, CC>(
    d: &Block<'_, T, R1, C1>,
    b: &Block<'_, T, R2, C2>,
    c: &mut Out<'_, T, RC, CC>,
    side: Side,
) where
    T: ComplexField + Copy,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    RC: Dim,
    CC: Dim,
{
    let (n, m) = (d.nrows(), b.ncols());
    if n <= WHOLE {
        return side.tr_gemm(c, d, b, T::zero());
    }
    let h = n / 2;
    let [d1, d2, d3] = halves(d, h);
    let (b1, b2) = (b.view((0, 0), (h, m)), b.view((h, 0), (n - h, m)));
    let mut first = side.part(c, 0, h);
    lower_tr_mul(&d1, &b1, &mut first, side);
    side.tr_gemm(&mut first, &d2, &b2, T::one());
    lower_tr_mul(&d3, &b2, &mut side.part(c, h, n - h), side);
}

/// `c ← xᵀ y + β c`: split across threads where every side is at least [`SPLIT`].
fn tr_gemm<T, R1, C1, R2, C2, RC, CC>(
    c: &mut Out<'_, T, RC, CC>,
    x: &Block<'_, T, R1, C1>,
    y: &Block<'_, T, R2, C2>,
    beta: T,
) where
    T: ComplexField + Copy,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    RC: Dim,
    CC: Dim,
{
    let xt = transposed(x);
    match [x.nrows(), x.ncols(), y.ncols()]
        .iter()
        .all(|&s| s >= SPLIT)
    {
        true => parallel::gemm(c, T::one(), &xt, y, beta),
        false => crate::columns::gemm(c, T::one(), &xt, y, beta),
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, Matrix3};

    use super::*;

    /// A lower-triangular matrix of side `n` with entries of both signs.
    fn lower(n: usize, seed: usize) -> DMatrix<f64> {
        DMatrix::from_fn(n, n, |i, j| {
            if i < j {
                0.0
            } else {
                ((i * 7 + j * 13 + seed) % 17) as f64 / 17.0 - 0.4
            }
        })
    }

    #[test]
    fn equal_the_whole_products() {
        // Below, at and past the side computed whole, halves of odd sides, two levels.
        for n in [1, 5, 64, 65, 97, 130, 200, 263] {
            let (x, y) = (lower(n, 0), lower(n, 5));
            let want = x.tr_mul(&x);
            let err = (lower_gram(&x) - &want).amax();
            assert!(err <= 1e-12 * want.amax(), "xᵀx, n = {n}: off by {err:e}");
            let want = x.tr_mul(&y);
            let err = (tr_mul_lower(&x, &y) - &want).amax();
            assert!(err <= 1e-12 * want.amax(), "xᵀy, n = {n}: off by {err:e}");
        }
        let x = Matrix3::new(1.0, 0.0, 0.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0);
        assert_eq!(lower_gram(&x), x.tr_mul(&x));
        assert_eq!(tr_mul_lower(&x, &(x * 2.0)), x.tr_mul(&(x * 2.0)));
    }
}
