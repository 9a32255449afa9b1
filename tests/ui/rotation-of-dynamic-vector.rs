use matgrad::grad;
use matgrad::nalgebra::{DVector, Rotation3};

#[grad(v)]
fn f(v: &DVector<f64>) -> f64 {
    Rotation3::new(v.clone()).matrix().trace()
}

fn main() {
    let v = DVector::<f64>::zeros(3);
    let (_value, _dv): (f64, DVector<f64>) = f_grad(&v);
}
