use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
fn f(x: &DVector<f64>) {
    let _n = x.norm();
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): ((), DVector<f64>) = f_grad(&x);
}
