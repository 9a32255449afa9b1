use matgrad::grad;
use matgrad::nalgebra::DVector;

struct Loss;

impl Loss {
    fn squared(x: &DVector<f64>) -> f64 {
        x.norm_squared()
    }
}

#[grad(x)]
fn f(x: &DVector<f64>) -> f64 {
    Loss::squared(x) * 2.0
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let _ = f_grad(&x);
}
