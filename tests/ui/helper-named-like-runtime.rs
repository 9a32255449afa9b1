use matgrad::differentiable;

/// A leaky ReLU, which must not be taken for `matgrad::relu`.
#[differentiable]
fn relu(s: f64) -> f64 {
    if s > 0.0 {
        s
    } else {
        0.01 * s
    }
}

fn main() {
    let _ = relu(1.0);
}
