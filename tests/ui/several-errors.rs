use matgrad::grad;
use matgrad::nalgebra::DMatrix;

fn foo(x: &DMatrix<f64>) -> f64 {
    x.sum()
}

#[grad(x)]
fn f(x: &DMatrix<f64>) -> f64 {
    let a = x.clone().qr().r().determinant();
    let b = foo(x);
    a + b
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let (_value, _dx): (f64, DMatrix<f64>) = f_grad(&x);
}
