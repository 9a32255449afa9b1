//! Products with a transposed operand for the hand-written gradients, and the inverse of a
//! triangular matrix and its Gram matrix.
//!
//! In nalgebra 0.35, `gemm` hands a dynamic product whose output and first operand are larger
//! than 5 × 5 to `matrixmultiply` (blocked, vectorised, any strides), while `tr_mul` and
//! `gemm_tr` compute one dot product per entry: for the 100 × 100 quadratic form `gemm_tr` is
//! several times slower than `gemm`. A transposed operand is therefore passed to `gemm` as a
//! strided view of the original storage (no copy) when that path applies. Below the threshold
//! `gemm` falls back to column-by-column `gemv`, which does not accept such a view (it indexes
//! past the view's slice), so the small sizes use `gemm_tr` or a transposed copy instead.

use matgrad::nalgebra::{DMatrix, DMatrixViewMut, DVector, Dyn, MatrixView};

/// `Mᵀ` as a strided view of `M`'s storage: no copy.
pub fn transposed(m: &DMatrix<f64>) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    block_transposed(m, 0, 0, m.nrows(), m.ncols())
}

/// The transpose of the block of `rows × cols` entries of `x` from `(row, col)`, as a strided
/// view of `x`'s storage (no copy).
fn block_transposed(
    x: &DMatrix<f64>,
    row: usize,
    col: usize,
    rows: usize,
    cols: usize,
) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    let stride = x.nrows();
    MatrixView::from_slice_with_strides_generic(
        &x.as_slice()[row + col * stride..],
        Dyn(cols),
        Dyn(rows),
        Dyn(stride),
        Dyn(1),
    )
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

/// `Xᵀ X` for the lower-triangular `x` (zeros above its diagonal), as LAPACK's `lauum` computes
/// it: by halves `X = [A 0; B D]`, `XᵀX = [AᵀA + BᵀB, (DᵀB)ᵀ; DᵀB, DᵀD]`, the zeros above the
/// diagonal never multiplied and the upper block the lower one mirrored; `DᵀB` by halves of `D`
/// too. The `gemm`s take n³/4 multiply-adds where `Xᵀ X` whole takes n³. (At 200 × 200, 144 µs
/// against 296 µs for one `gemm`; whole at 64 × 64 and below, where the halves gain nothing.)
pub fn lower_gram(x: &DMatrix<f64>) -> DMatrix<f64> {
    let n = x.nrows();
    let mut c = DMatrix::zeros(n, n);
    if n <= GRAM_WHOLE {
        gemm_tn(&mut c, 1.0, x, x, 0.0);
    } else {
        gram_of_block(x, 0, n, &mut c);
    }
    c
}

/// Sides at or below which [`lower_gram`] is one `gemm`.
const GRAM_WHOLE: usize = 64;

/// `c[s.., s..] ← Dᵀ D` for the diagonal block `D = x[s..s + n, s..s + n]`.
fn gram_of_block(x: &DMatrix<f64>, s: usize, n: usize, c: &mut DMatrix<f64>) {
    if n <= GRAM_WHOLE {
        let d = x.view((s, s), (n, n));
        let dt = block_transposed(x, s, s, n, n);
        c.view_mut((s, s), (n, n)).gemm(1.0, &dt, &d, 0.0);
        return;
    }
    let h = n / 2;
    gram_of_block(x, s, h, c);
    let b = x.view((s + h, s), (n - h, h));
    let bt = block_transposed(x, s + h, s, n - h, h);
    c.view_mut((s, s), (h, h)).gemm(1.0, &bt, &b, 1.0);
    lower_tr_mul_of_blocks(x, s + h, n - h, s, h, c);
    gram_of_block(x, s + h, n - h, c);
    for j in s + h..s + n {
        for i in s..s + h {
            c[(i, j)] = c[(j, i)];
        }
    }
}

/// `c[d.., b..] ← Dᵀ B` for the diagonal block `D = x[d..d + n, d..d + n]` (lower triangular)
/// and `B = x[d..d + n, b..b + m]`: by halves of `D`, `[D₁ᵀB₁ + D₂ᵀB₂; D₃ᵀB₂]`.
fn lower_tr_mul_of_blocks(
    x: &DMatrix<f64>,
    d: usize,
    n: usize,
    b: usize,
    m: usize,
    c: &mut DMatrix<f64>,
) {
    if n <= GRAM_WHOLE {
        let dt = block_transposed(x, d, d, n, n);
        c.view_mut((d, b), (n, m))
            .gemm(1.0, &dt, &x.view((d, b), (n, m)), 0.0);
        return;
    }
    let h = n / 2;
    lower_tr_mul_of_blocks(x, d, h, b, m, c);
    let d2t = block_transposed(x, d + h, d, n - h, h);
    c.view_mut((d, b), (h, m))
        .gemm(1.0, &d2t, &x.view((d + h, b), (n - h, m)), 1.0);
    lower_tr_mul_of_blocks(x, d + h, n - h, b, m, c);
}

/// `L⁻¹` of the lower-triangular `l` (what is above its diagonal is never read). It is lower
/// triangular too, and computing only that half takes n³/6 multiply-adds where solving
/// `L X = I` whole takes n³/2 (LAPACK's `trtri`): by halves, `[A 0; B C]⁻¹ =
/// [A⁻¹ 0; −C⁻¹ B A⁻¹ C⁻¹]`, so that most of the work is two `gemm`, and column by column
/// below 32 × 32. (Against solving `L X = I`, `table gauss_nll gp_nlml` before and after, one
/// run each: 0.7–0.85× the gradient's time for gauss_nll at 10 × 10 and 50 × 50, 0.55–0.65× for
/// gp_nlml at 50 and 200.)
pub fn lower_inverse(l: &DMatrix<f64>) -> DMatrix<f64> {
    let mut x = l.lower_triangle();
    invert_lower(&mut x.as_view_mut());
    x
}

/// Inverts the lower-triangular `m` (zeros above its diagonal) in place.
fn invert_lower(m: &mut DMatrixViewMut<'_, f64>) {
    let n = m.nrows();
    if n <= 32 {
        // From the last column: with the trailing block `X` already inverted, column `j`
        // below the diagonal becomes `−X m[j+1.., j] / m[j, j]`.
        for j in (0..n).rev() {
            let d = 1.0 / m[(j, j)];
            m[(j, j)] = d;
            let (mut column, trailing) = m.columns_range_pair_mut(j, j + 1..);
            let below = column.rows_range(j + 1..).clone_owned();
            let x = trailing.rows_range(j + 1..);
            column.rows_range_mut(j + 1..).gemv(-d, &x, &below, 0.0);
        }
        return;
    }
    let k = n / 2;
    let (mut top, mut bottom) = m.rows_range_pair_mut(..k, k..);
    let mut a = top.columns_range_mut(..k);
    let (mut b, mut c) = bottom.columns_range_pair_mut(..k, k..);
    invert_lower(&mut a);
    invert_lower(&mut c);
    let b_a = &b * &a;
    b.gemm(-1.0, &c, &b_a, 0.0);
}
