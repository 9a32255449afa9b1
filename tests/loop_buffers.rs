//! Loops with dynamic sizes keep buffers from one iteration to the next: a
//! map's adjoint and a product write into the buffer their previous
//! iteration's result left, and a value replacing a carried value takes the
//! carried value's old buffer in exchange (`__private::zip_map_into`,
//! `mul_into`, `tr_mul_into`). Each case checks value and gradients against
//! finite differences, in f64 and f32.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Vector2};

/// The reverse loop's `δ = h̄ ∘ (1 − h²)` and `h̄ ← Wᵀδ` into kept buffers.
#[grad(w, u, h0)]
fn rnn_f32(w: &DMatrix<f32>, u: &DMatrix<f32>, h0: &DVector<f32>, xs: &[Vector2<f32>]) -> f32 {
    let mut h = h0.clone();
    for x in xs.iter() {
        h = (w * &h + u * x).map(|v| v.tanh());
    }
    h.norm_squared()
}

#[test]
fn recurrence_f32() {
    let (w, u, h0) = (dm::<f32>(4, 4, 1), dm::<f32>(4, 2, 2), dv::<f32>(4, 3));
    let xs: Vec<Vector2<f32>> = (0..6).map(|t| sm(40 + t)).collect();
    check!(rnn_f32(&w, &u, &h0, &xs) => rnn_f32_grad[w, u, h0]);
}

/// A matrix state, `H ← tanh.(W H)`, wide enough (7 × 7) that `Wᵀ Δ` is a
/// blocked `gemm` on a transposed view, written into the kept buffer.
#[grad(w, h0)]
fn matrix_state(w: &DMatrix<f64>, h0: &DMatrix<f64>, steps: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = (w * &h).map(|v| v.tanh());
    }
    h.norm_squared()
}

#[test]
fn matrix_recurrence_blocked() {
    let (w, h0) = (dm::<f64>(7, 7, 5) * 0.5, dm::<f64>(7, 7, 6));
    check!(matrix_state(&w, &h0, 4) => matrix_state_grad[w, h0]);
}

/// A linear recurrence differentiated in its start only: no tape, so the
/// forward `Aᵀ h` and the reverse `A h̄` each take the buffer of the state
/// they replace.
#[grad(h0)]
fn linear(a: &DMatrix<f64>, h0: &DVector<f64>, steps: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = a.transpose() * &h;
    }
    h.norm_squared()
}

#[grad(h0)]
fn linear_f32(a: &DMatrix<f32>, h0: &DVector<f32>, steps: usize) -> f32 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = a.transpose() * &h;
    }
    h.norm_squared()
}

#[test]
fn linear_recurrence() {
    let (a, h0) = (dm::<f64>(5, 5, 7) * 0.6, dv::<f64>(5, 8));
    check!(linear(&a, &h0, 5) => linear_grad[h0]);
    let (a, h0) = (dm::<f32>(5, 5, 7) * 0.6, dv::<f32>(5, 8));
    check!(linear_f32(&a, &h0, 5) => linear_f32_grad[h0]);
    // No steps: the state is the start.
    let (a, h0) = (dm::<f64>(3, 3, 9), dv::<f64>(3, 10));
    check!(linear(&a, &h0, 0) => linear_grad[h0]);
}

/// A map whose derivative reads its argument (`(sin v · v)′ = cos v · v +
/// sin v`): the reverse loop computes `W h` again, into a kept buffer, for
/// the adjoint `h̄ ∘ f′.(W h)`.
#[grad(w, h0)]
fn sine_state(w: &DMatrix<f64>, h0: &DVector<f64>, steps: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = (w * &h).map(|v| v.sin() * v);
    }
    h.sum()
}

#[test]
fn map_reading_its_argument() {
    let (w, h0) = (dm::<f64>(4, 4, 11), dv::<f64>(4, 12));
    check!(sine_state(&w, &h0, 5) => sine_state_grad[w, h0]);
}

/// A map whose derivative reads both its argument and its result
/// (`(e^{−v²})′ = −2v e^{−v²}`): the adjoint reads two matrices besides `h̄`
/// (`zip_zip_map_into`).
#[grad(w, h0)]
fn bump(w: &DMatrix<f64>, h0: &DVector<f64>, steps: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = (w * &h).map(|v| (-v * v).exp());
    }
    h.sum()
}

#[grad(w, h0)]
fn bump_f32(w: &DMatrix<f32>, h0: &DVector<f32>, steps: usize) -> f32 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = (w * &h).map(|v| (-v * v).exp());
    }
    h.sum()
}

#[test]
fn map_reading_its_argument_and_result() {
    let (w, h0) = (dm::<f64>(4, 4, 13), dv::<f64>(4, 14));
    check!(bump(&w, &h0, 4) => bump_grad[w, h0]);
    let (w, h0) = (dm::<f32>(4, 4, 13), dv::<f32>(4, 14));
    check!(bump_f32(&w, &h0, 4) => bump_f32_grad[w, h0]);
}
