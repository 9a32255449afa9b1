use matgrad::grad;
use matgrad::nalgebra::{Complex, DVector, RealField};

#[grad(z)]
fn f<T: RealField + Copy>(z: &DVector<Complex<T>>) -> T {
    z.norm_squared()
}

fn main() {}
