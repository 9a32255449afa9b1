use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(z)]
fn f(x: &DVector<f64>) -> f64 {
    x.norm_squared()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dz): (f64, ()) = f_grad(&x);
}
