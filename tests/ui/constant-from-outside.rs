use matgrad::grad;
use matgrad::nalgebra::DVector;

const EPS: f64 = 1e-12;

#[grad(p)]
fn clamped(p: &DVector<f64>) -> f64 {
    p.map(|v| v.clamp(EPS, 1.0 - EPS).ln()).sum()
}

fn main() {}
