use matgrad::grad;
use matgrad::nalgebra::{DVector, UnitQuaternion, Vector3};

#[grad(v)]
fn rotated(v: &Vector3<f64>, p: &Vector3<f64>) -> f64 {
    let q = UnitQuaternion::from_scaled_axis(*v);
    (q * p).norm_squared()
}

#[grad(w)]
fn collected(w: &DVector<f64>, times: &[f64]) -> f64 {
    let order: Vec<usize> = (0..times.len()).collect();
    w[order[0]]
}

fn main() {}
