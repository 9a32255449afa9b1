use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

#[grad(k)]
fn f(k: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let chol = k.clone().cholesky().unwrap();
    let _alpha = chol.solve_mut(&mut y.clone());
    y.dot(y)
}

fn main() {
    let k = DMatrix::<f64>::identity(2, 2);
    let y = DVector::<f64>::zeros(2);
    let (_value, _dk): (f64, DMatrix<f64>) = f_grad(&k, &y);
}
