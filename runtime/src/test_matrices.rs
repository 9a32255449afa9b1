//! Matrices the unit tests of the product loops share (compiled for tests only).

use nalgebra::{DMatrix, Dyn, MatrixView};

/// A deterministic `r × c` matrix of entries in [−1, 1], varied by `seed`.
pub(crate) fn filled(r: usize, c: usize, seed: f64) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) as f64 * seed).sin())
}

/// [`filled`] with every fifth entry (along `i + 2j`) exactly zero, so that some products are
/// −0 and the sign of a zero is tested too.
pub(crate) fn filled_with_zeros(r: usize, c: usize, seed: f64) -> DMatrix<f64> {
    let mut m = filled(r, c, seed);
    for j in 0..c {
        for i in 0..r {
            if (i + 2 * j) % 5 == 0 {
                m[(i, j)] = 0.0;
            }
        }
    }
    m
}

/// `mᵀ` as a view of `m`'s storage (its rows contiguous, its columns `m.nrows()` apart).
pub(crate) fn transposed(m: &DMatrix<f64>) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    MatrixView::from_slice_with_strides_generic(
        m.as_slice(),
        Dyn(m.ncols()),
        Dyn(m.nrows()),
        Dyn(m.nrows()),
        Dyn(1),
    )
}

/// Asserts `x` and `y` equal bit for bit (the sign of a zero included).
pub(crate) fn same_bits(x: &DMatrix<f64>, y: &DMatrix<f64>) {
    assert_eq!(x.shape(), y.shape());
    let bits = |m: &DMatrix<f64>| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(x), bits(y), "\n{x}\n{y}");
}
