use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(s)]
fn whole_tuples(s: &DVector<f64>, matches: &[(usize, usize)]) -> f64 {
    let mut total = 0.0;
    for m in matches {
        total += s[m.0];
    }
    total
}

#[grad(s)]
fn missing_field(s: &DVector<f64>, matches: &[(usize, usize)]) -> f64 {
    s[matches[0].2]
}

#[grad(s)]
fn run_time_size(s: &DVector<f64>, samples: &[(DVector<f64>, f64)]) -> f64 {
    let mut total = 0.0;
    for (x, y) in samples {
        total += s.dot(x) - y;
    }
    total
}

fn main() {}
