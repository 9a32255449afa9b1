use matgrad::nalgebra::DVector;
use matgrad::{differentiable, grad};

fn square(s: f64) -> f64 {
    s * s
}

#[differentiable]
fn energy(x: &DVector<f64>) -> f64 {
    square(x.norm())
}

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    energy(x) + 1.0
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let _ = f_grad(&x);
}
