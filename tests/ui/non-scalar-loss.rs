use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(y)]
fn f(y: &DVector<f64>) -> f64 {
    y * 2.0
}

fn main() {
    let y = DVector::<f64>::zeros(3);
    let (_value, _dy): (f64, DVector<f64>) = f_grad(&y);
}
