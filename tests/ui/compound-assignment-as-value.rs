use matgrad::grad;
use matgrad::nalgebra::DVector;

// Read as a value, `w -= y` would have left `w` as it was.
#[grad(x)]
fn f(x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let mut w = x.clone();
    let _unit = w -= y;
    w.sum()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let _ = f_grad(&x, &x);
}
