use matgrad::jacobian;
use matgrad::nalgebra::DVector;

#[jacobian(x, layout = columns)]
fn f(x: &DVector<f64>) -> DVector<f64> {
    x * 2.0
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let (_value, _j) = f_jacobian(&x);
}
