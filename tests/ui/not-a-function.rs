use matgrad::grad;

#[grad]
struct Loss {
    scale: f64,
}

fn main() {
    let loss = Loss { scale: 1.0 };
    let _ = loss.scale;
}
