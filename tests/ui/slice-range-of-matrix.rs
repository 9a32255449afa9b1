use matgrad::grad;
use matgrad::nalgebra::DMatrix;

#[grad(w)]
fn f(w: &DMatrix<f64>) -> f64 {
    let m = DMatrix::from_column_slice(2, 2, &w.as_slice()[0..4]);
    m.norm_squared()
}

fn main() {
    let w = DMatrix::<f64>::zeros(3, 3);
    let (_value, _dw): (f64, DMatrix<f64>) = f_grad(&w);
}
