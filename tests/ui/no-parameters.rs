use matgrad::grad;

#[grad]
fn f() -> f64 {
    1.0
}

fn main() {
    let (_value,): (f64,) = f_grad();
}
