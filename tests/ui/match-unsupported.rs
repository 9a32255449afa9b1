use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(w)]
fn on_an_option(w: &DVector<f64>, weight: Option<f64>) -> f64 {
    match weight {
        Some(c) => c * w.norm_squared(),
        None => w.norm_squared(),
    }
}

#[grad(w)]
fn guarded_last(w: &DVector<f64>, flat: bool, tiny: bool) -> f64 {
    #[allow(unreachable_patterns)]
    match flat {
        true => w.sum(),
        false => w.norm(),
        _ if tiny => 0.0,
    }
}

#[grad(w)]
fn catch_all_first(w: &DVector<f64>, n: usize) -> f64 {
    #[allow(unreachable_patterns)]
    match n {
        _ => w.sum(),
        1 => w.norm(),
    }
}

fn main() {}
