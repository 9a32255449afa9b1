use matgrad::grad;
use matgrad::nalgebra::Matrix3;

#[grad(a)]
fn f(a: &Matrix3<f64>) -> f64 {
    let chol = a.clone().cholesky().unwrap();
    chol.l_dirty().sum()
}

fn main() {
    let a = Matrix3::<f64>::identity();
    let (_value, _da): (f64, Matrix3<f64>) = f_grad(&a);
}
