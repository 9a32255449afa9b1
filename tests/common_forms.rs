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

/// A rotation-like matrix, a translation, three points and where they were seen.
type Camera = (
    matgrad::nalgebra::Matrix3<f64>,
    matgrad::nalgebra::Vector3<f64>,
    [matgrad::nalgebra::Vector3<f64>; 3],
    [matgrad::nalgebra::Vector2<f64>; 3],
);

fn camera() -> Camera {
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
    (r, t, points, obs)
}

#[test]
fn entries_of_data_and_computed_vectors_by_name() {
    let (r, t, points, obs) = camera();
    check!(reprojection(&r, &t, &points, &obs) => reprojection_grad[r, t]);
}

/// The order of samples by decreasing time, computed by a plain function of data.
fn by_decreasing_time(times: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[b].total_cmp(&times[a]));
    order
}

/// Cox's partial likelihood: each event against the risk set of the samples not yet failed,
/// walked in the order a plain function of the data returns (a `Vec` a typed `let` declares).
#[allow(clippy::needless_range_loop)] // by sample, as such code is written
#[grad(beta)]
fn cox(beta: &DVector<f64>, x: &DMatrix<f64>, times: &[f64], events: &[bool]) -> f64 {
    let order: Vec<usize> = by_decreasing_time(times);
    let mut risk = 0.0;
    let mut nll = 0.0;
    for &i in order.iter() {
        let eta = x.row(i).transpose().dot(beta);
        risk += eta.exp();
        if events[i] {
            nll -= eta - risk.ln();
        }
    }
    nll
}

#[test]
fn data_a_plain_function_returns() {
    let (beta, x) = (dv(3, 50), dm(6, 3, 51));
    let times = [3.0, 1.5, 4.2, 0.7, 2.2, 5.1];
    let events = [true, false, true, true, false, true];
    check!(cox(&beta, &x, &times, &events) => cox_grad[beta]);
}

/// Bilinear interpolation of an image at a shifted point: `floor` of a differentiated value
/// (derivative 0, as a cast to an integer), the fractional part by subtraction.
#[allow(clippy::needless_range_loop)] // by pixel, as such code is written
#[grad(shift)]
fn bilinear(
    shift: &matgrad::nalgebra::Vector2<f64>,
    image: &DMatrix<f64>,
    points: &[(f64, f64)],
) -> f64 {
    let mut total = 0.0;
    for &(px, py) in points.iter() {
        let x = px + shift.x;
        let y = py + shift.y;
        let (x0, y0) = (x.floor(), f64::floor(y));
        let (fx, fy) = (x - x0, y - y0);
        let (i, j) = (x0 as usize, y0 as usize);
        let top = image[(i, j)] * (1.0 - fy) + image[(i, j + 1)] * fy;
        let bottom = image[(i + 1, j)] * (1.0 - fy) + image[(i + 1, j + 1)] * fy;
        total += (top * (1.0 - fx) + bottom * fx).powi(2);
    }
    total
}

/// A planar arm's end point by `sin_cos`, written into a pose entry by entry (`pose.z += q`).
#[matgrad::differentiable]
fn arm_pose(q: &DVector<f64>, lengths: &[f64]) -> matgrad::nalgebra::Vector3<f64> {
    let mut pose = matgrad::nalgebra::Vector3::<f64>::zeros();
    for i in 0..q.len() {
        pose.z += q[i];
        let (s, c) = pose.z.sin_cos();
        pose.x += lengths[i] * c;
        pose.y += lengths[i] * s;
    }
    pose
}

#[grad(q)]
fn reach(q: &DVector<f64>, lengths: &[f64], target: &matgrad::nalgebra::Vector3<f64>) -> f64 {
    (arm_pose(q, lengths) - target).norm_squared()
}

#[test]
fn rounding_a_differentiated_value_and_writing_entries_by_name() {
    use matgrad::nalgebra::{Vector2, Vector3};
    let image = DMatrix::from_fn(6, 6, |i, j| ((i * 7 + j * 3) as f64 * 0.3).sin());
    let shift = Vector2::new(0.37, 0.21);
    let points = [(1.2, 2.5), (3.7, 0.4), (2.05, 3.9)];
    check!(bilinear(&shift, &image, &points) => bilinear_grad[shift]);
    let q = dv(3, 60);
    let lengths = [1.0, 0.7, 0.4];
    let target = Vector3::new(0.5, 1.2, 0.3);
    check!(reach(&q, &lengths, &target) => reach_grad[q]);
}

/// A circle fitted to points: the centre read by the swizzle `params.xy()`, the radius `.z`.
#[grad(params)]
fn circle_fit(
    params: &matgrad::nalgebra::Vector3<f64>,
    points: &[matgrad::nalgebra::Vector2<f64>],
) -> f64 {
    let centre = params.xy();
    let mut total = 0.0;
    for p in points {
        total += ((p - centre).norm() - params.z).powi(2);
    }
    total
}

#[test]
fn a_swizzle_of_consecutive_entries() {
    use matgrad::nalgebra::{Vector2, Vector3};
    let params = Vector3::new(0.1, -0.2, 1.1);
    let points = [
        Vector2::new(1.0, 0.1),
        Vector2::new(-0.9, 0.2),
        Vector2::new(0.2, 1.2),
        Vector2::new(0.0, -1.1),
    ];
    check!(circle_fit(&params, &points) => circle_fit_grad[params]);
}

/// Points of data (`&[Point3<f64>]`, `&[Point2<f64>]`) read as their coordinates: written
/// through `.coords` and as they are (`r * points[j]`), their entries by name.
#[grad(r, t)]
fn point_reprojection(
    r: &matgrad::nalgebra::Matrix3<f64>,
    t: &matgrad::nalgebra::Vector3<f64>,
    points: &[matgrad::nalgebra::Point3<f64>],
    obs: &[matgrad::nalgebra::Point2<f64>],
) -> f64 {
    let mut total = 0.0;
    for (j, p) in points.iter().enumerate() {
        let q = r * p.coords + t;
        let seen = r * points[j].coords + t;
        let depth = (r * points[j] + t).z;
        let u = q.x / (0.5 * (seen.z + depth));
        let v = q.y / q.z;
        total += (u - obs[j].x).powi(2) + (v - obs[j].coords.y).powi(2);
    }
    total
}

#[test]
fn points_of_data_as_their_coordinates() {
    use matgrad::nalgebra::{Point2, Point3};
    let (r, t, vectors, seen) = camera();
    let points = vectors.map(Point3::from);
    let obs = seen.map(Point2::from);
    check!(point_reprojection(&r, &t, &points, &obs) => point_reprojection_grad[r, t]);
}
