use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(w, w)]
fn f(w: &DVector<f64>, x: &DVector<f64>) -> f64 {
    w.dot(x)
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let x = DVector::<f64>::zeros(3);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w, &x);
}
