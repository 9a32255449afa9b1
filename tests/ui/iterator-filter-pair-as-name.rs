use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
fn f(x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    x.iter().zip(y.iter()).filter(|p| *p.1 > 0.0).map(|(a, b)| a * b).sum::<f64>()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x, &x);
}
