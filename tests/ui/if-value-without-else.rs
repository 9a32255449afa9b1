use matgrad::grad;

#[grad(x)]
fn f(x: f64) -> f64 {
    let y = if x > 0.0 { x * x };
    y
}

fn main() {
    let (_value, _dx) = f_grad(1.0);
}
