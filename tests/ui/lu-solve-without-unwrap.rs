use matgrad::grad;
use matgrad::nalgebra::{Matrix3, Vector3};

#[grad(a)]
fn f(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let lu = a.clone().lu();
    let x = lu.solve(b);
    x.map_or(0.0, |x| x.sum())
}

fn main() {
    let a = Matrix3::<f64>::identity();
    let b = Vector3::<f64>::zeros();
    let (_value, _da): (f64, Matrix3<f64>) = f_grad(&a, &b);
}
