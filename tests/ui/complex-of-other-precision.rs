use matgrad::grad;
use matgrad::nalgebra::{Complex, DVector};

#[grad(z)]
fn f(z: &DVector<Complex<f32>>) -> f64 {
    z.norm_squared() as f64
}

fn main() {}
