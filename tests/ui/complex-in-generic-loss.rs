use matgrad::grad;
use matgrad::nalgebra::{Complex, DVector, RealField};

#[grad(theta)]
fn f<T: RealField + Copy>(theta: &DVector<T>) -> T {
    theta.map(|t| Complex::new(t.cos(), t.sin())).norm_squared()
}

fn main() {}
