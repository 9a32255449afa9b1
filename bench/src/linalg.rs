//! Products with a transposed operand for the hand-written gradients.
//!
//! In nalgebra 0.35, `gemm` hands a dynamic product whose output and first operand are larger
//! than 5 × 5 to `matrixmultiply` (blocked, vectorised, any strides), while `tr_mul` and
//! `gemm_tr` compute one dot product per entry: for the 100 × 100 quadratic form `gemm_tr` is
//! several times slower than `gemm`. A transposed operand is therefore passed to `gemm` as a
//! strided view of the original storage (no copy) when that path applies. Below the threshold
//! `gemm` falls back to column-by-column `gemv`, which does not accept such a view (it indexes
//! past the view's slice), so the small sizes use `gemm_tr` or a transposed copy instead.

use matgrad::nalgebra::{DMatrix, Dyn, MatrixView};

/// `Mᵀ` as a strided view of `M`'s storage: no copy.
pub fn transposed(m: &DMatrix<f64>) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    let (r, c) = m.shape();
    MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(c), Dyn(r), Dyn(r), Dyn(1))
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
