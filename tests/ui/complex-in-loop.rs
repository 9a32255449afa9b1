use matgrad::grad;
use matgrad::nalgebra::{Complex, DVector};

#[grad(z)]
fn f(z: &DVector<Complex<f64>>) -> f64 {
    let mut s = 0.0;
    for i in 0..z.len() {
        s += z[i].norm_sqr();
    }
    s
}

fn main() {}
