use matgrad::grad;
use matgrad::nalgebra::Matrix3;

#[grad(a)]
fn f(a: &Matrix3<f64>) -> f64 {
    let c = a.clone().pseudo_inverse(1e-9).unwrap();
    c.determinant()
}

fn main() {
    let a = Matrix3::<f64>::identity();
    let (_value, _da): (f64, Matrix3<f64>) = f_grad(&a);
}
