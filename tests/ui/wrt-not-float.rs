use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x, n)]
#[allow(unused_variables)] // `n` cannot appear in a #[grad] body
fn f(x: &DVector<f64>, n: usize) -> f64 {
    x.norm_squared()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx, _dn): (f64, DVector<f64>, usize) = f_grad(&x, 3);
}
