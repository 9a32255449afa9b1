use matgrad::nalgebra::DVector;

#[allow(dead_code)]
struct Scaled(f64);

impl Scaled {
    #[matgrad::grad(x)]
    fn loss(&self, x: &DVector<f64>) -> f64 {
        let _scaled = Self(x.norm_squared());
        x.sum() * 2.0
    }
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let _ = Scaled(2.0).loss_grad(&x);
}
