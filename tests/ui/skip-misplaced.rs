use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(w)]
fn lagged(w: &DVector<f64>, y: &[f64]) -> f64 {
    let mut total = 0.0;
    for v in y.iter().rev().skip(1) {
        total += v * w[1];
    }
    total
}


#[grad(w)]
fn reversed_pairs(w: &DVector<f64>, y: &[f64]) -> f64 {
    let mut total = 0.0;
    for (a, b) in w.iter().rev().zip(y.iter()) {
        total += a * b;
    }
    total
}

fn main() {}
