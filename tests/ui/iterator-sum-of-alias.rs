use matgrad::grad;
use matgrad::nalgebra::{Matrix2, Vector2};

type Scatter = Matrix2<f64>;

#[grad(w)]
fn f(w: &Vector2<f64>, xs: &[Vector2<f64>]) -> f64 {
    let m = xs.iter().map(|x| x * w.transpose()).sum::<Scatter>();
    m.norm_squared()
}

fn main() {
    let w = Vector2::new(1.0, 2.0);
    let (_value, _dw): (f64, Vector2<f64>) = f_grad(&w, &[w]);
}
