use matgrad::grad;
use matgrad::nalgebra::DVector;

const SCALE: f64 = 2.0;

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    x.norm() * crate::SCALE
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x);
}
