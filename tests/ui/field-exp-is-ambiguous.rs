use matgrad::grad;
use matgrad::nalgebra::DMatrix;

struct Model {
    p: DMatrix<f64>,
}

impl Model {
    // `exp` is a method of scalars and of square matrices alike.
    #[grad(a)]
    fn loss(&self, a: &DMatrix<f64>) -> f64 {
        (a + self.p.exp()).norm_squared()
    }
}

fn main() {
    let model = Model { p: DMatrix::zeros(2, 2) };
    let _ = model.loss_grad(&DMatrix::zeros(2, 2));
}
