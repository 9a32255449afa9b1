//! `Xᵀ X` for a lower-triangular `X` (the inverse of a Cholesky factor, its rows scaled), as
//! LAPACK's `lauum` computes it: by halves, `X = [A 0; B D]` gives
//! `Xᵀ X = [AᵀA + BᵀB, (DᵀB)ᵀ; DᵀB, DᵀD]`, so the zeros above the diagonal are never
//! multiplied and the upper block is the lower one mirrored. With `DᵀB` by halves of `D` too,
//! the products take n³/4 multiply-adds where `tr_mul` takes n³. (A 200 × 200 `X`: 144 µs
//! against 296 µs for `tr_mul`; 400 × 400: 0.87 ms against 2.33 ms; on the 2-core machine,
//! one thread.)

use nalgebra::allocator::Allocator;
use nalgebra::ViewStorageMut;
use nalgebra::{DefaultAllocator, Dim, Dyn, Matrix, OMatrix, RealField, Storage, ViewStorage};

use crate::parallel;
use crate::product::{self, transposed};

/// Sides at or below which `Xᵀ X` is one product: at 50 × 50 the halves took as long as the
/// whole (6.4–7.8 µs against 6.5 µs).
const WHOLE: usize = 64;

/// Sides from which a product of blocks may be split across threads (the `parallel` feature):
/// the blocks of `X` are fresh, and another thread reads them from the calling thread's core.
/// (On the 2-core machine, two threads took 1.04–1.07× one thread's time for the gradient of a
/// Gaussian process at 200 × 200 with its 100 × 100 blocks split, 0.97–1.00× unsplit, in runs
/// of the benchmark table; `L⁻ᵀ P L⁻¹` at 800 × 800 took 0.81–0.94× with its 400 × 400 blocks
/// split, in six runs of a crate timing it.)
const SPLIT: usize = 256;

/// `c ← xᵀ y + β c`: split across threads where every side is at least [`SPLIT`].
fn tr_gemm<T, RS, CS, RC, CC>(
    c: &mut Out<'_, T, RC, CC>,
    x: &Block<'_, T, RS, CS>,
    y: &Block<'_, T, RS, CS>,
    beta: T,
) where
    T: RealField + Copy,
    RS: Dim,
    CS: Dim,
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

/// A block of `X`.
type Block<'a, T, RS, CS> = Matrix<T, Dyn, Dyn, ViewStorage<'a, T, Dyn, Dyn, RS, CS>>;
/// A block of the output.
type Out<'a, T, RS, CS> = Matrix<T, Dyn, Dyn, ViewStorageMut<'a, T, Dyn, Dyn, RS, CS>>;

/// `xᵀ x` for the lower-triangular `x` (what is above its diagonal must be zero: it is not
/// read past [`WHOLE`]).
pub fn lower_gram<T, D, S>(x: &Matrix<T, D, D, S>) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let n = x.nrows();
    if n <= WHOLE {
        return product::tr_mul(x, x);
    }
    let (rows, cols) = x.shape_generic();
    let mut c = OMatrix::zeros_generic(rows, cols);
    gram(&x.view((0, 0), (n, n)), &mut c.view_mut((0, 0), (n, n)));
    c
}

/// `c ← xᵀ x`, `x` lower triangular.
fn gram<T, RS, CS, RC, CC>(x: &Block<'_, T, RS, CS>, c: &mut Out<'_, T, RC, CC>)
where
    T: RealField + Copy,
    RS: Dim,
    CS: Dim,
    RC: Dim,
    CC: Dim,
{
    let n = x.nrows();
    if n <= WHOLE {
        return tr_gemm(c, x, x, T::zero());
    }
    let h = n / 2;
    let (a, b, d) = (
        x.view((0, 0), (h, h)),
        x.view((h, 0), (n - h, h)),
        x.view((h, h), (n - h, n - h)),
    );
    let mut top = c.view_mut((0, 0), (h, h));
    gram(&a, &mut top);
    tr_gemm(&mut top, &b, &b, T::one());
    lower_tr_mul(&d, &b, &mut c.view_mut((h, 0), (n - h, h)));
    gram(&d, &mut c.view_mut((h, h), (n - h, n - h)));
    for j in h..n {
        for i in 0..h {
            c[(i, j)] = c[(j, i)];
        }
    }
}

/// `c ← dᵀ b`, `d` lower triangular: by halves `d = [D₁ 0; D₂ D₃]` and `b = [B₁; B₂]`,
/// `dᵀ b = [D₁ᵀB₁ + D₂ᵀB₂; D₃ᵀB₂]`.
fn lower_tr_mul<T, RS, CS, RC, CC>(
    d: &Block<'_, T, RS, CS>,
    b: &Block<'_, T, RS, CS>,
    c: &mut Out<'_, T, RC, CC>,
) where
    T: RealField + Copy,
    RS: Dim,
    CS: Dim,
    RC: Dim,
    CC: Dim,
{
    let (n, m) = (d.nrows(), b.ncols());
    if n <= WHOLE {
        return tr_gemm(c, d, b, T::zero());
    }
    let h = n / 2;
    let (d1, d2, d3) = (
        d.view((0, 0), (h, h)),
        d.view((h, 0), (n - h, h)),
        d.view((h, h), (n - h, n - h)),
    );
    let (b1, b2) = (b.view((0, 0), (h, m)), b.view((h, 0), (n - h, m)));
    let mut top = c.view_mut((0, 0), (h, m));
    lower_tr_mul(&d1, &b1, &mut top);
    tr_gemm(&mut top, &d2, &b2, T::one());
    lower_tr_mul(&d3, &b2, &mut c.view_mut((h, 0), (n - h, m)));
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, Matrix3};

    use super::*;

    /// A lower-triangular matrix of side `n` with entries of both signs.
    fn lower(n: usize) -> DMatrix<f64> {
        DMatrix::from_fn(n, n, |i, j| {
            if i < j {
                0.0
            } else {
                ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.4
            }
        })
    }

    #[test]
    fn equals_the_whole_product() {
        // Below, at and past the side computed whole, halves of odd sides, two levels.
        for n in [1, 5, 64, 65, 97, 130, 200, 263] {
            let x = lower(n);
            let want = x.tr_mul(&x);
            let got = lower_gram(&x);
            let err = (&got - &want).amax();
            assert!(err <= 1e-12 * want.amax(), "n = {n}: off by {err:e}");
        }
        let x = Matrix3::new(1.0, 0.0, 0.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0);
        assert_eq!(lower_gram(&x), x.tr_mul(&x));
    }
}
