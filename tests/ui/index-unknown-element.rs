use matgrad::grad;
use matgrad::nalgebra::DVector;

pub struct Table(Vec<f64>);

impl std::ops::Index<usize> for Table {
    type Output = f64;
    fn index(&self, i: usize) -> &f64 {
        &self.0[i]
    }
}

#[grad(x)]
fn f(x: &DVector<f64>, t: &Table) -> f64 {
    x.sum() * t[0]
}

fn main() {
    let x = DVector::<f64>::zeros(3);
    let t = Table(vec![1.0]);
    let (_value, _dx): (f64, DVector<f64>) = f_grad(&x, &t);
}
