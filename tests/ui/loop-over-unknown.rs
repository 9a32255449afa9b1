use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for w in x.as_slice().chunks(2) {
        total += w[1] - w[0];
    }
    total
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x);
}
