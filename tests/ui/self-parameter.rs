use matgrad::grad;
use matgrad::nalgebra::DVector;

struct Model {
    scale: f64,
}

impl Model {
    #[grad(x)]
    fn loss(&self, x: &DVector<f64>) -> f64 {
        x.norm_squared()
    }
}

fn main() {
    let model = Model { scale: 2.0 };
    let x = DVector::<f64>::zeros(3);
    let _ = (model.scale, model.loss(&x));
    let (_value, _dx): (f64, DVector<f64>) = model.loss_grad(&x);
}
