use matgrad::hessian;
use matgrad::nalgebra::DVector;

#[hessian(x)]
fn f(x: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for v in x.iter() {
        total += v * v * v;
    }
    total
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx, _h) = f_hessian(&x);
    let (_value, _dx, _hv) = f_hvp(&x, &x);
}
