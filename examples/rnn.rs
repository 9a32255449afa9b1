//! A recurrent network fitted by gradient descent: the loss is a `for` loop over time steps.
//!
//! Run with `cargo run --release --example rnn`.
//!
//! 1. A "teacher" RNN with random weights, `hₜ₊₁ = tanh.(W hₜ + U xₜ)`, output `yₜ = cᵀhₜ₊₁`,
//!    4 hidden units and 2 inputs, is run on a random input sequence of 100 steps; its outputs
//!    are the targets.
//! 2. A "student" RNN of the same shape, started from other random weights, is fitted to them.
//!    Its loss, the mean squared error of the outputs over the sequence, is written as a plain
//!    loop that carries the hidden state from step to step; `#[grad(w, u, c)]` derives its
//!    gradient (backpropagation through time: a reverse loop over the steps).
//! 3. Adam (learning rate 0.02) for 1500 steps, printing the loss.
//! 4. The generated gradients are compared with central finite differences by
//!    `matgrad::check_gradient`, at the initial weights.
//!
//! The program exits with an error if the loss does not go down by a factor 10 or a gradient
//! check fails.

use matgrad::grad;
use matgrad::nalgebra::{Matrix4, Matrix4x2, Vector2, Vector4};

mod support;
use support::Rng;

/// Mean squared error of the outputs `cᵀhₜ₊₁` against `ys`, from the state `h0` (a constant:
/// the body cannot construct a matrix, so the zero state is passed in).
#[grad(w, u, c)]
fn sequence_loss(
    w: &Matrix4<f64>,
    u: &Matrix4x2<f64>,
    c: &Vector4<f64>,
    h0: &Vector4<f64>,
    xs: &[Vector2<f64>],
    ys: &[f64],
) -> f64 {
    let mut h = *h0;
    let mut total = 0.0;
    for (t, x) in xs.iter().enumerate() {
        h = (w * h + u * x).map(|v| v.tanh());
        let e = h.dot(c) - ys[t];
        total += e * e;
    }
    total / xs.len() as f64
}

/// The outputs `cᵀhₜ₊₁` of the network on `xs`.
fn run(w: &Matrix4<f64>, u: &Matrix4x2<f64>, c: &Vector4<f64>, xs: &[Vector2<f64>]) -> Vec<f64> {
    let mut h = Vector4::zeros();
    xs.iter()
        .map(|x| {
            h = (w * h + u * x).map(f64::tanh);
            h.dot(c)
        })
        .collect()
}

/// Adam's moment estimates for a flat parameter vector.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPSILON: f64 = 1e-8;

    /// Step `t` (from 1) with learning rate `lr`.
    fn step(&mut self, param: &mut [f64], grad: &[f64], lr: f64, t: i32) {
        let (c1, c2) = (1.0 - Self::BETA1.powi(t), 1.0 - Self::BETA2.powi(t));
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            *m = Self::BETA1 * *m + (1.0 - Self::BETA1) * g;
            *v = Self::BETA2 * *v + (1.0 - Self::BETA2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + Self::EPSILON);
        }
    }
}

fn main() {
    const STEPS: usize = 100;
    const ITERATIONS: i32 = 1500;
    const LEARNING_RATE: f64 = 0.02;

    // --- Data: a random input sequence and the teacher's outputs on it.
    let mut rng = Rng::new(7);
    let mut gaussian = |scale: f64| scale * rng.gaussian();
    let teacher_w = Matrix4::from_fn(|_, _| gaussian(0.5));
    let teacher_u = Matrix4x2::from_fn(|_, _| gaussian(0.8));
    let teacher_c = Vector4::from_fn(|_, _| gaussian(1.0));
    let xs: Vec<Vector2<f64>> = (0..STEPS)
        .map(|_| Vector2::from_fn(|_, _| gaussian(1.0)))
        .collect();
    let ys = run(&teacher_w, &teacher_u, &teacher_c, &xs);

    // --- The student, from other random weights.
    let mut w = Matrix4::from_fn(|_, _| gaussian(0.3));
    let mut u = Matrix4x2::from_fn(|_, _| gaussian(0.3));
    let mut c = Vector4::from_fn(|_, _| gaussian(0.3));
    println!(
        "teacher–student RNN: 4 hidden units (tanh), 2 inputs, {STEPS} time steps; \
         {} parameters fitted by Adam\n",
        w.len() + u.len() + c.len()
    );

    let h0 = Vector4::zeros();

    // --- Generated gradients against finite differences, at the initial weights.
    let (_, dw, du, dc) = sequence_loss_grad(&w, &u, &c, &h0, &xs, &ys);
    let reports = [
        matgrad::check_gradient(|w| sequence_loss(w, &u, &c, &h0, &xs, &ys), &w, &dw),
        matgrad::check_gradient(|u| sequence_loss(&w, u, &c, &h0, &xs, &ys), &u, &du),
        matgrad::check_gradient(|c| sequence_loss(&w, &u, c, &h0, &xs, &ys), &c, &dc),
    ];

    // --- Training: the three parameters as one flat vector for Adam.
    let mut adam = Adam {
        m: vec![0.0; 28],
        v: vec![0.0; 28],
    };
    println!("{:>9}  {:>10}", "iteration", "loss");
    let mut first_loss = f64::NAN;
    let mut last_loss = f64::NAN;
    for it in 0..=ITERATIONS {
        let (loss, dw, du, dc) = sequence_loss_grad(&w, &u, &c, &h0, &xs, &ys);
        if it == 0 {
            first_loss = loss;
        }
        last_loss = loss;
        if it % 100 == 0 {
            println!("{it:>9}  {loss:>10.6}");
        }
        if it == ITERATIONS {
            break;
        }
        let mut params: Vec<f64> = w.iter().chain(u.iter()).chain(c.iter()).copied().collect();
        let grad: Vec<f64> = dw
            .iter()
            .chain(du.iter())
            .chain(dc.iter())
            .copied()
            .collect();
        adam.step(&mut params, &grad, LEARNING_RATE, it + 1);
        w.as_mut_slice().copy_from_slice(&params[..16]);
        u.as_mut_slice().copy_from_slice(&params[16..24]);
        c.as_mut_slice().copy_from_slice(&params[24..]);
    }

    let mean_square = ys.iter().map(|y| y * y).sum::<f64>() / STEPS as f64;
    println!(
        "\nloss {first_loss:.4} → {last_loss:.6} (mean square of the targets {mean_square:.4})"
    );
    println!(
        "generated gradients vs central finite differences at the initial weights: max relative \
         error {:.2e} (∇W), {:.2e} (∇U), {:.2e} (∇c) (tolerance 1e-6)",
        reports[0].max_rel_error, reports[1].max_rel_error, reports[2].max_rel_error
    );

    assert!(
        last_loss < first_loss / 10.0,
        "the loss did not go down by a factor 10: {first_loss} → {last_loss}"
    );
    for report in &reports {
        report.assert_within(1e-6);
    }
}
