use matgrad::grad;
use matgrad::nalgebra::Matrix3;

#[grad(a)]
fn f(a: &Matrix3<f64>, b: &Matrix3<f64>, s: f64) -> f64 {
    let chol = if s > 0.0 {
        a.clone().cholesky().unwrap()
    } else {
        b.clone().cholesky().unwrap()
    };
    chol.ln_determinant()
}

fn main() {
    let a = Matrix3::<f64>::identity();
    let (_value, _da): (f64, Matrix3<f64>) = f_grad(&a, &a, 1.0);
}
