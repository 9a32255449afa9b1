use matgrad::grad;
use matgrad::nalgebra::Matrix2x3;

#[grad(a)]
fn f(a: &Matrix2x3<f64>, b: &Matrix2x3<f64>) -> f64 {
    (a * b).sum()
}

fn main() {
    let a = Matrix2x3::<f64>::zeros();
    let b = Matrix2x3::<f64>::zeros();
    let (_value, _da): (f64, Matrix2x3<f64>) = f_grad(&a, &b);
}
