//! `<name>_grad` on fixed-size inputs makes no heap allocation (issue 5): a counting global
//! allocator around the call. Each loss is called once first (to warm up anything lazy), then
//! the allocations made by one more call on this thread are counted. The counter is per thread,
//! so tests running in parallel do not disturb each other.
//!
//! Loops: a loop that only adds per-iteration terms stores nothing, so on fixed-size values it
//! allocates nothing either; a recurrence keeps one carried value per iteration for its reverse
//! loop, in one `Vec` allocated once per loop (not per iteration): its count does not grow with
//! the number of iterations. On dynamic sizes, a sum over samples allocates the buffers a
//! gradient written by hand does.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use matgrad::nalgebra::{
    DMatrix, DVector, Matrix2x3, Matrix3, Matrix3x2, Matrix5, SMatrix, SVector, Vector2, Vector3,
};
use matgrad::{grad, hessian};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the allocator can be called while this thread's locals are being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The generated value is the plain loss's (up to rounding: the generated code may evaluate
/// it in another order).
fn same_value(generated: f64, plain: f64) {
    assert!(
        (generated - plain).abs() <= 1e-12 * plain.abs().max(1.0),
        "{generated} vs {plain}"
    );
}

/// Calls `f` once to warm up, then returns how many allocations a second call makes.
fn allocations<R>(mut f: impl FnMut() -> R) -> usize {
    black_box(f());
    let before = ALLOCATIONS.with(Cell::get);
    black_box(f());
    ALLOCATIONS.with(Cell::get) - before
}

#[grad(x)]
fn quadform(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x).trace()
}

#[allow(clippy::clone_on_copy)] // written as for dynamic matrices
#[grad(sigma)]
fn gauss_nll(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
    sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
}

#[grad(w)]
fn lsq(w: &Vector3<f64>, x: &Matrix2x3<f64>, y: &Vector2<f64>) -> f64 {
    let r = x * w - y;
    r.norm_squared()
}

#[grad(w1, w2)]
fn mlp(
    w1: &SMatrix<f64, 8, 4>,
    w2: &SMatrix<f64, 2, 8>,
    x: &SVector<f64, 4>,
    y: &SVector<f64, 2>,
) -> f64 {
    let h = (w1 * x).map(|v| v.tanh());
    (w2 * h - y).norm_squared()
}

#[grad(u, v)]
fn mf(m: &SMatrix<f64, 10, 8>, u: &SMatrix<f64, 10, 3>, v: &SMatrix<f64, 8, 3>) -> f64 {
    (m - u * v.transpose()).norm_squared()
}

#[grad(w)]
fn logreg(w: &Vector3<f64>, x: &SMatrix<f64, 6, 3>, y: &SVector<f64, 6>, lambda: f64) -> f64 {
    let m = (x * w).component_mul(y);
    m.map(|v| (1.0 + (-v).exp()).ln()).sum() + lambda * w.norm_squared()
}

fn filled<const R: usize, const C: usize>(seed: f64) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|i, j| ((i * C + j) as f64 * 0.37 + seed).sin())
}

fn spd3(seed: f64) -> Matrix3<f64> {
    let b: Matrix3<f64> = filled(seed);
    b * b.transpose() + Matrix3::identity()
}

#[test]
fn the_counter_sees_an_allocation() {
    assert_eq!(allocations(|| vec![1.0f64; 3]), 1);
    assert_eq!(allocations(Matrix3::<f64>::identity), 0);
}

#[test]
fn quadform_matrix3() {
    let (x, a) = (filled(1.0), filled(2.0));
    let n = allocations(|| quadform_grad(black_box(&x), black_box(&a)));
    assert_eq!(n, 0);
    same_value(quadform_grad(&x, &a).0, quadform(&x, &a));
}

#[test]
fn gauss_nll_matrix3() {
    let (sigma, s) = (spd3(1.0), spd3(2.0));
    let n = allocations(|| gauss_nll_grad(black_box(&sigma), black_box(&s)));
    assert_eq!(n, 0);
    same_value(gauss_nll_grad(&sigma, &s).0, gauss_nll(&sigma, &s));
}

#[test]
fn lsq_vector3_matrix2x3() {
    let (w, x, y) = (filled(1.0), filled(2.0), filled(3.0));
    let n = allocations(|| lsq_grad(black_box(&w), black_box(&x), black_box(&y)));
    assert_eq!(n, 0);
    same_value(lsq_grad(&w, &x, &y).0, lsq(&w, &x, &y));
}

#[test]
fn mlp_smatrix() {
    let (w1, w2, x, y) = (filled(1.0), filled(2.0), filled(3.0), filled(4.0));
    let n = allocations(|| mlp_grad(black_box(&w1), black_box(&w2), black_box(&x), black_box(&y)));
    assert_eq!(n, 0);
    same_value(mlp_grad(&w1, &w2, &x, &y).0, mlp(&w1, &w2, &x, &y));
}

#[test]
fn mf_smatrix() {
    let (m, u, v) = (filled(1.0), filled(2.0), filled(3.0));
    let n = allocations(|| mf_grad(black_box(&m), black_box(&u), black_box(&v)));
    assert_eq!(n, 0);
    same_value(mf_grad(&m, &u, &v).0, mf(&m, &u, &v));
}

#[test]
fn logreg_smatrix() {
    let (w, x) = (filled(1.0), filled(2.0));
    let y = SVector::<f64, 6>::from_fn(|i, _| if i % 2 == 0 { 1.0 } else { -1.0 });
    let n = allocations(|| logreg_grad(black_box(&w), black_box(&x), black_box(&y), 0.1));
    assert_eq!(n, 0);
    same_value(logreg_grad(&w, &x, &y, 0.1).0, logreg(&w, &x, &y, 0.1));
}

/// A sum over a slice of fixed-size data: per-iteration terms only, nothing stored.
#[grad(w, a)]
fn sum_loop(w: &Vector3<f64>, a: &Matrix3<f64>, xs: &[Vector3<f64>]) -> f64 {
    let mut s = 0.0;
    for x in xs.iter() {
        let r = a * x - w;
        s += r.norm_squared() + w.dot(x).tanh();
    }
    s
}

/// A sum over the rows of fixed-size data, `X w` computed for all of them before the loop.
#[grad(w)]
fn rows_loop(w: &Vector3<f64>, x: &SMatrix<f64, 64, 3>, y: &SVector<f64, 64>) -> f64 {
    let mut s = 0.0;
    for i in 0..64 {
        let r = x.row(i).transpose().dot(w) - y[i];
        s += if r.abs() <= 1.0 {
            0.5 * r * r
        } else {
            r.abs() - 0.5
        };
    }
    s
}

#[test]
fn sum_over_fixed_size_rows() {
    let (w, x, y) = (filled(1.0), filled(2.0), filled(3.0));
    let n = allocations(|| rows_loop_grad(black_box(&w), black_box(&x), black_box(&y)));
    assert_eq!(n, 0);
    same_value(rows_loop_grad(&w, &x, &y).0, rows_loop(&w, &x, &y));
}

/// A sum over the samples of dynamic data reading `X w` at each sample's index.
#[grad(w)]
fn huber_rows(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
    let z = x * w;
    let mut total = 0.0;
    for i in 0..z.len() {
        let r = z[i] - y[i];
        if r.abs() <= delta {
            total += 0.5 * r * r;
        } else {
            total += delta * (r.abs() - 0.5 * delta);
        }
    }
    total
}

/// Two buffers, as a gradient written by hand: `X w`, whose buffer then holds the derivative of
/// each sample's term, and `Xᵀ ψ`.
#[test]
fn sum_over_dynamic_samples_allocates_twice() {
    let x = DMatrix::from_fn(40, 6, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
    let (w, y) = (
        DVector::from_element(6, 0.3),
        DVector::from_element(40, 0.2),
    );
    let n = allocations(|| huber_rows_grad(black_box(&w), black_box(&x), black_box(&y), 0.5));
    assert_eq!(n, 2);
    same_value(
        huber_rows_grad(&w, &x, &y, 0.5).0,
        huber_rows(&w, &x, &y, 0.5),
    );
}

/// A recurrence on a fixed-size state: the reverse loop reads the state carried into each step.
#[grad(w, u, h0)]
fn recurrence(w: &Matrix3<f64>, u: &Matrix3x2<f64>, h0: &Vector3<f64>, xs: &[Vector2<f64>]) -> f64 {
    let mut h = *h0;
    for x in xs.iter() {
        h = (w * h + u * x).map(|v| v.tanh());
    }
    h.norm_squared()
}

#[test]
fn sum_loop_over_fixed_size_data() {
    let (w, a) = (filled(1.0), filled(2.0));
    for steps in [5, 50] {
        let xs: Vec<Vector3<f64>> = (0..steps).map(|t| filled(3.0 + t as f64)).collect();
        let n = allocations(|| sum_loop_grad(black_box(&w), black_box(&a), black_box(&xs)));
        assert_eq!(n, 0, "{steps} iterations");
        same_value(sum_loop_grad(&w, &a, &xs).0, sum_loop(&w, &a, &xs));
    }
}

#[test]
fn fixed_size_recurrence_allocates_once_per_loop() {
    let (w, u, h0): (Matrix3<f64>, Matrix3x2<f64>, Vector3<f64>) =
        (filled(1.0) * 0.5, filled(2.0), filled(3.0));
    let count = |steps: usize| {
        let xs: Vec<Vector2<f64>> = (0..steps).map(|t| filled(4.0 + t as f64)).collect();
        let n = allocations(|| {
            recurrence_grad(black_box(&w), black_box(&u), black_box(&h0), black_box(&xs))
        });
        same_value(
            recurrence_grad(&w, &u, &h0, &xs).0,
            recurrence(&w, &u, &h0, &xs),
        );
        n
    };
    let (few, many) = (count(5), count(50));
    assert_eq!(
        few, many,
        "allocations grow with the trip count: {few} for 5, {many} for 50"
    );
    assert!(few <= 1, "{few} allocations for one loop");
}

/// A `map` closure capturing a differentiated scalar and a `zip_map` (loops
/// over the entries): fixed sizes stay on the stack.
#[grad(x, beta)]
fn captured_map(x: &Matrix3<f64>, beta: f64) -> f64 {
    x.map(|v| (v * beta).tanh()).sum() + x.zip_map(x, |p, q| p * q).sum()
}

#[test]
fn capturing_closure_on_a_fixed_size_matrix() {
    let x: Matrix3<f64> = filled(1.0);
    let n = allocations(|| captured_map_grad(black_box(&x), black_box(0.5)));
    assert_eq!(n, 0);
    same_value(captured_map_grad(&x, 0.5).0, captured_map(&x, 0.5));
}

/// Factorisations of fixed-size matrices: nalgebra's `Cholesky<T, Const<N>>` and `LU` live on
/// the stack, as do the triangular solves and every adjoint built from them.
#[allow(clippy::clone_on_copy)] // written as for dynamic matrices
#[grad(k, b)]
fn factorisations(k: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let chol = k.clone().cholesky().unwrap();
    let lu = k.clone().lu();
    chol.solve(b).norm_squared()
        + chol.ln_determinant()
        + chol.l().diagonal().map(|v| v.ln()).sum()
        + chol.inverse().trace()
        + lu.solve(b).unwrap().sum()
        + k.solve_lower_triangular(b).unwrap().dot(b)
        + k.tr_solve_upper_triangular(b).unwrap().sum()
}

#[test]
fn factorisations_matrix3() {
    let (k, b) = (spd3(1.0), filled(0.5));
    let n = allocations(|| factorisations_grad(black_box(&k), black_box(&b)));
    assert_eq!(n, 0);
    same_value(factorisations_grad(&k, &b).0, factorisations(&k, &b));
}

/// Constructors, reductions and a rotation on fixed sizes: built on the stack.
#[grad(aa, t, s)]
fn built_fixed(aa: &Vector3<f64>, t: &Vector3<f64>, s: f64, p: &Vector3<f64>) -> f64 {
    let r = matgrad::nalgebra::Rotation3::new(*aa);
    let q = r * p + t;
    let m = Matrix3::new(q.x, s, 0.0, 1.0, q.y, s, 0.0, 0.0, q.z) + Matrix3::identity() * s;
    let k = Matrix3::from_fn(|i, j| q[i] * q[j]);
    let v = Vector3::repeat(s) + Vector3::from_element(1.0) + Vector3::zeros();
    (m * v).add_scalar(-q.mean()).norm_squared()
        + m.row_sum().sum()
        + m.column_mean().variance()
        + k.trace()
}

#[test]
fn constructors_reductions_rotation_fixed() {
    let (aa, t, p) = (
        Vector3::new(0.1, 0.2, -0.3),
        Vector3::new(0.5, 0.1, 2.0),
        Vector3::new(1.0, 2.0, 3.0),
    );
    let n = allocations(|| built_fixed_grad(black_box(&aa), black_box(&t), 0.4, black_box(&p)));
    same_value(
        built_fixed_grad(&aa, &t, 0.4, &p).0,
        built_fixed(&aa, &t, 0.4, &p),
    );
    assert_eq!(
        n, 0,
        "allocations on fixed-size constructors, reductions and a rotation"
    );
}

/// Beyond 3×3 the determinant's second derivative goes through an SVD
/// (Jacobi rotations on the stack), and its gradient at a singular matrix
/// through the same.
#[hessian(a)]
fn det_m5(a: &Matrix5<f64>, b: &Matrix5<f64>) -> f64 {
    a.determinant() * (b * a).trace()
}

#[test]
fn determinant_hessian_fixed() {
    let (mut a, b) = (
        filled::<5, 5>(1.0) + Matrix5::identity(),
        filled::<5, 5>(2.0),
    );
    for singular in [false, true] {
        if singular {
            let row = a.row(0) * 2.0;
            a.set_row(4, &row);
        }
        let n = allocations(|| det_m5_hessian(black_box(&a), black_box(&b)));
        assert_eq!(n, 0, "allocations in a fixed-size determinant Hessian");
        let n = allocations(|| det_m5_hvp(black_box(&a), black_box(&b), black_box(&b)));
        assert_eq!(n, 0, "allocations in a fixed-size determinant hvp");
        same_value(det_m5_hessian(&a, &b).0, det_m5(&a, &b));
    }
}

#[grad(x)]
fn log_and_exp(x: &Matrix3<f64>, w: &Matrix3<f64>) -> f64 {
    (matgrad::logm(x) * w).trace() + x.exp().norm_squared()
}

#[matgrad::hessian(x)]
fn log_and_exp_twice(x: &Matrix3<f64>, w: &Matrix3<f64>) -> f64 {
    (matgrad::logm(x) * w).trace() + x.exp().norm_squared()
}

#[test]
fn matrix_logarithm_and_exponential_on_the_stack() {
    let (x, w) = (spd3(1.0), filled(2.0));
    let v: Matrix3<f64> = filled(3.0);
    let runtime = allocations(|| {
        (
            matgrad::logm(black_box(&x)),
            matgrad::logm_frechet(black_box(&x), black_box(&w)),
            matgrad::logm_frechet2(black_box(&x), black_box(&w), black_box(&v)),
            matgrad::expm_frechet2(black_box(&w), black_box(&x), black_box(&v)),
        )
    });
    assert_eq!(
        runtime, 0,
        "allocations in logm and the Fréchet derivatives"
    );
    let n = allocations(|| log_and_exp_grad(black_box(&x), black_box(&w)));
    assert_eq!(n, 0, "allocations in the gradient");
    same_value(log_and_exp_grad(&x, &w).0, log_and_exp(&x, &w));
    let n = allocations(|| log_and_exp_twice_hessian(black_box(&x), black_box(&w)));
    assert_eq!(n, 0, "allocations in the Hessian");
    let n = allocations(|| log_and_exp_twice_hvp(black_box(&x), black_box(&w), black_box(&v)));
    assert_eq!(n, 0, "allocations in the Hessian-vector product");
}

/// A complex loss with every complex operation of fixed size: products,
/// adjoints, a map, a determinant, an inverse, real parameters beside.
#[grad(z, s, theta)]
fn complex_fixed(
    z: &Matrix3<matgrad::nalgebra::Complex<f64>>,
    s: matgrad::nalgebra::Complex<f64>,
    theta: &Vector3<f64>,
) -> f64 {
    let phases = theta.map(|t| matgrad::nalgebra::Complex::new(t.cos(), t.sin()));
    let w = z * phases * s;
    w.dotc(&phases).re
        + z.determinant().norm_sqr()
        + (z.adjoint() * z).trace().re
        + z.try_inverse().unwrap().trace().im
        + z.map(|v| v.exp() * v.conj()).norm_squared()
        + z.component_mul(z).scale(0.5).norm()
}

#[test]
fn complex_matrix3() {
    use matgrad::nalgebra::Complex;
    let z = Matrix3::from_fn(|i, j| {
        Complex::new(
            if i == j {
                3.0
            } else {
                0.1 * (i + 2 * j) as f64
            },
            0.2 * (i as f64 - j as f64),
        )
    });
    let (s, theta) = (Complex::new(0.5, -0.25), Vector3::new(0.1, 0.2, 0.3));
    let n = allocations(|| complex_fixed_grad(black_box(&z), black_box(s), black_box(&theta)));
    assert_eq!(n, 0);
    same_value(
        complex_fixed_grad(&z, s, &theta).0,
        complex_fixed(&z, s, &theta),
    );
}

/// `ln softmax` of one column per sample: a map whose buffer, scaled and
/// shifted in place, the gradient's column adds from.
#[allow(clippy::needless_range_loop)]
#[grad(w)]
fn softmax_loop(
    w: &matgrad::nalgebra::DMatrix<f64>,
    x: &matgrad::nalgebra::DMatrix<f64>,
    labels: &[usize],
) -> f64 {
    let z = w * x;
    let mut total = 0.0;
    for i in 0..x.ncols() {
        let col = z.column(i);
        let m = col.max();
        let e = col.map(|v| (v - m).exp());
        total -= (e[labels[i]] / e.sum()).ln();
    }
    total
}

/// Dynamic sizes allocate, but a loop's map reuses one buffer across the
/// iterations: the count does not grow with the number of samples.
#[test]
fn a_loop_reuses_its_map_buffer() {
    use matgrad::nalgebra::DMatrix;
    let w = DMatrix::from_fn(4, 3, |i, j| 0.3 * (i as f64) - 0.2 * (j as f64));
    let count = |samples: usize| {
        let x = DMatrix::from_fn(3, samples, |i, j| ((i * 7 + j * 3) as f64).sin());
        let labels: Vec<usize> = (0..samples).map(|j| j % 4).collect();
        let n = allocations(|| softmax_loop_grad(black_box(&w), black_box(&x), black_box(&labels)));
        same_value(
            softmax_loop_grad(&w, &x, &labels).0,
            softmax_loop(&w, &x, &labels),
        );
        n
    };
    let (few, many) = (count(5), count(50));
    assert_eq!(
        few, many,
        "allocations grow with the trip count: {few} for 5 samples, {many} for 50"
    );
}

/// A recurrence with dynamic sizes.
#[grad(w, u, h0)]
fn dynamic_recurrence(
    w: &matgrad::nalgebra::DMatrix<f64>,
    u: &matgrad::nalgebra::DMatrix<f64>,
    h0: &matgrad::nalgebra::DVector<f64>,
    xs: &[Vector2<f64>],
) -> f64 {
    let mut h = h0.clone();
    for x in xs.iter() {
        h = (w * &h + u * x).map(|v| v.tanh());
    }
    h.norm_squared()
}

/// With dynamic sizes, a recurrence allocates as often for 50 steps as for 5:
/// its tape copies each state into one buffer allocated for the whole loop,
/// each step's new state is written into the buffer the old one leaves, and
/// the reverse loop's `δ` and `Wᵀδ` into buffers kept from the step before.
#[test]
fn a_dynamic_recurrence_allocates_nothing_per_step() {
    use matgrad::nalgebra::{DMatrix, DVector};
    let w = DMatrix::from_fn(4, 4, |i, j| 0.3 * (i as f64) - 0.2 * (j as f64));
    let u = DMatrix::from_fn(4, 2, |i, j| ((i * 3 + j) as f64).cos());
    let h0 = DVector::from_fn(4, |i, _| 0.1 * i as f64);
    let count = |steps: usize| {
        let xs: Vec<Vector2<f64>> = (0..steps).map(|t| filled(4.0 + t as f64)).collect();
        let n = allocations(|| {
            dynamic_recurrence_grad(black_box(&w), black_box(&u), black_box(&h0), black_box(&xs))
        });
        same_value(
            dynamic_recurrence_grad(&w, &u, &h0, &xs).0,
            dynamic_recurrence(&w, &u, &h0, &xs),
        );
        n
    };
    let (few, many) = (count(5), count(50));
    assert_eq!(few, many, "{few} allocations for 5 steps, {many} for 50");
}
