use matgrad::grad;
use matgrad::nalgebra::{Matrix2, Vector3};

#[grad(x)]
fn f(x: &Vector3<f64>) -> f64 {
    let m = Matrix2::new(x[0], x[1], x[2]);
    m.determinant()
}

fn main() {
    let x = Vector3::<f64>::zeros();
    let (_value, _dx): (f64, Vector3<f64>) = f_grad(&x);
}
