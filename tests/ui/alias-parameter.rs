use matgrad::grad;
use matgrad::nalgebra::{SMatrix, SVector};

type H = SVector<f64, 8>;

#[grad(w, b)]
fn layer(w: &SMatrix<f64, 8, 4>, b: &H, x: &SVector<f64, 4>) -> f64 {
    (w * x + b).norm_squared()
}

fn main() {}
