use matgrad::grad;
use matgrad::nalgebra::{Complex, DVector};

struct Signal {
    gain: Complex<f64>,
    scale: f64,
}

impl Signal {
    /// `self.gain` could be real or complex beside `r`: an error. A field
    /// bound with its real type is fine.
    #[grad(z, r)]
    fn loss(&self, z: &DVector<Complex<f64>>, r: f64) -> f64 {
        let s: f64 = self.scale;
        (z[0] * (r * self.gain)).norm_sqr() * s
    }
}

fn main() {}
