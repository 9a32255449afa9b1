use matgrad::grad;
use matgrad::nalgebra::{Matrix3, Vector3};

#[grad(w)]
fn f(w: &Vector3<f64>, xs: &[Vector3<f64>]) -> f64 {
    let m: Matrix3<f64> = xs.iter().map(|x| x * w.transpose()).sum();
    m.norm_squared()
}

fn main() {
    let w = Vector3::new(1.0, 2.0, 3.0);
    let (_value, _dw): (f64, Vector3<f64>) = f_grad(&w, &[w]);
}
