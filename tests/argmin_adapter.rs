//! matgrad's argmin adapter (`matgrad::argmin`, feature `argmin`) with generated gradients:
//! argmin's L-BFGS converges on the logistic regression of the shipped breast-cancer data (to the
//! optimum Newton's method finds with a hand-written Hessian), and on problems whose parameter is
//! a fixed-size vector or a `DMatrix`; argmin's trust-region method with the Steihaug subproblem
//! and the generated Hessian converges on the same logistic regression in fewer iterations than
//! L-BFGS.

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{
    CostFunction, Executor, Gradient, Hessian, IterState, State, TerminationReason,
    TerminationStatus, KV,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};
use matgrad::argmin::{to_param, Problem};
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Vector3};
use matgrad::{grad, hessian};

/// `(Σᵢ softplus(zᵢ) − zᵀy) / n + λ/2 ‖mask ∘ w‖²`, `z = X w`: the loss of the example.
#[grad(w)]
#[hessian(w)]
fn logistic_loss(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    mask: &DVector<f64>,
    lambda: f64,
    n: f64,
) -> f64 {
    let z = x * w;
    (z.map(matgrad::softplus).sum() - z.dot(y)) / n
        + 0.5 * lambda * w.component_mul(mask).norm_squared()
}

/// The same loss with the stable log-loss spelled out:
/// `softplus(v) = ln(1 + e^{−|v|}) + (v + |v|) / 2`.
#[grad(w)]
fn logistic_loss_abs(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    mask: &DVector<f64>,
    lambda: f64,
    n: f64,
) -> f64 {
    let z = x * w;
    (z.map(|v| ((-v.abs()).exp() + 1.0).ln() + (v + v.abs()) * 0.5)
        .sum()
        - z.dot(y))
        / n
        + 0.5 * lambda * w.component_mul(mask).norm_squared()
}

const LAMBDA: f64 = 1e-2;

/// The standardised breast-cancer features with a column of ones, the labels, and the penalty
/// mask (1 for the features, 0 for the intercept).
fn breast_cancer() -> (DMatrix<f64>, DVector<f64>, DVector<f64>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/breast_cancer.csv"
    );
    let mut reader = csv::Reader::from_path(path).expect("examples/data/breast_cancer.csv");
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.len(), 31);
    assert_eq!(&header[30], "target");
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record.unwrap();
        let row: Vec<f64> = record.iter().map(|f| f.parse().unwrap()).collect();
        features.extend_from_slice(&row[..30]);
        labels.push(row[30]);
    }
    assert_eq!(labels.len(), 569);
    let x = DMatrix::from_row_slice(569, 30, &features);
    let (mean, std) = (x.row_mean(), x.row_variance().map(f64::sqrt));
    let x = DMatrix::from_fn(569, 31, |i, j| {
        if j < 30 {
            (x[(i, j)] - mean[j]) / std[j]
        } else {
            1.0
        }
    });
    let mask = DVector::from_fn(31, |j, _| if j < 30 { 1.0 } else { 0.0 });
    (x, DVector::from_vec(labels), mask)
}

/// The minimiser by Newton's method, with the Hessian written by hand:
/// `Xᵀ diag(p ∘ (1 − p)) X / n + λ diag(mask)`, `p = σ(X w)`.
fn newton(x: &DMatrix<f64>, y: &DVector<f64>, mask: &DVector<f64>) -> DVector<f64> {
    let n = x.nrows() as f64;
    let mut w = DVector::zeros(x.ncols());
    for _ in 0..30 {
        let p = (x * &w).map(matgrad::sigmoid);
        let gradient = x.tr_mul(&(&p - y)) / n + mask.component_mul(&w) * LAMBDA;
        let weights = p.map(|p| p * (1.0 - p));
        let mut weighted = x.clone();
        for (mut row, &s) in weighted.row_iter_mut().zip(weights.iter()) {
            row *= s;
        }
        let hessian = x.tr_mul(&weighted) / n + DMatrix::from_diagonal(&(mask * LAMBDA));
        w -= hessian
            .cholesky()
            .expect("positive definite")
            .solve(&gradient);
    }
    w
}

#[test]
fn lbfgs_converges_on_logistic_regression() {
    let (x, y, mask) = breast_cancer();
    let n = x.nrows() as f64;
    let problem = Problem::new(|w: &DVector<f64>| logistic_loss_grad(w, &x, &y, &mask, LAMBDA, n));
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-8)
        .unwrap();
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; 31]).max_iters(200))
        .run()
        .unwrap();

    let state = &result.state;
    assert_eq!(
        state.get_termination_status(),
        &TerminationStatus::Terminated(TerminationReason::SolverConverged)
    );
    assert!(state.get_iter() < 100, "{} iterations", state.get_iter());
    let w = DVector::from_vec(state.get_best_param().unwrap().clone());
    let (loss, dw) = logistic_loss_grad(&w, &x, &y, &mask, LAMBDA, n);
    assert!(dw.norm() < 1e-7, "‖∇w‖ = {:e}", dw.norm());
    assert_eq!(loss, state.get_best_cost());

    // The same optimum as Newton's method with the hand-written Hessian.
    let w_newton = newton(&x, &y, &mask);
    assert!(
        (&w - &w_newton).norm() < 1e-5 * w_newton.norm(),
        "‖w − w_newton‖ = {:e}",
        (&w - &w_newton).norm()
    );

    // A classifier that works: on this data a regularised linear model separates ≥ 97 % of the
    // training samples.
    let z = &x * &w;
    let correct = z
        .iter()
        .zip(y.iter())
        .filter(|&(&z, &y)| (z >= 0.0) == (y == 1.0))
        .count();
    assert!(correct as f64 / n >= 0.97, "{correct} / {n} correct");

    // Each point was evaluated once, whatever argmin asked for.
    let problem = result.problem.problem.as_ref().unwrap();
    let counts = &result.problem.counts;
    assert!((problem.evaluations() as u64) < counts["cost_count"] + counts["gradient_count"]);
}

#[test]
fn adapter_answers_what_the_generated_function_returns() {
    let (x, y, mask) = breast_cancer();
    let n = x.nrows() as f64;
    let problem = Problem::new(|w: &DVector<f64>| logistic_loss_grad(w, &x, &y, &mask, LAMBDA, n));
    let w = DVector::from_fn(31, |j, _| ((j * 7) % 5) as f64 * 0.1 - 0.2);
    let (value, dw) = logistic_loss_grad(&w, &x, &y, &mask, LAMBDA, n);
    let p = to_param(&w);
    assert_eq!(problem.cost(&p).unwrap(), value);
    assert_eq!(problem.gradient(&p).unwrap(), dw.as_slice());
    assert_eq!(problem.point(&p).unwrap(), w);
    assert_eq!(value, logistic_loss(&w, &x, &y, &mask, LAMBDA, n));

    // The two stable forms of the log-loss agree, and so do their gradients.
    let (value_abs, dw_abs) = logistic_loss_abs_grad(&w, &x, &y, &mask, LAMBDA, n);
    assert_eq!(value_abs, logistic_loss_abs(&w, &x, &y, &mask, LAMBDA, n));
    assert!((value - value_abs).abs() < 1e-12);
    assert!((&dw - &dw_abs).norm() < 1e-12);
    matgrad::check_gradient(|w| logistic_loss(w, &x, &y, &mask, LAMBDA, n), &w, &dw)
        .assert_within(1e-6);
}

/// `tr(Sᵀ A S)`-style quadratic in a fixed-size vector: a stack-allocated parameter.
#[grad(v)]
fn shifted_quadratic(v: &Vector3<f64>, a: &Matrix3<f64>, c: &Vector3<f64>) -> f64 {
    let d = v - c;
    d.dot(&(a * d)) + d.map(|t| t.powi(4)).sum()
}

#[test]
fn lbfgs_with_a_fixed_size_parameter() {
    let a = Matrix3::new(3.0, 1.0, 0.0, 1.0, 2.0, 0.5, 0.0, 0.5, 1.0);
    let c = Vector3::new(1.0, -2.0, 0.5);
    let v0 = Vector3::new(0.3, 0.2, -0.1);
    let (_, dv) = shifted_quadratic_grad(&v0, &a, &c);
    matgrad::check_gradient(|v| shifted_quadratic(v, &a, &c), &v0, &dv).assert_within(1e-6);
    let problem = Problem::new(|v: &Vector3<f64>| shifted_quadratic_grad(v, &a, &c));
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5)
        .with_tolerance_grad(1e-10)
        .unwrap();
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; 3]).max_iters(100))
        .run()
        .unwrap();
    let v = result
        .problem
        .problem
        .as_ref()
        .unwrap()
        .point(result.state.get_best_param().unwrap())
        .unwrap();
    assert!((v - c).norm() < 1e-6, "{v}");
}

/// A symmetric factorisation `‖U Uᵀ − M‖²_F`: the parameter is a `DMatrix`.
#[grad(u)]
fn symmetric_factorisation(u: &DMatrix<f64>, m: &DMatrix<f64>) -> f64 {
    (u * u.transpose() - m).norm_squared()
}

#[test]
fn lbfgs_with_a_dynamic_matrix_parameter() {
    let u_true = DMatrix::from_fn(6, 2, |i, j| ((i + 3 * j) % 5) as f64 * 0.4 - 0.6);
    let m = &u_true * u_true.transpose();
    let problem = Problem::with_shape(6, 2, |u: &DMatrix<f64>| symmetric_factorisation_grad(u, &m));
    let u0 = DMatrix::from_fn(6, 2, |i, j| 0.1 * (i as f64 - 2.0 * j as f64));
    let (_, du) = symmetric_factorisation_grad(&u0, &m);
    matgrad::check_gradient(|u| symmetric_factorisation(u, &m), &u0, &du).assert_within(1e-6);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-10)
        .unwrap();
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(to_param(&u0)).max_iters(500))
        .run()
        .unwrap();
    let u = DMatrix::from_column_slice(6, 2, result.state.get_best_param().unwrap());
    // U is determined up to an orthogonal factor; U Uᵀ is not.
    assert!(
        (&u * u.transpose() - &m).norm() < 1e-6 * m.norm(),
        "{}",
        (&u * u.transpose() - &m).norm()
    );
}

/// The gradient norm after each iteration of a solver whose state carries the gradient.
#[derive(Clone, Default)]
struct GradientNorms(std::rc::Rc<std::cell::RefCell<Vec<f64>>>);

impl<H> Observe<IterState<Vec<f64>, Vec<f64>, (), H, (), f64>> for GradientNorms {
    fn observe_iter(
        &mut self,
        state: &IterState<Vec<f64>, Vec<f64>, (), H, (), f64>,
        _kv: &KV,
    ) -> Result<(), argmin::core::Error> {
        let g = state.get_gradient().expect("the solver keeps the gradient");
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.0.borrow_mut().push(norm);
        Ok(())
    }
}

#[test]
fn trust_region_with_the_generated_hessian_needs_fewer_iterations_than_lbfgs() {
    const TOLERANCE: f64 = 1e-8;
    let (x, y, mask) = breast_cancer();
    let n = x.nrows() as f64;

    // L-BFGS, stopping when ‖∇w‖ < TOLERANCE.
    let problem = Problem::new(|w: &DVector<f64>| logistic_loss_grad(w, &x, &y, &mask, LAMBDA, n));
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(TOLERANCE)
        .unwrap();
    let lbfgs = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; 31]).max_iters(200))
        .run()
        .unwrap();
    assert_eq!(
        lbfgs.state.get_termination_status(),
        &TerminationStatus::Terminated(TerminationReason::SolverConverged)
    );
    let lbfgs_iterations = lbfgs.state.get_iter() as usize;

    // Trust region with Steihaug's conjugate gradients on the Hessian `logistic_loss_hessian`
    // returns. argmin's trust-region method has no gradient test of its own, so the observer
    // records ‖∇w‖ after each iteration and the count is the first iteration below TOLERANCE.
    let problem =
        Problem::new(|w: &DVector<f64>| logistic_loss_hessian(w, &x, &y, &mask, LAMBDA, n));
    let norms = GradientNorms::default();
    let solver = TrustRegion::new(Steihaug::new()).with_radius(1.0).unwrap();
    let trust_region = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; 31]).max_iters(30))
        .add_observer(norms.clone(), ObserverMode::Always)
        .run()
        .unwrap();
    let norms = norms.0.borrow();
    let trust_region_iterations = 1 + norms
        .iter()
        .position(|&g| g < TOLERANCE)
        .unwrap_or_else(|| panic!("‖∇w‖ never fell below {TOLERANCE:e}: {norms:?}"));
    assert!(
        trust_region_iterations < lbfgs_iterations,
        "trust region {trust_region_iterations} iterations, L-BFGS {lbfgs_iterations}"
    );
    // Quadratic convergence at the end: far fewer, not just fewer (on this data 8 against 34).
    assert!(
        2 * trust_region_iterations < lbfgs_iterations,
        "trust region {trust_region_iterations} iterations, L-BFGS {lbfgs_iterations}"
    );

    // The same optimum.
    let w_lbfgs = DVector::from_vec(lbfgs.state.get_best_param().unwrap().clone());
    let w_tr = DVector::from_vec(trust_region.state.get_best_param().unwrap().clone());
    assert!(
        (&w_tr - &w_lbfgs).norm() < 1e-6 * w_lbfgs.norm(),
        "‖w_tr − w_lbfgs‖ = {:e}",
        (&w_tr - &w_lbfgs).norm()
    );

    // Every Hessian argmin received is the generated one; the problem answered value, gradient
    // and Hessian at a point from one evaluation.
    let counts = &trust_region.problem.counts;
    let problem = trust_region.problem.problem.as_ref().unwrap();
    let asked = counts["cost_count"] + counts["gradient_count"] + counts["hessian_count"];
    assert!(counts["hessian_count"] > 0);
    assert!((problem.evaluations() as u64) < asked);
    let (_, _, h) = logistic_loss_hessian(&w_tr, &x, &y, &mask, LAMBDA, n);
    let rows = problem.hessian(&to_param(&w_tr)).unwrap();
    for (i, row) in rows.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            assert_eq!(v, h[(i, j)]);
        }
    }
}
