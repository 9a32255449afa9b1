use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

fn entry(i: usize, j: usize) -> f64 {
    (i + j) as f64
}

#[grad(w)]
fn f(w: &DVector<f64>) -> f64 {
    let k = DMatrix::from_fn(w.len(), w.len(), entry);
    (k * w).sum()
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w);
}
