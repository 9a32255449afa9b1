use matgrad::grad;
use matgrad::nalgebra::Vector3;

#[grad(w)]
fn f(w: &Vector3<f64>) -> f64 {
    w.x * w.norm()
}

fn main() {
    let w = Vector3::new(1.0, 2.0, 3.0);
    let (_value, _dw): (f64, Vector3<f64>) = f_grad(&w);
}
