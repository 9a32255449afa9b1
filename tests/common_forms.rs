//! Spellings real losses use, each read as what it means: a trajectory stored as the loop
//! runs, a vector's `len()` as its size, rounding and conversions of constants, `is_empty`,
//! a field read through its rows. Every gradient against central finite differences.

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, RealField};

/// A state stepped by `A`, each step stored as a column of the trajectory: the state is moved
/// into its next value after the column has read it.
#[grad(a)]
fn trajectory(a: &DMatrix<f64>, x0: &DVector<f64>, steps: usize) -> f64 {
    let mut traj = DMatrix::zeros(x0.len(), steps);
    let mut x = x0.clone();
    for t in 0..steps {
        x = a * &x;
        traj.set_column(t, &x);
    }
    traj.norm_squared()
}

/// An HMM-like recursion sized by `len()`, the same size as `nrows()`.
#[grad(p)]
fn sized_by_len(p: &DVector<f64>, steps: usize) -> f64 {
    let k = p.len();
    let mut alpha = p * 2.0;
    for _ in 0..steps {
        let mut next = DVector::zeros(k);
        for j in 0..k {
            next[j] = alpha[j].tanh() + p[j];
        }
        alpha = next;
    }
    alpha.norm_squared()
}

/// A step count rounded from data, integer labels converted with `f64::from`, a count kept
/// above 0 by `usize::max`.
#[grad(c)]
fn rounded_steps(c: f64, t_end: f64, dt: f64, labels: &[u32]) -> f64 {
    let steps = (t_end / dt).ceil() as usize;
    let mut v = 1.0;
    for _ in 0..steps {
        v -= dt * c * v;
    }
    let mut weight = 0.0;
    for &l in labels {
        weight += f64::from(l);
    }
    v * v * weight / usize::max(1, labels.len()) as f64
}

/// A mean over samples in a generic loss: `n` converted by `T::from_usize`.
#[allow(clippy::needless_range_loop)] // indexed as such losses are written
#[grad(alpha)]
fn generic_mean<T: RealField + Copy>(alpha: T, y: &[T]) -> T {
    if y.is_empty() {
        return T::zero();
    }
    let mut level = y[0];
    let mut sse = T::zero();
    for t in 1..y.len() {
        let e = y[t] - level;
        sse += e * e;
        level = alpha * y[t] + (T::one() - alpha) * level;
    }
    sse / T::from_usize(y.len()).unwrap()
}

struct Regression {
    x: DMatrix<f64>,
    y: DVector<f64>,
}

impl Regression {
    /// A field read through its rows says it is a matrix, as its `nrows()` does.
    #[grad(w)]
    fn loss(&self, w: &DVector<f64>) -> f64 {
        let mut total = 0.0;
        for i in 0..self.x.nrows() {
            let r = (self.x.row(i) * w)[0] - self.y[i];
            total += r * r;
        }
        total
    }
}

#[test]
fn a_trajectory_stored_column_by_column() {
    let (a, x0) = (dm(3, 3, 1) * 0.5, dv(3, 2));
    check!(trajectory(&a, &x0, 4) => trajectory_grad[a]);
    check!(trajectory(&a, &x0, 0) => trajectory_grad[a]);
}

#[test]
fn a_vector_sized_by_len() {
    let p = dv(4, 3);
    check!(sized_by_len(&p, 3) => sized_by_len_grad[p]);
}

#[test]
fn rounding_and_conversions_of_constants() {
    let labels = [1u32, 0, 2, 5];
    let c = 0.7;
    check!(rounded_steps(c, 1.0, 0.3, &labels) => rounded_steps_grad[c]);
    let (value, _) = rounded_steps_grad(c, 1.0, 0.3, &[]);
    assert_eq!(value, rounded_steps(c, 1.0, 0.3, &[]));
}

#[test]
fn a_generic_mean_and_an_empty_guard() {
    let y: Vec<f64> = (0..6).map(|i| rnd(4, i, 0)).collect();
    let alpha = 0.4;
    check!(generic_mean(alpha, &y) => generic_mean_grad[alpha]);
    assert_eq!(generic_mean_grad(alpha, &[] as &[f64]), (0.0, 0.0));
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let (value, _) = generic_mean_grad(0.4f32, &y32);
    assert_eq!(value, generic_mean(0.4f32, &y32));
}

#[test]
fn a_field_read_through_its_rows() {
    let model = Regression {
        x: dm(5, 3, 5),
        y: dv(5, 6),
    };
    let w = dv(3, 7);
    let (value, g) = model.loss_grad(&w);
    same_value("Regression::loss", value, model.loss(&w));
    fd("Regression::loss", |w: &DVector<f64>| model.loss(w), &w, &g);
}

/// A pinhole reprojection error: entries of data vectors and of computed vectors by name
/// (`obs[j].x`, `(r * p).z`).
#[grad(r, t)]
fn reprojection(
    r: &matgrad::nalgebra::Matrix3<f64>,
    t: &matgrad::nalgebra::Vector3<f64>,
    points: &[matgrad::nalgebra::Vector3<f64>],
    obs: &[matgrad::nalgebra::Vector2<f64>],
) -> f64 {
    let mut total = 0.0;
    for j in 0..points.len() {
        let depth = (r * points[j] + t).z;
        let u = (r * points[j] + t).x / depth;
        let v = (r * points[j] + t).y / depth;
        total += (u - obs[j].x).powi(2) + (v - obs[j].y).powi(2);
    }
    total
}

#[test]
fn entries_of_data_and_computed_vectors_by_name() {
    use matgrad::nalgebra::{Matrix3, Vector2, Vector3};
    let r = Matrix3::new(1.0, 0.1, -0.05, -0.1, 0.98, 0.02, 0.05, -0.03, 1.01);
    let t = Vector3::new(0.1, -0.2, 4.0);
    let points = [
        Vector3::new(0.5, 0.2, 1.0),
        Vector3::new(-0.3, 0.4, 0.5),
        Vector3::new(0.1, -0.6, -0.2),
    ];
    let obs = [
        Vector2::new(0.15, 0.0),
        Vector2::new(-0.05, 0.05),
        Vector2::new(0.05, -0.2),
    ];
    check!(reprojection(&r, &t, &points, &obs) => reprojection_grad[r, t]);
}
