//! Complex parameters: gradients `∂L/∂Re z + i ∂L/∂Im z` of real losses,
//! checked against central differences in the real and the imaginary part of
//! every entry.

#[macro_use]
mod common;
use common::*;

use matgrad::grad;
use matgrad::nalgebra::{Complex, DMatrix, Matrix2};

#[grad(z)]
fn quad(z: &DMatrix<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
    (z.adjoint() * m * z).trace().re + (z - m).norm_squared()
}

#[grad(z)]
fn quad2(z: &Matrix2<Complex<f64>>, m: &Matrix2<Complex<f64>>) -> f64 {
    (z.adjoint() * m * z).trace().re + (z - m).norm_squared()
}

#[test]
fn slice() {
    let (z, m) = (dmc::<f64>(3, 3, 1), dmc::<f64>(3, 3, 2));
    check!(quad(&z, &m) => quad_grad[z]);
    let (z, m) = (smc::<f64, 2, 2>(1), smc::<f64, 2, 2>(2));
    check!(quad2(&z, &m) => quad2_grad[z]);
}
