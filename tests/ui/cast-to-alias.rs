use matgrad::grad;
use matgrad::nalgebra::DVector;

type Real = f64;

#[grad(x)]
fn f(x: &DVector<f64>, n: usize) -> f64 {
    x.sum() / n as Real
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x, 3);
}
