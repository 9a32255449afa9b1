use matgrad::grad;
use matgrad::nalgebra::DVector;

// `h` has 2 entries, or `n` where the branch is taken: after the `if` it has one size.
#[grad(w)]
fn f(w: &DVector<f64>, n: usize, c: bool) -> f64 {
    let mut h = w.rows(0, 2) * 1.0;
    if c {
        h = w.rows(0, n) * 1.0;
    }
    h.norm_squared() / h.len() as f64
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w, 3, true);
}
