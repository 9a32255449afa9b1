use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(w)]
fn lagged(w: &DVector<f64>, y: &[f64]) -> f64 {
    let mut total = 0.0;
    for (a, b) in y.iter().zip(y.iter().skip(1)) {
        total += (b - w[0] * a).powi(2);
    }
    for (t, v) in y.iter().skip(1).enumerate() {
        total += v * w[t % 2];
    }
    for v in y.iter().rev().skip(1) {
        total += v * w[1];
    }
    total
}

fn main() {}
