use matgrad::grad;
use matgrad::nalgebra::DMatrix;

#[grad(w)]
fn fit(w: &DMatrix<f64>, ys: &[f64]) -> f64 {
    let y = DMatrix::from_row_slice(w.nrows(), w.ncols(), ys);
    (w - y).norm_squared()
}

fn main() {}
