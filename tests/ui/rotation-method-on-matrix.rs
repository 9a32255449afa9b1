use matgrad::grad;
use matgrad::nalgebra::{Matrix3, Vector3};

#[grad(m)]
fn f(m: &Matrix3<f64>, v: &Vector3<f64>) -> f64 {
    (m.inverse() * v).norm()
}

fn main() {
    let (m, v) = (Matrix3::<f64>::identity(), Vector3::x());
    let (_value, _dm): (f64, Matrix3<f64>) = f_grad(&m, &v);
}
