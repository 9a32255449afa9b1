use matgrad::grad;
use matgrad::nalgebra::Vector3;

#[grad(w)]
fn f(w: &Vector3<f64>) -> f64 {
    w.coords.norm()
}

fn main() {}
