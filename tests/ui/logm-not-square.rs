use matgrad::grad;
use matgrad::nalgebra::Matrix2x3;

#[grad(a)]
fn f(a: &Matrix2x3<f64>) -> f64 {
    matgrad::logm(a).trace()
}

fn main() {
    let a = Matrix2x3::<f64>::zeros();
    let (_value, _da) = f_grad(&a);
}
