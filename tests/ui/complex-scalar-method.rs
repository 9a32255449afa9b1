use matgrad::grad;
use matgrad::nalgebra::Complex;

#[grad(z)]
fn f(z: Complex<f64>) -> f64 {
    z.sin().re
}

fn main() {}
