//! `#[grad]` on methods and associated functions: data read from `self` (or
//! from a struct parameter) as constants, the generated `<name>_grad` a method
//! beside the original.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Vector3};

struct Ridge {
    x: DMatrix<f64>,
    y: DVector<f64>,
    lambda: f64,
}

impl Ridge {
    /// A loop over the rows of a field, its size read off the field (`nrows()` and `shape()`
    /// say it is a matrix; an entry of `self.y` could be a `Vec`'s, so `y` is bound with its
    /// type), the sum written as an iterator chain.
    #[grad(w)]
    fn by_rows(&self, w: &DVector<f64>) -> f64 {
        let (n, _) = self.x.shape();
        let y: &DVector<f64> = &self.y;
        (0..self.x.nrows())
            .map(|i| (self.x.row(i).transpose().dot(w) - y[i]).powi(2))
            .sum::<f64>()
            / n as f64
    }

    /// The example: fields used directly.
    #[grad(w)]
    fn loss(&self, w: &DVector<f64>) -> f64 {
        (&self.x * w - &self.y).norm_squared()
    }

    /// A scalar field next to a scalar, a matrix field as a method argument,
    /// and a scalar field bound with its type where it scales a vector.
    #[grad(w)]
    pub fn regularised(&self, w: &DVector<f64>) -> f64 {
        let lambda: f64 = self.lambda;
        let r = &self.x * w - &self.y;
        r.dot(&self.y) + r.norm_squared() * self.lambda + (w * lambda).norm_squared()
    }

    /// An associated function, no `self`.
    #[grad(w)]
    fn prior(w: &DVector<f64>, scale: f64) -> f64 {
        w.norm_squared() * scale
    }
}

struct Quadratic {
    a: Matrix3<f64>,
    b: Vector3<f64>,
}

/// A struct of data as a parameter, read through its fields.
#[grad(x)]
fn quadratic(x: &Vector3<f64>, data: &Quadratic) -> f64 {
    let a: Matrix3<f64> = data.a;
    (x.transpose() * a * x).trace() + x.dot(&data.b) + (data.a * x).norm()
}

struct Scaled {
    lambda: f64,
    p: DMatrix<f64>,
    s: f64,
}

impl Scaled {
    /// Fields whose shape their context gives: a bare field beside a scalar,
    /// then (its shape known) scaling a vector on either side, a borrowed
    /// matrix field in a product, a matrix field under `determinant().ln()`
    /// and `matgrad::logdet`, and a scalar field as the argument of a scalar
    /// function.
    #[grad(w)]
    fn loss(&self, w: &DVector<f64>) -> f64 {
        self.lambda * w.norm_squared()
            + (w * self.lambda).norm_squared()
            + (self.lambda * w).sum()
            + (&self.p * w).norm()
            + self.p.determinant().ln() * matgrad::logdet(&self.p)
            + matgrad::sigmoid(self.s) * w.sum()
    }
}

/// Samples and labels kept as `Vec`s in a struct.
struct Classes {
    xs: Vec<Vector3<f64>>,
    labels: Vec<usize>,
    margins: Vec<f64>,
}

impl Classes {
    /// A margin loss over the struct's data, bound with their types first.
    #[grad(w)]
    fn hinge(&self, w: &DMatrix<f64>) -> f64 {
        let xs: &Vec<Vector3<f64>> = &self.xs;
        let labels: &[usize] = &self.labels;
        let margins: &Vec<f64> = &self.margins;
        let mut total = 0.0;
        for (i, x) in xs.iter().enumerate() {
            let scores = w * x;
            let c = labels[i];
            for k in 0..scores.len() {
                if k != c {
                    total += (margins[i] + scores[k] - scores[c]).max(0.0);
                }
            }
        }
        total
    }
}

#[test]
fn data_fields_bound_with_their_types() {
    let model = Classes {
        xs: (0..6)
            .map(|k| Vector3::new(k as f64 * 0.3, 1.0 - 0.2 * k as f64, 0.5))
            .collect(),
        labels: vec![0, 1, 2, 1, 0, 2],
        margins: vec![1.0, 0.5, 1.5, 1.0, 0.8, 1.2],
    };
    let w = dm::<f64>(3, 3, 9);
    let (value, dw) = model.hinge_grad(&w);
    same_value("hinge", value, model.hinge(&w));
    fd("hinge", |w: &DMatrix<f64>| model.hinge(w), &w, &dw);
}

#[test]
fn fields_shaped_by_their_context() {
    let model = Scaled {
        lambda: 0.7,
        p: dm_spd(3, 5),
        s: -0.4,
    };
    let w = dv::<f64>(3, 6);
    let (value, dw) = model.loss_grad(&w);
    assert!((value - model.loss(&w)).abs() < 1e-12 * value.abs());
    fd("loss", |w: &DVector<f64>| model.loss(w), &w, &dw);
}

#[test]
fn methods_read_fields_as_constants() {
    let model = Ridge {
        x: dm(6, 3, 1),
        y: dv(6, 2),
        lambda: 0.3,
    };
    let w = dv::<f64>(3, 3);
    let (value, dw) = model.loss_grad(&w);
    assert_eq!(value, model.loss(&w));
    fd("loss", |w: &DVector<f64>| model.loss(w), &w, &dw);
    let (value, dw) = model.regularised_grad(&w);
    assert!((value - model.regularised(&w)).abs() < 1e-12 * value.abs());
    fd(
        "regularised",
        |w: &DVector<f64>| model.regularised(w),
        &w,
        &dw,
    );
    let (value, dw) = model.by_rows_grad(&w);
    assert!((value - model.by_rows(&w)).abs() < 1e-12 * value.abs());
    fd("by_rows", |w: &DVector<f64>| model.by_rows(w), &w, &dw);
    let (value, dw) = Ridge::prior_grad(&w, 2.0);
    assert_eq!(value, Ridge::prior(&w, 2.0));
    fd("prior", |w: &DVector<f64>| Ridge::prior(w, 2.0), &w, &dw);
}

#[test]
fn fields_of_a_data_parameter() {
    let data = Quadratic {
        a: sm_well(4),
        b: sm(5),
    };
    let x: Vector3<f64> = sm(6);
    let (value, dx) = quadratic_grad(&x, &data);
    assert!((value - quadratic(&x, &data)).abs() < 1e-12 * value.abs());
    fd("quadratic", |x: &Vector3<f64>| quadratic(x, &data), &x, &dx);
}

/// A struct of data as vision and simulation code keeps it: samples of run-time size, pairs
/// of indices, and indices read straight from a field (`self.view_of[k]` as an index).
struct Scene {
    xs: Vec<DVector<f64>>,
    springs: Vec<(usize, usize)>,
    view_of: Vec<usize>,
}

impl Scene {
    #[grad(w, lengths)]
    fn energy(&self, w: &DVector<f64>, lengths: &DVector<f64>) -> f64 {
        let xs: &Vec<DVector<f64>> = &self.xs;
        let springs: &Vec<(usize, usize)> = &self.springs;
        let mut total = 0.0;
        for x in xs.iter() {
            total += w.dot(x).tanh();
        }
        for &(a, b) in springs.iter() {
            total += (lengths[a] - lengths[b]).powi(2);
        }
        for k in 0..lengths.len() {
            let v = self.view_of[k];
            total += w[v] * lengths[k];
        }
        total
    }
}

#[test]
fn a_struct_of_samples_pairs_and_indices() {
    let scene = Scene {
        xs: (0..4).map(|s| dv(3, 30 + s)).collect(),
        springs: vec![(0, 1), (1, 2), (3, 0)],
        view_of: vec![2, 0, 1, 2],
    };
    let (w, lengths) = (dv(3, 40), dv(4, 41));
    let (value, gw, gl) = scene.energy_grad(&w, &lengths);
    same_value("Scene::energy", value, scene.energy(&w, &lengths));
    fd(
        "Scene::energy by w",
        |w: &DVector<f64>| scene.energy(w, &lengths),
        &w,
        &gw,
    );
    fd(
        "Scene::energy by lengths",
        |l: &DVector<f64>| scene.energy(&w, l),
        &lengths,
        &gl,
    );
}
