use matgrad::grad;
use matgrad::nalgebra::DMatrix;

#[grad(x)]
fn f(x: &DMatrix<f64>) -> f64 {
    let d = x.clone().qr().r().determinant();
    d * 2.0
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let (_value, _dx): (f64, DMatrix<f64>) = f_grad(&x);
}
