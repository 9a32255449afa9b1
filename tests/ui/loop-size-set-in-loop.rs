use matgrad::grad;
use matgrad::nalgebra::DVector;

// The state starts with 2 entries and has `n` from the first step on (after a first assignment
// that keeps its size): a size a loop's carried value cannot change, even once.
#[grad(w)]
fn f(w: &DVector<f64>, n: usize) -> f64 {
    let mut h = w.rows(0, 2) * 1.0;
    let mut total = 0.0;
    for _ in 0..3 {
        total += h.norm_squared() / h.len() as f64;
        h = h * 0.5;
        h = w.rows(0, n) * h[0];
    }
    total
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w, 3);
}
