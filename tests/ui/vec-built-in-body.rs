use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};

#[grad(a)]
fn simulate(a: &DMatrix<f64>, x0: &DVector<f64>, steps: usize) -> f64 {
    let mut traj = Vec::with_capacity(steps);
    let mut x = x0.clone();
    for _ in 0..steps {
        x = a * &x;
        traj.push(x.clone());
    }
    traj.iter().map(|v| v.norm_squared()).sum::<f64>()
}

fn main() {}
