use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad]
#[allow(unused_variables)] // `n` cannot appear in a #[grad] body
fn f(n: usize, x: &DVector<f64>) -> f64 {
    x.norm_squared()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dn): (f64, usize) = f_grad(3, &x);
}
