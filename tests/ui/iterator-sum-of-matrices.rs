use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

#[grad(w)]
fn f(w: &DVector<f64>, xs: &[DVector<f64>]) -> f64 {
    let m = xs.iter().map(|x| x * w.transpose()).sum::<DMatrix<f64>>();
    m.norm_squared()
}

fn main() {
    let w = DVector::from_vec(vec![1.0, 2.0]);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w, &[w.clone()]);
}
