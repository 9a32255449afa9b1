use matgrad::grad;
use matgrad::nalgebra::DVector;

// The value has 2 entries on one side, `n` on the other.
#[grad(w)]
fn f(w: &DVector<f64>, n: usize, c: bool) -> f64 {
    let v = if c { w.rows(0, 2) * 1.0 } else { w.rows(0, n) * 1.0 };
    v.norm_squared() / v.len() as f64
}

// `w`'s size on one side, `n` on the other: the error is at the side computing its size.
#[grad(w)]
fn g(w: &DVector<f64>, n: usize, c: bool) -> f64 {
    let v = if c { w * 2.0 } else { DVector::from_element(n, w[0]) };
    v.norm_squared() / v.len() as f64
}

fn main() {
    let w = DVector::<f64>::zeros(3);
    let (_value, _dw): (f64, DVector<f64>) = f_grad(&w, 3, true);
    let (_value, _dw): (f64, DVector<f64>) = g_grad(&w, 3, true);
}
