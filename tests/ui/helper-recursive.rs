use matgrad::nalgebra::DVector;
use matgrad::{differentiable, grad};

#[differentiable]
fn halve_until_small(s: f64) -> f64 {
    if s > 1.0 {
        halve_until_small(s * 0.5)
    } else {
        s
    }
}

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    halve_until_small(x.norm_squared())
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let _ = f_grad(&x);
}
