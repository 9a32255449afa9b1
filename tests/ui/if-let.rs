use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(w)]
fn weighted(w: &DVector<f64>, weights: Option<&[f64]>) -> f64 {
    let mut total = w.norm_squared();
    if let Some(c) = weights {
        total *= c[0];
    }
    total
}

fn main() {}
