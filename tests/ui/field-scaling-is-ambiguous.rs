use matgrad::grad;
use matgrad::nalgebra::DVector;

struct Model {
    lambda: f64,
}

impl Model {
    // A bare field times a vector may be a scaling or a product with a `Copy`
    // matrix: its type is needed.
    #[grad(w)]
    fn loss(&self, w: &DVector<f64>) -> f64 {
        (w * self.lambda).norm_squared()
    }
}

fn main() {
    let model = Model { lambda: 0.5 };
    let _ = model.loss_grad(&DVector::zeros(3));
}
