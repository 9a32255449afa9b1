//! Products with a transposed operand for the hand-written gradients.
//!
//! In nalgebra 0.35, `gemm` hands a dynamic product whose output and first operand are larger
//! than 5 × 5 to `matrixmultiply` (blocked, vectorised, any strides), while `tr_mul` and
//! `gemm_tr` compute one dot product per entry: for the 100 × 100 quadratic form `gemm_tr` is
//! several times slower than `gemm`. A transposed operand is therefore passed to `gemm` as a
//! strided view of the original storage (no copy) when that path applies. Below the threshold
//! `gemm` falls back to column-by-column `gemv`, which does not accept such a view (it indexes
//! past the view's slice), so the small sizes use `gemm_tr` or a transposed copy instead.

use matgrad::nalgebra::{DMatrix, DVector, Dyn, MatrixView};

/// `Mᵀ` as a strided view of `M`'s storage: no copy.
pub fn transposed(m: &DMatrix<f64>) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    transposed_slice(m.as_slice(), m.nrows())
}

/// `Bᵀ` as a strided view, `B` the column-major matrix of `rows` rows stored in `b`.
fn transposed_slice(b: &[f64], rows: usize) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    let cols = b.len() / rows;
    MatrixView::from_slice_with_strides_generic(b, Dyn(cols), Dyn(rows), Dyn(rows), Dyn(1))
}

/// Whether nalgebra's `gemm` takes the `matrixmultiply` path for an `out` and a first operand
/// of these shapes.
fn blocked(out: (usize, usize), first: (usize, usize)) -> bool {
    out.0 > 5 && out.1 > 5 && first.0 > 5 && first.1 > 5
}

/// `c ← α aᵀ b + β c`.
pub fn gemm_tn(c: &mut DMatrix<f64>, alpha: f64, a: &DMatrix<f64>, b: &DMatrix<f64>, beta: f64) {
    if blocked(c.shape(), (a.ncols(), a.nrows())) {
        c.gemm(alpha, &transposed(a), b, beta);
    } else {
        c.gemm_tr(alpha, a, b, beta);
    }
}

/// `c ← α a bᵀ + β c`.
pub fn gemm_nt(c: &mut DMatrix<f64>, alpha: f64, a: &DMatrix<f64>, b: &DMatrix<f64>, beta: f64) {
    if blocked(c.shape(), a.shape()) {
        c.gemm(alpha, a, &transposed(b), beta);
    } else {
        c.gemm(alpha, a, &b.transpose(), beta);
    }
}

/// `c ← a Bᵀ`, `B` the column-major matrix of `rows` rows stored in `b` (a range of a larger
/// matrix's columns, say).
pub fn gemm_nt_view(c: &mut DMatrix<f64>, a: &DMatrix<f64>, b: &[f64], rows: usize) {
    let bt = transposed_slice(b, rows);
    if blocked(c.shape(), a.shape()) {
        c.gemm(1.0, a, &bt, 0.0);
    } else {
        c.gemm(1.0, a, &bt.clone_owned(), 0.0);
    }
}

/// Rows per block of [`fused_rows`]: 8 margins and 8 per-sample derivatives stay in registers.
const ROWS: usize = 8;

/// A loss `Σᵢ ℓᵢ((Xw)ᵢ)` of a linear model and its gradient `Xᵀs`, `sᵢ = ℓᵢ′((Xw)ᵢ)`, in one
/// pass over `X`, written for its column-major storage: for each block of 8 rows, the margins
/// `zᵢ` are summed from contiguous 8-entry pieces of each column (`X`'s block is read once into
/// cache), then `per(i, zᵢ)` returns `(ℓᵢ, sᵢ)` for each sample of the block, then `gⱼ +=
/// Σᵢ sᵢ xᵢⱼ` reads the same pieces again from cache. Returns `Σᵢ ℓᵢ`; adds `Xᵀs` onto `g`.
pub fn fused_rows(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    g: &mut DVector<f64>,
    mut per: impl FnMut(usize, f64) -> (f64, f64),
) -> f64 {
    let n = x.nrows();
    let (xs, w, g) = (x.as_slice(), w.as_slice(), g.as_mut_slice());
    let mut f = 0.0;
    let mut start = 0;
    while start + ROWS <= n {
        let mut z = [0.0; ROWS];
        for (j, &wj) in w.iter().enumerate() {
            let col: &[f64; ROWS] = xs[j * n + start..][..ROWS].try_into().unwrap();
            for (zk, &xk) in z.iter_mut().zip(col) {
                *zk += xk * wj;
            }
        }
        let mut s = [0.0; ROWS];
        for (k, (sk, &zk)) in s.iter_mut().zip(&z).enumerate() {
            let (fk, dk) = per(start + k, zk);
            f += fk;
            *sk = dk;
        }
        for (j, gj) in g.iter_mut().enumerate() {
            let col: &[f64; ROWS] = xs[j * n + start..][..ROWS].try_into().unwrap();
            let mut acc = 0.0;
            for (&xk, &sk) in col.iter().zip(&s) {
                acc += xk * sk;
            }
            *gj += acc;
        }
        start += ROWS;
    }
    // The last n mod 8 rows, one at a time.
    for i in start..n {
        let mut z = 0.0;
        for (j, &wj) in w.iter().enumerate() {
            z += xs[j * n + i] * wj;
        }
        let (fi, si) = per(i, z);
        f += fi;
        for (j, gj) in g.iter_mut().enumerate() {
            *gj += si * xs[j * n + i];
        }
    }
    f
}
