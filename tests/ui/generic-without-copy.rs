use matgrad::grad;
use matgrad::nalgebra::{DVector, RealField};

#[grad(w)]
fn f<T: RealField>(w: &DVector<T>) -> T {
    w.norm_squared()
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w);
}
