use matgrad::hessian;
use matgrad::nalgebra::Matrix4;

#[hessian(a)]
fn f(a: &Matrix4<f64>) -> f64 {
    a.determinant()
}

fn main() {
    let a = Matrix4::<f64>::identity();
    let (_value, _da, _h) = f_hessian(&a);
    let (_value, _da, _hv) = f_hvp(&a, &a);
}
