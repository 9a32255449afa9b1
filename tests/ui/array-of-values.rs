use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(w)]
fn f(w: &DVector<f64>) -> f64 {
    let pair = [w[0], w[1]];
    pair[0] * pair[1]
}

fn main() {}
