use matgrad::grad;
use matgrad::nalgebra::DVector;

fn pair(x: &DVector<f64>) -> (f64, f64) {
    (x.norm(), x.sum())
}

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    let (n, s) = pair(x);
    n * s
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x);
}
