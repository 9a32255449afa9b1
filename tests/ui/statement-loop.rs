use matgrad::grad;

#[grad(x)]
fn f(x: f64) -> f64 {
    let mut y = x;
    loop {
        y = y * 0.5;
    }
}

fn main() {
    let (_value, _dx) = f_grad(1.0);
}
