use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

#[grad(w)]
fn f(w: &DVector<f64>) -> f64 {
    let m = DMatrix::from_column_slice(2, 2, &[w[0], w[1], w[2], w[3]]);
    m.determinant()
}

fn main() {
    let w = DVector::<f64>::zeros(4);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w);
}
