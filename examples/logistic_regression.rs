//! Logistic regression on the Breast Cancer Wisconsin (Diagnostic) data, trained with argmin's
//! L-BFGS through matgrad's argmin adapter, then with argmin's trust-region method on the
//! generated Hessian.
//!
//! Run with `cargo run --release --example logistic_regression`.
//!
//! 1. `examples/data/breast_cancer.csv` (569 tumours × 30 features, label `target`: 0 malignant,
//!    1 benign; source and licence in `examples/data/README.md`) is read with the `csv` crate.
//! 2. A seeded shuffle splits it 80 % / 20 % into training and test sets; every feature is
//!    standardised with the training set's mean and standard deviation, and a column of ones is
//!    appended for the intercept.
//! 3. The L2-regularised mean logistic loss is written once in plain nalgebra; `#[grad(w)]`
//!    generates `logistic_loss_grad` and `#[hessian(w)]` `logistic_loss_hessian`. The log-loss
//!    uses `matgrad::softplus` (`ln(1 + eᶻ)` without overflow), which `#[grad]` knows how to
//!    differentiate.
//! 4. `matgrad::argmin::Problem` hands `logistic_loss_grad` to argmin's L-BFGS (More–Thuente line
//!    search); an observer prints the loss at every iteration.
//! 5. Accuracy on the training and test sets, and the generated gradient against central finite
//!    differences.
//! 6. The same problem built from `logistic_loss_hessian` goes to argmin's trust-region method
//!    with Steihaug's conjugate-gradient subproblem, which uses the Hessian: it reaches the same
//!    gradient tolerance in fewer iterations, each dearer (a 31 × 31 Hessian per point).
//!
//! The program exits with an error if either solver does not converge or disagrees with the
//! other, if the trust-region method needs as many iterations as L-BFGS, if the test accuracy is
//! below 90 %, or if the gradient check fails.

use std::error::Error;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, IterState, Solver, State, TerminationReason, TerminationStatus, KV};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};
use matgrad::argmin::Problem;
use matgrad::nalgebra::{DMatrix, DVector};
use matgrad::{grad, hessian};

mod support;
use support::Rng;

/// Mean logistic loss with an L2 penalty on the weights (not on the intercept, whose `mask`
/// entry is 0): `(Σᵢ softplus(zᵢ) − zᵀy) / n + λ/2 ‖mask ∘ w‖²`, with `z = X w`.
///
/// For a label `y ∈ {0, 1}` and `p = σ(z)`, `softplus(z) − y z = −y ln p − (1 − y) ln(1 − p)`.
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

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/data/breast_cancer.csv"
);

/// A labelled dataset.
struct Dataset {
    /// The feature names, in column order.
    names: Vec<String>,
    /// One row per sample.
    x: DMatrix<f64>,
    /// The labels, 0 or 1.
    y: DVector<f64>,
}

/// Reads a CSV file with a header row; the column named `target` holds the labels.
fn read_csv(path: &str) -> Result<Dataset, Box<dyn Error>> {
    let mut reader = csv::Reader::from_path(path)?;
    let header = reader.headers()?.clone();
    let label = header
        .iter()
        .position(|h| h == "target")
        .ok_or("no `target` column")?;
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != label)
        .map(|(_, h)| h.to_string())
        .collect();
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record?;
        for (j, field) in record.iter().enumerate() {
            let value: f64 = field.parse()?;
            if j == label {
                labels.push(value);
            } else {
                features.push(value);
            }
        }
    }
    let x = DMatrix::from_row_slice(labels.len(), names.len(), &features);
    Ok(Dataset {
        names,
        x,
        y: DVector::from_vec(labels),
    })
}

/// The state of argmin's gradient-based solvers on `Vec<f64>`; `H` is the Hessian's type (`()`
/// for L-BFGS, its rows for the trust-region method).
type SolverState<H> = IterState<Vec<f64>, Vec<f64>, (), H, (), f64>;

/// Prints the loss and the gradient norm at every iteration.
struct Progress;

impl<H> Observe<SolverState<H>> for Progress {
    /// The starting point, as iteration 0.
    fn observe_init(
        &mut self,
        _name: &str,
        state: &SolverState<H>,
        _kv: &KV,
    ) -> Result<(), argmin::core::Error> {
        println!("{:>9}  {:>14}  {:>10}", "iteration", "loss", "‖∇w‖");
        print_row(0, state);
        Ok(())
    }

    /// argmin counts iterations from 0 and calls this before counting the one just done.
    fn observe_iter(
        &mut self,
        state: &SolverState<H>,
        _kv: &KV,
    ) -> Result<(), argmin::core::Error> {
        print_row(state.get_iter() + 1, state);
        Ok(())
    }
}

fn gradient_norm<H>(state: &SolverState<H>) -> f64 {
    state
        .get_gradient()
        .map_or(f64::NAN, |g| g.iter().map(|v| v * v).sum::<f64>().sqrt())
}

fn print_row<H>(iteration: u64, state: &SolverState<H>) {
    println!(
        "{iteration:>9}  {:>14.10}  {:>10.3e}",
        state.get_cost(),
        gradient_norm(state)
    );
}

/// A solver that stops when the gradient norm is below `tolerance`, as L-BFGS's
/// `with_tolerance_grad` does. (argmin's trust-region method has no such test of its own.)
struct UntilGradient<S> {
    solver: S,
    tolerance: f64,
}

impl<O, H, S: Solver<O, SolverState<H>>> Solver<O, SolverState<H>> for UntilGradient<S> {
    fn name(&self) -> &str {
        self.solver.name()
    }

    fn init(
        &mut self,
        problem: &mut argmin::core::Problem<O>,
        state: SolverState<H>,
    ) -> Result<(SolverState<H>, Option<KV>), argmin::core::Error> {
        self.solver.init(problem, state)
    }

    fn next_iter(
        &mut self,
        problem: &mut argmin::core::Problem<O>,
        state: SolverState<H>,
    ) -> Result<(SolverState<H>, Option<KV>), argmin::core::Error> {
        self.solver.next_iter(problem, state)
    }

    fn terminate(&mut self, state: &SolverState<H>) -> TerminationStatus {
        if gradient_norm(state) < self.tolerance {
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        } else {
            self.solver.terminate(state)
        }
    }
}

/// Fraction of samples whose predicted class (`z ≥ 0` ⇒ 1) is their label.
fn accuracy(x: &DMatrix<f64>, y: &DVector<f64>, w: &DVector<f64>) -> f64 {
    let z = x * w;
    let correct = z
        .iter()
        .zip(y.iter())
        .filter(|&(&z, &y)| (z >= 0.0) == (y == 1.0))
        .count();
    correct as f64 / y.len() as f64
}

fn main() -> Result<(), Box<dyn Error>> {
    const TEST_FRACTION: f64 = 0.2;
    const LAMBDA: f64 = 1e-2;
    const SEED: u64 = 7;
    const TOLERANCE: f64 = 1e-8;

    // --- Data.
    let Dataset {
        names,
        x: x_all,
        y: y_all,
    } = read_csv(DATA)?;
    let (samples, features) = x_all.shape();
    println!(
        "Breast Cancer Wisconsin (Diagnostic): {samples} samples × {features} features, {} benign \
         (1), {} malignant (0)",
        y_all.sum(),
        samples as f64 - y_all.sum()
    );

    // --- Seeded train/test split.
    let mut rng = Rng::new(SEED);
    let order = rng.permutation(samples);
    let n_test = (samples as f64 * TEST_FRACTION).round() as usize;
    let (test_rows, train_rows) = order.split_at(n_test);
    let rows = |idx: &[usize]| x_all.select_rows(idx);
    let (x_train, x_test) = (rows(train_rows), rows(test_rows));
    let y_train = DVector::from_iterator(train_rows.len(), train_rows.iter().map(|&i| y_all[i]));
    let y_test = DVector::from_iterator(test_rows.len(), test_rows.iter().map(|&i| y_all[i]));

    // --- Standardise with the training statistics, then append the intercept column.
    let mean = x_train.row_mean();
    let std = x_train.row_variance().map(f64::sqrt);
    let standardise = |x: &DMatrix<f64>| {
        let mut z = DMatrix::from_fn(x.nrows(), features + 1, |_, _| 1.0);
        for j in 0..features {
            for i in 0..x.nrows() {
                z[(i, j)] = (x[(i, j)] - mean[j]) / std[j];
            }
        }
        z
    };
    let (x_train, x_test) = (standardise(&x_train), standardise(&x_test));
    let n = x_train.nrows() as f64;
    let mask = DVector::from_fn(features + 1, |j, _| if j < features { 1.0 } else { 0.0 });
    println!(
        "training set {} samples, test set {} (seed {SEED}); features standardised with the \
         training mean and standard deviation; λ = {LAMBDA}\n",
        x_train.nrows(),
        x_test.nrows()
    );

    // --- L-BFGS through the adapter.
    let problem = Problem::new(|w: &DVector<f64>| {
        logistic_loss_grad(w, &x_train, &y_train, &mask, LAMBDA, n)
    });
    let w0 = vec![0.0; features + 1];
    println!("L-BFGS (memory 10), gradient from logistic_loss_grad:");
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10).with_tolerance_grad(TOLERANCE)?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(w0).max_iters(200))
        .add_observer(Progress, ObserverMode::Always)
        .run()?;
    let state = &result.state;
    let status = state.get_termination_status().clone();
    let w = DVector::from_vec(state.get_best_param().ok_or("no parameter")?.clone());
    let evaluations = result
        .problem
        .problem
        .as_ref()
        .map_or(0, |p| p.evaluations());
    println!(
        "\n{status}: {} iterations, {evaluations} evaluations of logistic_loss_grad (argmin asked \
         for {} costs and {} gradients)",
        state.get_iter(),
        result.problem.counts.get("cost_count").unwrap_or(&0),
        result.problem.counts.get("gradient_count").unwrap_or(&0),
    );

    // --- Metrics.
    let (train_loss, dw) = logistic_loss_grad(&w, &x_train, &y_train, &mask, LAMBDA, n);
    let (train_acc, test_acc) = (
        accuracy(&x_train, &y_train, &w),
        accuracy(&x_test, &y_test, &w),
    );
    let test_loss = logistic_loss(&w, &x_test, &y_test, &mask, 0.0, x_test.nrows() as f64);
    println!(
        "training loss {train_loss:.6} (‖∇w‖ = {:.2e}), test log-loss {test_loss:.4}",
        dw.norm()
    );
    println!(
        "accuracy: training {:.2} % ({} samples), test {:.2} % ({} samples)",
        100.0 * train_acc,
        x_train.nrows(),
        100.0 * test_acc,
        x_test.nrows()
    );
    let mut largest: Vec<usize> = (0..features).collect();
    largest.sort_by(|&a, &b| w[b].abs().total_cmp(&w[a].abs()));
    println!("largest weights (standardised features; positive = towards benign):");
    for &j in &largest[..5] {
        println!("  {:>24}  {:+.3}", names[j], w[j]);
    }

    // --- Generated gradient against finite differences, at a random point.
    let w_check = DVector::from_fn(features + 1, |_, _| 0.5 * rng.symmetric());
    let (_, dw) = logistic_loss_grad(&w_check, &x_train, &y_train, &mask, LAMBDA, n);
    let report = matgrad::check_gradient(
        |w| logistic_loss(w, &x_train, &y_train, &mask, LAMBDA, n),
        &w_check,
        &dw,
    );
    println!(
        "\ngenerated gradient vs central finite differences at a random w: max relative error \
         {:.2e} over {} entries (tolerance 1e-6)",
        report.max_rel_error, report.entries
    );

    // --- The trust-region method with the generated Hessian.
    println!("\ntrust region (Steihaug), gradient and Hessian from logistic_loss_hessian:");
    let problem = Problem::new(|w: &DVector<f64>| {
        logistic_loss_hessian(w, &x_train, &y_train, &mask, LAMBDA, n)
    });
    let solver = UntilGradient {
        solver: TrustRegion::new(Steihaug::new()).with_radius(1.0)?,
        tolerance: TOLERANCE,
    };
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; features + 1]).max_iters(100))
        .add_observer(Progress, ObserverMode::Always)
        .run()?;
    let tr_state = &result.state;
    let tr_status = tr_state.get_termination_status().clone();
    let w_tr = DVector::from_vec(tr_state.get_best_param().ok_or("no parameter")?.clone());
    let tr_evaluations = result
        .problem
        .problem
        .as_ref()
        .map_or(0, |p| p.evaluations());
    let distance = (&w_tr - &w).norm() / w.norm();
    println!(
        "\n{tr_status}: {} iterations, {tr_evaluations} evaluations of logistic_loss_hessian \
         (argmin asked for {} costs, {} gradients and {} Hessians); ‖w_tr − w_lbfgs‖ / ‖w_lbfgs‖ \
         = {distance:.1e}",
        tr_state.get_iter(),
        result.problem.counts.get("cost_count").unwrap_or(&0),
        result.problem.counts.get("gradient_count").unwrap_or(&0),
        result.problem.counts.get("hessian_count").unwrap_or(&0),
    );

    assert!(
        matches!(
            status,
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        ),
        "L-BFGS did not converge: {status}"
    );
    assert!(
        matches!(
            tr_status,
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        ),
        "the trust-region method did not converge: {tr_status}"
    );
    assert!(
        tr_state.get_iter() < state.get_iter(),
        "trust region {} iterations, L-BFGS {}",
        tr_state.get_iter(),
        state.get_iter()
    );
    assert!(distance < 1e-6, "the two solvers disagree: {distance:e}");
    assert!(test_acc >= 0.9, "test accuracy {test_acc} is below 90 %");
    report.assert_within(1e-6);
    Ok(())
}
