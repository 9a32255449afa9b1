//! A two-layer neural network, `W₂ tanh.(W₁ X + b₁ 1ᵀ) + b₂ 1ᵀ`, trained full-batch with Adam on
//! Fisher's iris data.
//!
//! Run with `cargo run --release --example mlp`.
//!
//! 1. `examples/data/iris.csv` (150 flowers × 4 measurements, label `target`: 0 setosa,
//!    1 versicolor, 2 virginica; source and licence in `examples/data/README.md`) is read with
//!    the `csv` crate and split 80 % / 20 % by a seeded shuffle, stratified by class; the features are standardised
//!    with the training statistics.
//! 2. The samples are the columns of `X` (4 × n), the one-hot labels the columns of `Y` (3 × n).
//!    The biases are added to every column through an outer product with a row of ones,
//!    `b 1ᵀ`, passed in as a parameter. The loss is the mean squared error on the one-hot
//!    targets, written once in plain nalgebra; `#[grad(w1, b1, w2, b2)]` derives all four
//!    gradients in one function.
//! 3. Adam (learning rate 0.01) for 1000 full-batch steps, printing the loss and the accuracy.
//! 4. The generated gradients are compared with central finite differences.
//!
//! The program exits with an error if the test accuracy is below 90 % or a gradient check fails.

use std::error::Error;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, RowDVector};

mod support;
use support::{read_csv, Rng, IRIS};

/// Mean (over samples) squared error of a two-layer tanh network on one-hot targets.
#[allow(clippy::too_many_arguments)]
#[grad(w1, b1, w2, b2)]
fn mlp_loss(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    w2: &DMatrix<f64>,
    b2: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    ones: &RowDVector<f64>,
    n: f64,
) -> f64 {
    let h = (w1 * x + b1 * ones).map(|v| v.tanh());
    let out = w2 * h + b2 * ones;
    (out - y).norm_squared() / n
}

const CLASSES: [&str; 3] = ["setosa", "versicolor", "virginica"];

/// Adam's moment estimates for one parameter, updated in place on its entries.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPSILON: f64 = 1e-8;

    fn new(len: usize) -> Self {
        Adam {
            m: vec![0.0; len],
            v: vec![0.0; len],
        }
    }

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

/// The network's parameters.
struct Network {
    w1: DMatrix<f64>,
    b1: DVector<f64>,
    w2: DMatrix<f64>,
    b2: DVector<f64>,
}

impl Network {
    /// The class with the largest output, for every column of `x`.
    fn predict(&self, x: &DMatrix<f64>) -> Vec<usize> {
        let ones = RowDVector::repeat(x.ncols(), 1.0);
        let h = (&self.w1 * x + &self.b1 * &ones).map(|v| v.tanh());
        let out = &self.w2 * h + &self.b2 * &ones;
        out.column_iter().map(|c| c.argmax().0).collect()
    }

    fn accuracy(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        let predicted = self.predict(x);
        let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
        correct as f64 / labels.len() as f64
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    const HIDDEN: usize = 16;
    const EPOCHS: i32 = 1000;
    const LEARNING_RATE: f64 = 0.01;
    const TEST_FRACTION: f64 = 0.2;

    // --- Data: seeded split, standardisation with the training statistics, one-hot targets.
    let (x_all, labels_all) = read_csv(IRIS)?;
    let (features, samples) = x_all.shape();
    let mut rng = Rng::new(3);
    // Stratified: the same fraction of every class goes to the test set.
    let order = rng.permutation(samples);
    let (mut test_idx, mut train_idx) = (Vec::new(), Vec::new());
    for class in 0..CLASSES.len() {
        let members: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| labels_all[i] == class)
            .collect();
        let k = (members.len() as f64 * TEST_FRACTION).round() as usize;
        test_idx.extend_from_slice(&members[..k]);
        train_idx.extend_from_slice(&members[k..]);
    }
    let n_test = test_idx.len();
    let (x_train, x_test) = (
        x_all.select_columns(&train_idx),
        x_all.select_columns(&test_idx),
    );
    let labels = |idx: &[usize]| idx.iter().map(|&i| labels_all[i]).collect::<Vec<_>>();
    let (labels_train, labels_test) = (labels(&train_idx), labels(&test_idx));
    let mean = x_train.column_mean();
    let std = x_train.column_variance().map(f64::sqrt);
    let standardise = |x: &DMatrix<f64>| {
        DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| (x[(i, j)] - mean[i]) / std[i])
    };
    let (x_train, x_test) = (standardise(&x_train), standardise(&x_test));
    let n = x_train.ncols();
    let y_train = DMatrix::from_fn(CLASSES.len(), n, |c, j| {
        if labels_train[j] == c {
            1.0
        } else {
            0.0
        }
    });
    let ones = RowDVector::repeat(n, 1.0);
    println!(
        "iris: {samples} samples × {features} features, classes {CLASSES:?}; training set {n}, \
         test set {n_test}; network 4 → {HIDDEN} (tanh) → 3, squared loss on one-hot targets\n"
    );

    // --- Initialisation: weights N(0, 1/fan_in), biases 0.
    let mut net = Network {
        w1: DMatrix::from_fn(HIDDEN, features, |_, _| {
            rng.gaussian() / (features as f64).sqrt()
        }),
        b1: DVector::zeros(HIDDEN),
        w2: DMatrix::from_fn(CLASSES.len(), HIDDEN, |_, _| {
            rng.gaussian() / (HIDDEN as f64).sqrt()
        }),
        b2: DVector::zeros(CLASSES.len()),
    };

    // --- Generated gradients against finite differences, at the random initial point.
    let (_, dw1, db1, dw2, db2) = mlp_loss_grad(
        &net.w1, &net.b1, &net.w2, &net.b2, &x_train, &y_train, &ones, n as f64,
    );
    let f = |w1: &DMatrix<f64>, b1: &DVector<f64>, w2: &DMatrix<f64>, b2: &DVector<f64>| {
        mlp_loss(w1, b1, w2, b2, &x_train, &y_train, &ones, n as f64)
    };
    let reports = [
        matgrad::check_gradient(|w1| f(w1, &net.b1, &net.w2, &net.b2), &net.w1, &dw1),
        matgrad::check_gradient(|b1| f(&net.w1, b1, &net.w2, &net.b2), &net.b1, &db1),
        matgrad::check_gradient(|w2| f(&net.w1, &net.b1, w2, &net.b2), &net.w2, &dw2),
        matgrad::check_gradient(|b2| f(&net.w1, &net.b1, &net.w2, b2), &net.b2, &db2),
    ];

    // --- Training.
    let mut adam = [
        Adam::new(net.w1.len()),
        Adam::new(net.b1.len()),
        Adam::new(net.w2.len()),
        Adam::new(net.b2.len()),
    ];
    println!(
        "{:>6}  {:>10}  {:>14}  {:>13}",
        "epoch", "loss", "train accuracy", "test accuracy"
    );
    let mut first_loss = f64::NAN;
    let mut last_loss = f64::NAN;
    for epoch in 0..=EPOCHS {
        let (loss, dw1, db1, dw2, db2) = mlp_loss_grad(
            &net.w1, &net.b1, &net.w2, &net.b2, &x_train, &y_train, &ones, n as f64,
        );
        if epoch == 0 {
            first_loss = loss;
        }
        last_loss = loss;
        if epoch % 50 == 0 {
            println!(
                "{epoch:>6}  {loss:>10.6}  {:>13.2} %  {:>11.2} %",
                100.0 * net.accuracy(&x_train, &labels_train),
                100.0 * net.accuracy(&x_test, &labels_test)
            );
        }
        if epoch < EPOCHS {
            let t = epoch + 1;
            adam[0].step(net.w1.as_mut_slice(), dw1.as_slice(), LEARNING_RATE, t);
            adam[1].step(net.b1.as_mut_slice(), db1.as_slice(), LEARNING_RATE, t);
            adam[2].step(net.w2.as_mut_slice(), dw2.as_slice(), LEARNING_RATE, t);
            adam[3].step(net.b2.as_mut_slice(), db2.as_slice(), LEARNING_RATE, t);
        }
    }

    // --- Final metrics.
    let test_accuracy = net.accuracy(&x_test, &labels_test);
    let predicted = net.predict(&x_test);
    let mut confusion = [[0usize; 3]; 3];
    for (&p, &l) in predicted.iter().zip(&labels_test) {
        confusion[l][p] += 1;
    }
    println!(
        "\nloss {first_loss:.4} → {last_loss:.4}; accuracy: training {:.2} %, test {:.2} % \
         ({} of {n_test})",
        100.0 * net.accuracy(&x_train, &labels_train),
        100.0 * test_accuracy,
        predicted
            .iter()
            .zip(&labels_test)
            .filter(|(p, l)| p == l)
            .count()
    );
    println!("test confusion matrix (rows: true class, columns: predicted):");
    for (c, row) in confusion.iter().enumerate() {
        println!(
            "  {:>10}  {:>3} {:>3} {:>3}",
            CLASSES[c], row[0], row[1], row[2]
        );
    }
    println!(
        "\ngenerated gradients vs central finite differences at the initial weights: max relative \
         error {:.2e} (∇W₁), {:.2e} (∇b₁), {:.2e} (∇W₂), {:.2e} (∇b₂) (tolerance 1e-6)",
        reports[0].max_rel_error,
        reports[1].max_rel_error,
        reports[2].max_rel_error,
        reports[3].max_rel_error
    );

    assert!(last_loss < first_loss, "the loss did not decrease");
    assert!(
        test_accuracy >= 0.9,
        "test accuracy {test_accuracy} is below 90 %"
    );
    for report in &reports {
        report.assert_within(1e-6);
    }
    Ok(())
}
