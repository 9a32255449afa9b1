//! Helpers marked `#[matgrad::differentiable]`, called from annotated
//! functions: by name in the same module, through `use`, by path, from
//! other helpers; and calls of any function on constants only.

#![allow(dead_code)]

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, DVector, Matrix2, Matrix3, Vector2, Vector3};
use matgrad::{differentiable, grad, hessian, jacobian};

mod activations {
    use matgrad::differentiable;
    use matgrad::nalgebra::DVector;

    /// The logistic function, written as users write it.
    #[differentiable]
    pub fn logistic(z: f64) -> f64 {
        1.0 / (1.0 + (-z).exp())
    }

    /// Softmax of a vector; calls `exp_all`, a helper of its own module.
    #[differentiable]
    pub fn softmax(z: &DVector<f64>) -> DVector<f64> {
        let e = exp_all(z);
        let total = e.sum();
        e / total
    }

    #[differentiable]
    fn exp_all(z: &DVector<f64>) -> DVector<f64> {
        z.map(|v| v.exp())
    }
}

use activations::logistic;

#[grad(w)]
fn logistic_loss(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..x.nrows() {
        let p = logistic(x.row(i).transpose().dot(w));
        total -= y[i] * p.ln() + (1.0 - y[i]) * (1.0 - p).ln();
    }
    total
}

#[grad(z)]
fn cross_entropy(z: &DVector<f64>, target: usize) -> f64 {
    let p = activations::softmax(z);
    -p[target].ln()
}

/// Defined after its caller, in the same module.
#[grad(x)]
fn uses_later_helper(x: &Vector3<f64>) -> f64 {
    squared_sum(x) * 0.5 + cube(x[0])
}

#[differentiable]
fn squared_sum(v: &Vector3<f64>) -> f64 {
    v.norm_squared()
}

#[differentiable]
fn cube(s: f64) -> f64 {
    s * s * s
}

/// A helper generic over the scalar, with a loop and a branch.
#[differentiable]
fn huber<T: matgrad::nalgebra::RealField + Copy>(r: T, delta: T) -> T {
    if r.abs() <= delta {
        r * r * T::from_f64(0.5).unwrap()
    } else {
        delta * (r.abs() - delta * T::from_f64(0.5).unwrap())
    }
}

#[grad(w)]
fn huber_loss(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    let mut total = 0.0;
    for i in 0..r.len() {
        total += huber(r[i], 1.0);
    }
    total
}

/// A helper with a recurrence in it, called twice.
#[differentiable]
fn rollout(w: &Matrix2<f64>, h0: &Vector2<f64>, steps: usize) -> Vector2<f64> {
    let mut h = *h0;
    for _ in 0..steps {
        h = (w * h).map(|v| v.tanh());
    }
    h
}

#[hessian(w)]
fn rollout_loss(w: &Matrix2<f64>, h0: &Vector2<f64>) -> f64 {
    rollout(w, h0, 5).norm_squared() + rollout(w, &rollout(w, h0, 2), 3).sum()
}

#[jacobian(x)]
fn squashed(x: &Vector3<f64>) -> Vector3<f64> {
    x.map(logistic) * squared_sum(x)
}

/// The generic helper from an `f32` loss.
#[grad(w)]
fn huber_loss_f32(w: &DVector<f32>, x: &DMatrix<f32>, y: &DVector<f32>) -> f32 {
    let r = x * w - y;
    let mut total = 0.0;
    for i in 0..r.len() {
        total += huber(r[i], 0.5);
    }
    total
}

struct Model {
    x: DMatrix<f64>,
    y: DVector<f64>,
}

impl Model {
    /// A method whose loss calls helpers (its generated method asks for
    /// them inside its body, where an `impl` block allows no module).
    #[grad(w)]
    fn loss(&self, w: &DVector<f64>) -> f64 {
        let x: &DMatrix<f64> = &self.x;
        let y: &DVector<f64> = &self.y;
        let r = x * w - y;
        let mut total = 0.0;
        for i in 0..r.len() {
            total += huber(r[i], 1.0) + logistic(w[i % w.len()]);
        }
        total
    }
}

/// A helper passed to `map` by name, as the closure it stands for.
#[grad(x)]
fn mapped_helper(x: &DVector<f64>) -> f64 {
    x.map(logistic).sum() + x.map(cube).norm_squared()
}

/// Any function on constants only is a constant, marked or not.
fn log_gamma_half(n: usize) -> f64 {
    (0..n).map(|k| (k as f64 + 0.5).ln()).sum()
}

/// An associated function on constants: a constant too.
struct Config;

impl Config {
    fn weight(n: usize) -> f64 {
        1.0 / n as f64
    }
}

#[grad(x)]
fn weighted_sum(x: &DVector<f64>) -> f64 {
    Config::weight(x.len()) * x.map(|v| v.exp()).sum()
}

#[grad(x)]
fn with_constant_call(x: &DVector<f64>, n: usize) -> f64 {
    let c = log_gamma_half(n);
    let s = logistic(c);
    c * x.norm_squared() + s * x.sum()
}

#[hessian(x)]
fn hessian_through_helpers(x: &Matrix3<f64>) -> f64 {
    cube(x[(0, 1)]) * x[(2, 2)] + logistic(x.trace()) + huber(x[(1, 0)], 0.5)
}

#[test]
fn helper_imported_by_use_inside_a_loop() {
    let (w, x, y) = (
        dv::<f64>(4, 1),
        dm::<f64>(9, 4, 2),
        dv_pos::<f64>(9, 3) * 0.5,
    );
    check!(logistic_loss(&w, &x, &y) => logistic_loss_grad[w]);
}

#[test]
fn helper_by_path_calling_a_helper_of_its_module() {
    let z = dv::<f64>(5, 4) * 2.0;
    check!(cross_entropy(&z, 2) => cross_entropy_grad[z]);
    // The gradient of −ln softmax(z)ₜ is softmax(z) − eₜ.
    let (_, g) = cross_entropy_grad(&z, 2);
    let mut expected = activations::softmax(&z);
    expected[2] -= 1.0;
    assert!((g - expected).amax() < 1e-14);
}

#[test]
fn helpers_defined_after_their_caller() {
    let x = Vector3::new(0.3, -1.2, 2.0);
    check!(uses_later_helper(&x) => uses_later_helper_grad[x]);
    let (_, g) = uses_later_helper_grad(&x);
    assert_eq!(g, Vector3::new(0.3 + 3.0 * 0.09, -1.2, 2.0));
}

#[test]
fn generic_helper_with_a_branch() {
    let (w, x, y) = (dv::<f64>(3, 5), dm::<f64>(12, 3, 6), dv::<f64>(12, 7));
    check!(huber_loss(&w, &x, &y) => huber_loss_grad[w]);
}

#[test]
fn helper_passed_to_map() {
    let x = dv::<f64>(4, 11);
    check!(mapped_helper(&x) => mapped_helper_grad[x]);
}

#[test]
fn calls_on_constants_are_constants() {
    let x = dv::<f64>(3, 8);
    check!(with_constant_call(&x, 4) => with_constant_call_grad[x]);
    check!(weighted_sum(&x) => weighted_sum_grad[x]);
}

#[test]
fn hessian_through_helpers_matches_differences() {
    let x0: Matrix3<f64> = sm(9);
    let flat = |v: &DVector<f64>| Matrix3::from_column_slice(v.as_slice());
    let x = DVector::from_column_slice(x0.as_slice());
    let (value, g, h) = hessian_through_helpers_hessian(&x0);
    let h = DMatrix::from_column_slice(9, 9, h.as_slice());
    same_value("hessian value", value, hessian_through_helpers(&x0));
    fd("gradient", hessian_through_helpers, &x0, &g);
    let fd_h = fd_hessian(
        |p| DVector::from_column_slice(hessian_through_helpers_hessian(&flat(p)).1.as_slice()),
        &x,
    );
    assert_close(&h, &fd_h, 1e-6, "Hessian");
    assert_close(&h, &h.transpose(), 1e-10, "symmetry");
    let v: Matrix3<f64> = sm(10);
    let (_, _, hv) = hessian_through_helpers_hvp(&x0, &v);
    let hv = DMatrix::from_column_slice(9, 1, hv.as_slice());
    let expected = &h * DVector::from_column_slice(v.as_slice());
    assert_close(
        &hv,
        &DMatrix::from_column_slice(9, 1, expected.as_slice()),
        1e-10,
        "hvp",
    );
}

#[test]
fn helper_with_a_recurrence_hessian() {
    let (w, h0): (Matrix2<f64>, Vector2<f64>) = (sm(12), sm(13));
    let (value, g, h) = rollout_loss_hessian(&w, &h0);
    same_value("rollout", value, rollout_loss(&w, &h0));
    fd("rollout", |w: &Matrix2<f64>| rollout_loss(w, &h0), &w, &g);
    let flat = |p: &DVector<f64>| Matrix2::from_column_slice(p.as_slice());
    let fd_h = fd_hessian(
        |p| DVector::from_column_slice(rollout_loss_hessian(&flat(p), &h0).1.as_slice()),
        &DVector::from_column_slice(w.as_slice()),
    );
    let h = DMatrix::from_column_slice(4, 4, h.as_slice());
    assert_close(&h, &fd_h, 1e-6, "Hessian");
}

#[test]
fn jacobian_through_helpers() {
    let x: Vector3<f64> = sm(14);
    let (value, j) = squashed_jacobian(&x);
    assert_eq!(value, squashed(&x));
    let fd = fd_hessian(
        |p| {
            DVector::from_column_slice(
                squashed(&Vector3::from_column_slice(p.as_slice())).as_slice(),
            )
        },
        &DVector::from_column_slice(x.as_slice()),
    );
    assert_close(
        &DMatrix::from_column_slice(3, 3, j.as_slice()),
        &fd,
        1e-7,
        "Jacobian",
    );
}

#[test]
fn generic_helper_from_f32() {
    let (w, x, y) = (dv::<f32>(3, 15), dm::<f32>(10, 3, 16), dv::<f32>(10, 17));
    check!(huber_loss_f32(&w, &x, &y) => huber_loss_f32_grad[w]);
}

#[test]
fn method_calling_helpers() {
    let model = Model {
        x: dm(8, 3, 18),
        y: dv(8, 19),
    };
    let w = dv::<f64>(3, 20);
    let (value, g) = model.loss_grad(&w);
    same_value("method", value, model.loss(&w));
    fd("method", |w: &DVector<f64>| model.loss(w), &w, &g);
}
