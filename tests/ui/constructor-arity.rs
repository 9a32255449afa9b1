use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

#[grad(w)]
fn f(w: &DVector<f64>) -> f64 {
    let n = w.len();
    let ones = DMatrix::from_element(n, w[0]);
    ones.sum()
}

fn main() {
    let w = DVector::<f64>::zeros(4);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w);
}
