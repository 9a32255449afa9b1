use matgrad::grad;
use matgrad::nalgebra::DVector;

struct Model {
    y: DVector<f64>,
}

impl Model {
    #[grad(w)]
    fn loss(&self, w: &DVector<f64>) -> f64 {
        // Reported once, at the first use: the advice is the same at the second.
        let y = &self.y;
        let z = &self.y;
        (w - y).norm_squared() + (w - z).norm()
    }
}

fn main() {
    let model = Model { y: DVector::zeros(3) };
    let (_value, _dw): (f64, DVector<f64>) = model.loss_grad(&DVector::zeros(3));
}
