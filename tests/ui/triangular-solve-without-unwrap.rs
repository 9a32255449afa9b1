use matgrad::grad;
use matgrad::nalgebra::{Matrix3, Vector3};

#[grad(l)]
fn f(l: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let x = l.solve_lower_triangular(b);
    x.map_or(0.0, |x| x.norm_squared())
}

fn main() {
    let l = Matrix3::<f64>::identity();
    let b = Vector3::<f64>::zeros();
    let (_value, _dl): (f64, Matrix3<f64>) = f_grad(&l, &b);
}
