use matgrad::differentiable;

struct Model {
    scale: f64,
}

impl Model {
    #[differentiable]
    fn apply(&self, s: f64) -> f64 {
        self.scale * s
    }
}

fn main() {
    let m = Model { scale: 2.0 };
    let _ = m.apply(1.0);
}
