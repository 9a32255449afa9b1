use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    f64::rem_euclid(x.norm(), 2.0) * x.sum()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x);
}
