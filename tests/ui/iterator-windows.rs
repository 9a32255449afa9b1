use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
fn f(x: &DVector<f64>, ys: &[f64]) -> f64 {
    ys.windows(2).map(|p| (p[1] - p[0]) * x[0]).sum::<f64>()
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x, &[1.0, 2.0]);
}
