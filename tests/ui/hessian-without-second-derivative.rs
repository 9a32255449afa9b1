use matgrad::hessian;
use matgrad::nalgebra::Matrix2;

#[hessian(a)]
fn f(a: &Matrix2<f64>) -> f64 {
    a.exp().trace()
}

fn main() {
    let a = Matrix2::<f64>::zeros();
    let (_value, _da, _h) = f_hessian(&a);
    let (_value, _da, _hv) = f_hvp(&a, &a);
}
