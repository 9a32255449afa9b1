use matgrad::grad;
use matgrad::nalgebra::Matrix3;

#[grad(a)]
fn f(a: &Matrix3<f64>) -> f64 {
    let inv = a.try_inverse();
    inv.map_or(0.0, |m| m.trace())
}

fn main() {
    let a = Matrix3::<f64>::identity();
    let (_value, _da): (f64, Matrix3<f64>) = f_grad(&a);
}
