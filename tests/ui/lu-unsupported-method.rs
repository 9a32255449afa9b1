use matgrad::grad;
use matgrad::nalgebra::Matrix3;

#[grad(a)]
fn f(a: &Matrix3<f64>) -> f64 {
    let lu = a.clone().lu();
    lu.u().trace()
}

fn main() {
    let a = Matrix3::<f64>::identity();
    let (_value, _da): (f64, Matrix3<f64>) = f_grad(&a);
}
