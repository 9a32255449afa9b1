use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
#[allow(unreachable_code)]
fn f(x: &DVector<f64>) -> f64 {
    let n = x.norm_squared();
    return n;
    let m = n * 2.0;
    m
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x);
}
