use matgrad::grad;
use matgrad::nalgebra::DVector;

/// Not matgrad's sigmoid.
fn sigmoid(x: f64) -> f64 {
    x / (1.0 + x.abs())
}

#[grad(w)]
fn f(w: &DVector<f64>) -> f64 {
    sigmoid(w[0]) + w.norm()
}

fn main() {}
