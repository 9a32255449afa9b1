use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    x.as_slice().windows(0).map(|p| p.len() as f64).sum::<f64>() + x.sum()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x);
}
