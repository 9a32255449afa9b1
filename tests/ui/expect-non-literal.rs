use matgrad::grad;
use matgrad::nalgebra::Matrix3;

const SINGULAR: &str = "singular matrix";

#[grad(a)]
fn f(a: &Matrix3<f64>) -> f64 {
    a.try_inverse().expect(SINGULAR).trace()
}

fn main() {
    let a = Matrix3::<f64>::identity();
    let (_value, _da): (f64, Matrix3<f64>) = f_grad(&a);
}
