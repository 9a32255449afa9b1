//! `map` closures that read values from around them, and `zip_map`: the
//! captured values (data or differentiated, scalars or entries) get their
//! gradients too. Value, gradient and Hessian-vector product against finite
//! differences; fixed and dynamic sizes, `f64` and `f32`.

#![allow(dead_code)]

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, RealField, Vector4};
use matgrad::{grad, hessian};

/// A softmax shifted by its maximum, as people write it.
#[grad(z)]
fn log_softmax_at(z: &DVector<f64>, target: usize) -> f64 {
    let m = z.max();
    let e = z.map(|v| (v - m).exp());
    z[target] - m - e.sum().ln()
}

/// A differentiated scalar and a matrix entry captured.
#[grad(x, beta)]
fn scaled_exp(x: &Matrix3<f64>, beta: f64) -> f64 {
    let corner = x[(2, 2)];
    x.map(|v| (v * beta).exp() * corner).sum() + beta * beta
}

/// Generic over the scalar, data captured.
#[grad(w)]
fn weighted<T: RealField + Copy>(w: &DVector<T>, scale: T, shift: T) -> T {
    w.map(|v| (v * scale + shift).tanh()).norm_squared()
}

#[grad(a, b)]
fn zipped(a: &DMatrix<f64>, b: &DMatrix<f64>, s: f64) -> f64 {
    a.zip_map(b, |p, q| p * q.sin() + s * p * p).sum()
}

#[grad(a)]
fn zipped_fixed(a: &Vector4<f32>, b: &Vector4<f32>) -> f32 {
    a.zip_map(b, |p, q| (p - q).powi(2)).sum()
}

#[hessian(x)]
fn capture_hessian(x: &DVector<f64>) -> f64 {
    let s = x.norm_squared();
    x.map(|v| (v * s).sin()).sum()
}

#[test]
fn softmax_with_a_shift() {
    let z = dv::<f64>(5, 1) * 3.0;
    check!(log_softmax_at(&z, 3) => log_softmax_at_grad[z]);
}

#[test]
fn captured_scalar_and_entry() {
    let (x, beta): (Matrix3<f64>, f64) = (sm(2), 0.7);
    check!(scaled_exp(&x, beta) => scaled_exp_grad[x, beta]);
}

#[test]
fn generic_with_captured_data() {
    let w = dv::<f64>(4, 3);
    check!(weighted(&w, 0.8, -0.2) => weighted_grad[w]);
    let w = dv::<f32>(4, 3);
    check!(weighted(&w, 0.8f32, -0.2f32) => weighted_grad[w]);
}

#[test]
fn zip_map_of_two_differentiated() {
    let (a, b) = (dm::<f64>(3, 4, 4), dm::<f64>(3, 4, 5));
    check!(zipped(&a, &b, 0.3) => zipped_grad[a, b]);
}

#[test]
fn zip_map_fixed_f32() {
    let (a, b): (Vector4<f32>, Vector4<f32>) = (sm(6), sm(7));
    check!(zipped_fixed(&a, &b) => zipped_fixed_grad[a]);
}

#[test]
fn hessian_through_a_capture() {
    let x = dv::<f64>(4, 8);
    let (_, _, h) = capture_hessian_hessian(&x);
    let fd = fd_hessian(|p| capture_hessian_hessian(p).1, &x);
    assert_close(&h, &fd, 1e-6, "Hessian");
    let v = dv::<f64>(4, 9);
    let (_, _, hv) = capture_hessian_hvp(&x, &v);
    let hv = DMatrix::from_column_slice(4, 1, hv.as_slice());
    let expected = &h * &v;
    assert_close(
        &hv,
        &DMatrix::from_column_slice(4, 1, expected.as_slice()),
        1e-10,
        "hvp",
    );
}

/// A capturing closure inside sum loops and a nested loop (the reverse loop of
/// the closure's entries adds into the accumulators of the loops around it).
#[grad(y, t)]
fn captured_in_loops(a: &DMatrix<f64>, q: &DMatrix<f64>, y: &DMatrix<f64>, t: f64) -> f64 {
    let mut w0 = 0.5;
    for &e in a.iter() {
        let mut u0 = 0.0;
        for i in 1..=4 {
            u0 -= (q - y).map(|v| (v * t * e).sin()).norm() * i as f64;
        }
        w0 += u0;
    }
    w0
}

#[grad(y, t)]
fn captured_in_a_recurrence(y: &Vector4<f64>, t: f64) -> f64 {
    let mut h = *y;
    for _ in 0..5 {
        h = h.map(|v| (v * t).tanh()) + y * 0.5;
    }
    h.norm_squared()
}

#[grad(y, t)]
fn captured_in_a_dynamic_recurrence(y: &DVector<f64>, t: f64) -> f64 {
    let mut h = y.clone();
    for _ in 0..5 {
        h = h.map(|v| (v * t).tanh()) + y * 0.5;
    }
    h.norm_squared()
}

#[test]
fn captures_inside_loops() {
    for seed in 0..10 {
        let (a, q, y) = (
            dm::<f64>(2, 3, 10 + seed),
            dm::<f64>(3, 2, 20 + seed),
            dm::<f64>(3, 2, 30 + seed),
        );
        let t = 0.3 + 0.1 * seed as f64;
        check!(captured_in_loops(&a, &q, &y, t) => captured_in_loops_grad[y, t]);
        let y: Vector4<f64> = sm(40 + seed);
        check!(captured_in_a_recurrence(&y, t) => captured_in_a_recurrence_grad[y, t]);
        let y = dv::<f64>(6, 50 + seed);
        check!(captured_in_a_dynamic_recurrence(&y, t) => captured_in_a_dynamic_recurrence_grad[y, t]);
    }
}

/// `|v| v * beta`: the closure's derivative is the capture itself, so the
/// adjoint is a scaling (and `beta`'s gradient a sum).
#[grad(x, beta)]
fn captured_factor(x: &DVector<f64>, beta: f64) -> f64 {
    x.map(|v| v * beta).map(|v| v.sin()).sum()
}

/// One entry of a map that captures: the closure at that entry, no vector.
#[grad(z)]
fn entry_of_a_capturing_map(z: &Vector4<f32>, i: usize) -> f32 {
    let m = z.max();
    let log_total = m + z.map(|v| (v - m).exp()).sum().ln();
    z.map(|v| v - log_total)[i]
}

/// A loop's index, cast, captured in every iteration.
#[grad(x)]
fn captured_index(x: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..3 {
        total += x.map(|v| (v * (i as f64 + 0.5)).cos()).sum();
    }
    total
}

/// Second derivatives through a capture that depends on the parameter, and
/// through the entry of a capturing map.
#[hessian(z)]
fn capture_hessian_entry(z: &DVector<f64>) -> f64 {
    let m = z.max();
    let log_total = m + z.map(|v| (v - m).exp()).sum().ln();
    z.map(|v| (v - log_total).powi(2))[1] + z.map(|v| (v * m).sin()).sum()
}

#[test]
fn captures_read_as_maps() {
    for seed in 0..5 {
        let x = dv::<f64>(5, 60 + seed);
        let beta = 0.4 + 0.2 * seed as f64;
        check!(captured_factor(&x, beta) => captured_factor_grad[x, beta]);
        check!(captured_index(&x) => captured_index_grad[x]);
        let z: Vector4<f32> = sm(70 + seed);
        check!(entry_of_a_capturing_map(&z, 2) => entry_of_a_capturing_map_grad[z]);
    }
}

#[test]
fn hessian_through_a_captured_parameter_and_an_entry() {
    let z = dv::<f64>(4, 80) * 2.0;
    let (value, grad, h) = capture_hessian_entry_hessian(&z);
    same_value("capture_hessian_entry", value, capture_hessian_entry(&z));
    fd(
        "gradient",
        |z: &DVector<f64>| capture_hessian_entry(z),
        &z,
        &grad,
    );
    let fd_h = fd_hessian(|p| capture_hessian_entry_hessian(p).1, &z);
    assert_close(&h, &fd_h, 1e-6, "Hessian");
    assert_close(&h, &h.transpose(), 1e-12, "symmetric");
    let v = dv::<f64>(4, 81);
    let (_, _, hv) = capture_hessian_entry_hvp(&z, &v);
    let expected = &h * &v;
    assert_close(
        &DMatrix::from_column_slice(4, 1, hv.as_slice()),
        &DMatrix::from_column_slice(4, 1, expected.as_slice()),
        1e-10,
        "hvp",
    );
}
