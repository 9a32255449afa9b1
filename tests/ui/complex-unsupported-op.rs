use matgrad::grad;
use matgrad::nalgebra::{Complex, DMatrix};

#[grad(z)]
fn f(z: &DMatrix<Complex<f64>>) -> f64 {
    z.kronecker(z).norm_squared()
}

fn main() {}
