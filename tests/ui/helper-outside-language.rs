use matgrad::nalgebra::DVector;
use matgrad::{differentiable, grad};

#[differentiable]
fn rank(x: &DVector<f64>) -> f64 {
    x.clone().svd(true, true).rank(1e-9) as f64 * x.sum()
}

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    rank(x) * 2.0
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let _ = f_grad(&x);
}
