use matgrad::grad;
use matgrad::nalgebra::DVector;

// The state has one entry more each step: a size a loop's carried value cannot change.
#[grad(w)]
fn f(w: &DVector<f64>, steps: usize) -> f64 {
    let mut h = w.rows(0, 1) * 1.0;
    let mut total = 0.0;
    for k in 1..steps {
        total += w.norm_squared() / h.len() as f64;
        h = w.rows(0, k + 1) * 1.0;
    }
    total
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w, 3);
}
