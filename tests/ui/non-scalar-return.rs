use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

#[grad(w)]
fn f(w: &DVector<f64>, x: &DMatrix<f64>) -> DVector<f64> {
    x * w
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let x = DMatrix::<f64>::zeros(2, 3);
    let (_value, _dw): (DVector<f64>, DVector<f64>) = f_grad(&w, &x);
}
