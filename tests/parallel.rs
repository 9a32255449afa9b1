//! Gradients with dynamic sizes large enough for the `parallel` feature to split their products,
//! and their loops adding per-sample terms, across threads: equal to the single-threaded ones
//! (relative 1e-12) and to finite differences.
//! Without the feature both runs are single-threaded and the comparison is trivially met.
//!
//! `cargo test -p matgrad-tests --features matgrad/parallel --test parallel`

#[macro_use]
mod common;

use std::sync::Mutex;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::{Complex, DMatrix, DVector, Dyn, OMatrix, Vector3, U3, U4};

#[grad(w)]
fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.norm_squared()
}

#[grad(w)]
fn logreg(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    let m = (x * w).component_mul(y);
    m.map(|v| (1.0 + (-v).exp()).ln()).sum() + lambda * w.norm_squared()
}

#[grad(u, v)]
fn mf(m: &DMatrix<f64>, u: &DMatrix<f64>, v: &DMatrix<f64>) -> f64 {
    (m - u * v.transpose()).norm_squared()
}

/// The same with a rank fixed by the type: each block writes its rows of `∇U` (`Dyn × U3`)
/// into place.
#[grad(u, v)]
fn mf_rank3(m: &DMatrix<f64>, u: &OMatrix<f64, Dyn, U3>, v: &OMatrix<f64, Dyn, U3>) -> f64 {
    (m - u * v.transpose()).norm_squared()
}

#[grad(w1, w2)]
fn mlp(w1: &DMatrix<f64>, w2: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let h = (w1 * x).map(|v| v.tanh());
    (w2 * h - y).norm_squared()
}

/// Maps of `tanh` (costly, split by entries) over a product computed for the map alone, and
/// over an input read again after it.
#[grad(w)]
fn costly_maps(w: &DMatrix<f64>, x: &DVector<f64>, s: f64) -> f64 {
    let h = (w * x).map(|v| (v * s).tanh());
    h.norm_squared() + w.map(|v| v.tanh()).sum() * w.sum()
}

/// A recurrence whose `tanh` takes the product's buffer (a costly map in place).
#[grad(w)]
fn recurrence(w: &DMatrix<f64>, h0: &DVector<f64>, steps: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = (w * &h).map(|v| (v * 0.5).tanh());
    }
    h.norm_squared()
}

/// `Aᵀ r` as written (`tr_mul`), and a fixed number of columns.
#[grad(w, b)]
fn tall(w: &DVector<f64>, b: &OMatrix<f64, Dyn, U4>, x: &DMatrix<f64>) -> f64 {
    let r = x * w;
    x.tr_mul(&r).norm_squared() + (b.transpose() * &r).norm_squared()
}

#[grad(z)]
fn complex_quad(z: &DMatrix<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
    (m * z).norm_squared()
}

/// Per-sample terms added in a loop, a dot product per sample in a nested loop: the loop and the
/// reverse loop fused into it are sums, run as a reduction.
#[grad(w)]
fn logreg_loop(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    let (n, d) = x.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        total += (1.0 + (-y[i] * z).exp()).ln();
    }
    total + lambda * w.norm_squared()
}

/// A matrix sum (a weighted second moment) over a reversed inclusive range, then a function of
/// it that is not linear: the reverse loop's accumulators are the sums.
#[grad(w)]
fn moment(w: &DVector<f64>, x: &DMatrix<f64>) -> f64 {
    let n = x.nrows();
    let mut s = w * w.transpose() * 0.0;
    let mut count = 0;
    for i in (1..=n).rev() {
        let xi = x.row(i - 1).transpose();
        let t = xi.dot(w).tanh();
        s += &xi * xi.transpose() * t;
        count += 1;
    }
    (s * w).norm_squared() / (count as f64)
}

/// A Huber loss over a slice, its sum assigned on both sides of a branch: the loop is a sum.
#[grad(w)]
fn huber_slice(w: &Vector3<f64>, xs: &[Vector3<f64>], y: &[f64], delta: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let r = xs[i].dot(w) - y[i];
        if r.abs() <= delta {
            total += 0.5 * r * r;
        } else {
            total += delta * (r.abs() - 0.5 * delta);
        }
    }
    total
}

/// Samples as rows (`x`, `y`) that the value and the gradient only sum over, computed block of
/// rows by block of rows across threads: a mean that reads the number of samples (which a block
/// must not take for its own), a map with a capture, and the gradient of the samples themselves
/// (one row per sample, stacked).
#[grad(w, x)]
fn mean_squares(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, s: f64) -> f64 {
    let n = x.nrows() as f64;
    let r = (x * w - y) / n;
    r.norm_squared() + r.map(|v| (v * s).tanh()).sum() + w.norm_squared()
}

/// Sums over the samples multiplied, negated and divided after the blocks as written (`c ‖r‖²`,
/// and in the gradient `Xᵀ r` by `−2c/3`): each block's sum scaled instead; `+ c` added once.
#[grad(w)]
fn scaled_sums(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, c: f64) -> f64 {
    let r = x * w - y;
    -(c * r.norm_squared()) / 3.0 + c
}

/// The same in `f32`, the samples' sums a `dot` and a sum of a product.
#[grad(w)]
fn dots_f32(w: &DVector<f32>, x: &DMatrix<f32>, y: &DVector<f32>) -> f32 {
    let z = x * w;
    z.dot(y) + z.component_mul(&z).sum() * 0.5
}

/// Quadratic forms, whose gradients multiply by `A + Aᵀ` (`A + Aᵀ − B − Bᵀ`): a block of the
/// product on another thread forms that factor again from the inputs. By reference, by value,
/// and a difference of two forms.
#[grad(x)]
fn quadform(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x).trace()
}

#[grad(x)]
fn quadform_owned(x: DMatrix<f64>, a: DMatrix<f64>) -> f64 {
    (x.transpose() * &a * &x).trace()
}

#[grad(x)]
fn form_difference(x: &DMatrix<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x).trace() - (x.transpose() * b * x).trace()
}

/// `f` on one thread, then on four (more blocks than the machine may have cores).
fn both<R>(f: impl Fn() -> R) -> (R, R) {
    (with_threads(1, &f), with_threads(4, &f))
}

/// `f` with the thread setting at `n`. The setting is global: one test at a time.
fn with_threads<R>(n: usize, f: impl Fn() -> R) -> R {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    matgrad::set_threads(n);
    f()
}

/// Entry by entry within 1e-12 of the largest entry of `want`.
fn real(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * scale,
            "{what}: entry {k} is {g:e} on four threads, {w:e} on one"
        );
    }
}

#[test]
fn least_squares() {
    let (x, y, w) = (dm::<f64>(900, 200, 1), dv::<f64>(900, 2), dv::<f64>(200, 3));
    let ((v1, g1), (v, g)) = both(|| lsq_grad(&w, &x, &y));
    real("lsq value", &[v], &[v1]);
    real("∇w", g.as_slice(), g1.as_slice());
    fd("lsq", |w| lsq(w, &x, &y), &w, &g);
}

#[test]
fn logistic_regression() {
    let (x, w) = (dm::<f64>(1200, 150, 4), dv::<f64>(150, 5));
    let y = dv::<f64>(1200, 6).map(|v| v.signum());
    let ((v1, g1), (v, g)) = both(|| logreg_grad(&w, &x, &y, 0.1));
    real("logreg value", &[v], &[v1]);
    real("∇w", g.as_slice(), g1.as_slice());
    fd("logreg", |w| logreg(w, &x, &y, 0.1), &w, &g);
}

#[test]
fn sums_over_rows_of_samples() {
    // 4000 samples of 40 features: beyond the size split across threads.
    let (x, y, w) = (
        dm::<f64>(4000, 40, 20),
        dv::<f64>(4000, 21),
        dv::<f64>(40, 22),
    );
    let ((v1, g1, gx1), (v, g, gx)) = both(|| mean_squares_grad(&w, &x, &y, 0.7));
    real("mean_squares value", &[v], &[v1]);
    real("∇w", g.as_slice(), g1.as_slice());
    real("∇x", gx.as_slice(), gx1.as_slice());
    same_value("mean_squares", v, mean_squares(&w, &x, &y, 0.7));
    fd("mean_squares", |w| mean_squares(w, &x, &y, 0.7), &w, &g);
    let ((v1, g1), (v, g)) = both(|| scaled_sums_grad(&w, &x, &y, -0.3));
    real("scaled_sums value", &[v], &[v1]);
    real("∇w", g.as_slice(), g1.as_slice());
    same_value("scaled_sums", v, scaled_sums(&w, &x, &y, -0.3));
    fd("scaled_sums", |w| scaled_sums(w, &x, &y, -0.3), &w, &g);
    let (x, y, w) = (dm::<f64>(30, 4, 20), dv::<f64>(30, 21), dv::<f64>(4, 22));
    let (_, _, gx) = mean_squares_grad(&w, &x, &y, 0.7);
    fd("mean_squares ∇x", |x| mean_squares(&w, x, &y, 0.7), &x, &gx);

    let (x, y, w) = (
        dm::<f32>(4000, 50, 23),
        dv::<f32>(4000, 24),
        dv::<f32>(50, 25),
    );
    let ((v1, g1), (v, g)) = both(|| dots_f32_grad(&w, &x, &y));
    let scale = g1.amax();
    assert!(
        (v - v1).abs() <= 1e-4 * v1.abs(),
        "{v} on four threads, {v1} on one"
    );
    assert!(
        (&g - &g1).amax() <= 1e-4 * scale,
        "∇w on four threads against one"
    );
    same_value("dots_f32", v, dots_f32(&w, &x, &y));
    // (Finite differences in `f32` over 4000 samples are too coarse: a smaller instance.)
    let (x, y, w) = (dm::<f32>(40, 5, 23), dv::<f32>(40, 24), dv::<f32>(5, 25));
    fd(
        "dots_f32",
        |w| dots_f32(w, &x, &y),
        &w,
        &dots_f32_grad(&w, &x, &y).1,
    );
}

#[test]
fn matrix_factorisation() {
    // Blocks of rows of `M` and `U` (`∇U` stacked), their products inside.
    for (rows, cols, rank) in [(400, 300, 12), (200, 150, 10)] {
        let (m, u, v) = (
            dm::<f64>(rows, cols, 7),
            dm::<f64>(rows, rank, 8),
            dm::<f64>(cols, rank, 9),
        );
        let ((f1, gu1, gv1), (f, gu, gv)) = both(|| mf_grad(&m, &u, &v));
        real("mf value", &[f], &[f1]);
        real("∇u", gu.as_slice(), gu1.as_slice());
        real("∇v", gv.as_slice(), gv1.as_slice());
        same_value("mf", f, mf(&m, &u, &v));
    }
    // Finite differences on a smaller instance: one evaluation per entry of u and v.
    let (m, u, v) = (
        dm::<f64>(60, 40, 7),
        dm::<f64>(60, 3, 8),
        dm::<f64>(40, 3, 9),
    );
    let (_, gu, gv) = mf_grad(&m, &u, &v);
    fd("mf ∇u", |u| mf(&m, u, &v), &u, &gu);
    fd("mf ∇v", |v| mf(&m, &u, v), &v, &gv);

    let rank3 = |rows: usize, cols: usize| {
        let u = dm::<f64>(rows, 3, 8);
        let v = dm::<f64>(cols, 3, 9);
        (
            dm::<f64>(rows, cols, 7),
            OMatrix::<f64, Dyn, U3>::from_iterator(rows, u.iter().copied()),
            OMatrix::<f64, Dyn, U3>::from_iterator(cols, v.iter().copied()),
        )
    };
    let (m, u, v) = rank3(3000, 200);
    let ((f1, gu1, gv1), (f, gu, gv)) = both(|| mf_rank3_grad(&m, &u, &v));
    real("mf_rank3 value", &[f], &[f1]);
    real("∇u", gu.as_slice(), gu1.as_slice());
    real("∇v", gv.as_slice(), gv1.as_slice());
    same_value("mf_rank3", f, mf_rank3(&m, &u, &v));
    let (m, u, v) = rank3(30, 20);
    let (_, gu, gv) = mf_rank3_grad(&m, &u, &v);
    fd("mf_rank3 ∇u", |u| mf_rank3(&m, u, &v), &u, &gu);
    fd("mf_rank3 ∇v", |v| mf_rank3(&m, &u, v), &v, &gv);
}

#[test]
fn two_layer_network() {
    let (w1, w2) = (dm::<f64>(600, 400, 10), dm::<f64>(300, 600, 11));
    let (x, y) = (dv::<f64>(400, 12), dv::<f64>(300, 13));
    let ((f1, g11, g21), (f, g1, g2)) = both(|| mlp_grad(&w1, &w2, &x, &y));
    real("mlp value", &[f], &[f1]);
    real("∇w1", g1.as_slice(), g11.as_slice());
    real("∇w2", g2.as_slice(), g21.as_slice());
    let (w1, w2) = (dm::<f64>(20, 8, 10), dm::<f64>(5, 20, 11));
    let (x, y) = (dv::<f64>(8, 12), dv::<f64>(5, 13));
    let (_, g1, g2) = mlp_grad(&w1, &w2, &x, &y);
    fd("mlp ∇w1", |w1| mlp(w1, &w2, &x, &y), &w1, &g1);
    fd("mlp ∇w2", |w2| mlp(&w1, w2, &x, &y), &w2, &g2);
}

#[test]
fn costly_maps_split_by_entries() {
    let (w, x) = (dm::<f64>(3000, 40, 14), dv::<f64>(40, 15));
    let ((f1, g1), (f, g)) = both(|| costly_maps_grad(&w, &x, 0.3));
    real("costly maps value", &[f], &[f1]);
    real("costly maps ∇w", g.as_slice(), g1.as_slice());
    let (w, x) = (dm::<f64>(30, 4, 14), dv::<f64>(4, 15));
    let (_, g) = costly_maps_grad(&w, &x, 0.3);
    fd("costly maps ∇w", |w| costly_maps(w, &x, 0.3), &w, &g);
}

#[test]
fn a_costly_map_in_place_splits_by_entries() {
    let (w, h0) = (dm::<f64>(900, 900, 16), dv::<f64>(900, 17));
    let ((f1, g1), (f, g)) = both(|| recurrence_grad(&w, &h0, 3));
    real("recurrence value", &[f], &[f1]);
    real("recurrence ∇w", g.as_slice(), g1.as_slice());
    let (w, h0) = (dm::<f64>(12, 12, 16), dv::<f64>(12, 17));
    let (_, g) = recurrence_grad(&w, &h0, 3);
    fd("recurrence ∇w", |w| recurrence(w, &h0, 3), &w, &g);
}

#[test]
fn transposed_products_and_fixed_columns() {
    let (x, w) = (dm::<f64>(700, 300, 14), dv::<f64>(300, 15));
    let b = OMatrix::<f64, Dyn, U4>::from_iterator(700, dm::<f64>(700, 4, 16).iter().copied());
    let ((f1, gw1, gb1), (f, gw, gb)) = both(|| tall_grad(&w, &b, &x));
    real("tall value", &[f], &[f1]);
    real("∇w", gw.as_slice(), gw1.as_slice());
    real("∇b", gb.as_slice(), gb1.as_slice());
    let (x, w) = (dm::<f64>(40, 30, 14), dv::<f64>(30, 15));
    let b = OMatrix::<f64, Dyn, U4>::from_iterator(40, dm::<f64>(40, 4, 16).iter().copied());
    let (_, gw, gb) = tall_grad(&w, &b, &x);
    fd("tall ∇w", |w| tall(w, &b, &x), &w, &gw);
    fd("tall ∇b", |b| tall(&w, b, &x), &b, &gb);
}

#[test]
fn complex_products() {
    let c = |r: usize, k: usize, s: u32| {
        DMatrix::from_fn(r, k, |i, j| Complex::new(rnd(s, i, j), rnd(s + 1, i, j)))
    };
    let (z, m) = (c(200, 30, 17), c(100, 200, 19));
    let ((f1, g1), (f, g)) = both(|| complex_quad_grad(&z, &m));
    real("complex value", &[f], &[f1]);
    let parts = |g: &DMatrix<Complex<f64>>| g.iter().flat_map(|c| [c.re, c.im]).collect::<Vec<_>>();
    real("∇z", &parts(&g), &parts(&g1));
}

#[test]
fn a_loop_of_per_sample_terms() {
    let (x, w) = (dm::<f64>(3000, 120, 20), dv::<f64>(120, 21));
    let y = dv::<f64>(3000, 22).map(|v| v.signum());
    let ((v1, g1), (v, g)) = both(|| logreg_loop_grad(&w, &x, &y, 0.1));
    real("logreg_loop value", &[v], &[v1]);
    real("∇w", g.as_slice(), g1.as_slice());
    // The same loss as matrix products.
    let (vm, gm) = logreg_grad(&w, &x, &y, 0.1);
    real("against the matrix form", &[v], &[vm]);
    real("∇w against the matrix form", g.as_slice(), gm.as_slice());
    // Finite differences on a smaller instance.
    let (x, w) = (dm::<f64>(100, 20, 20), dv::<f64>(20, 21));
    let y = dv::<f64>(100, 22).map(|v| v.signum());
    let (_, g) = logreg_loop_grad(&w, &x, &y, 0.1);
    fd("logreg_loop", |w| logreg_loop(w, &x, &y, 0.1), &w, &g);
}

#[test]
fn a_loop_adding_matrices_backwards() {
    let (x, w) = (dm::<f64>(2000, 40, 23), dv::<f64>(40, 24));
    let ((v1, g1), (v, g)) = both(|| moment_grad(&w, &x));
    real("moment value", &[v], &[v1]);
    real("∇w", g.as_slice(), g1.as_slice());
    let (x, w) = (dm::<f64>(50, 8, 23), dv::<f64>(8, 24));
    let (_, g) = moment_grad(&w, &x);
    fd("moment", |w| moment(w, &x), &w, &g);
}

/// Blocks of rows cover the rows once, whatever the thread setting: their sums add up (integer
/// sums are exact), and each writes its rows into place.
#[test]
fn blocks_of_rows_cover_the_rows_once() {
    use matgrad::__private::{splits_rows, sum_blocks, RowsOut};
    for threads in [1, 2, 3, 4] {
        let (sum, rows) = with_threads(threads, || {
            assert_eq!(splits_rows(100_000, 1 << 20), matgrad::threads() > 1);
            let out = RowsOut::new(100_000, Dyn(2));
            let sum = sum_blocks(5..100_005, 1 << 20, |block| {
                let rows = DMatrix::from_fn(block.len(), 2, |i, j| (block.start + i + j) as f64);
                out.put(block.start - 5..block.end - 5, &rows);
                block.sum::<usize>()
            });
            (sum, out.into_matrix())
        });
        assert_eq!(sum, (5..100_005).sum::<usize>(), "{threads} threads");
        let want = DMatrix::from_fn(100_000, 2, |i, j| (5 + i + j) as f64);
        assert_eq!(rows, want, "{threads} threads");
    }
}

/// A block of any strides (a transposed view, rows of a larger matrix) is written entry for
/// entry.
#[test]
fn blocks_of_rows_of_any_strides_are_written_in_place() {
    use matgrad::__private::RowsOut;
    let a = DMatrix::from_fn(3, 5, |i, j| (10 * i + j) as f64);
    let big = DMatrix::from_fn(9, 3, |i, j| (100 + 10 * i + j) as f64);
    let out = RowsOut::new(7, Dyn(3));
    out.put(0..5, &a.transpose());
    out.put(5..7, &big.rows(4, 2));
    let want = DMatrix::from_fn(7, 3, |i, j| match i {
        0..5 => a[(j, i)],
        _ => big[(i - 1, j)],
    });
    assert_eq!(out.into_matrix(), want);
}

/// Rows written twice, or left unwritten, panic rather than leave a wrong matrix.
#[test]
fn rows_written_twice_or_not_at_all_panic() {
    use matgrad::__private::RowsOut;
    let block = DMatrix::from_element(3, 2, 1.0);
    let out = RowsOut::new(6, Dyn(2));
    out.put(0..3, &block);
    let twice = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| out.put(2..5, &block)));
    assert!(twice.is_err());
    let unwritten = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| out.into_matrix()));
    assert!(unwritten.is_err());
    let wrong_shape = std::panic::catch_unwind(|| {
        RowsOut::new(6, Dyn(2)).put(0..2, &DMatrix::<f64>::zeros(3, 2))
    });
    assert!(wrong_shape.is_err());
}

/// Blocks of the range, added in order: integer sums are exact, and the blocks cover the range
/// once whatever the thread setting.
#[test]
fn a_sum_loop_covers_its_range_once() {
    for threads in [1, 2, 3, 4] {
        let (sum, squares) = with_threads(threads, || {
            let init = (7usize, 0u64);
            matgrad::__private::sum_loop(5..100_005, 1 << 20, init, |block, (mut s, mut q)| {
                for i in block {
                    s += i;
                    q += (i as u64) * (i as u64);
                }
                (s, q)
            })
        });
        let want: usize = 7 + (5..100_005).sum::<usize>();
        let want_q: u64 = (5..100_005u64).map(|i| i * i).sum();
        assert_eq!((sum, squares), (want, want_q), "{threads} threads");
    }
}

#[test]
fn a_loop_with_its_sum_in_a_branch() {
    let sample = |n: usize, seed: u32| -> (Vec<Vector3<f64>>, Vec<f64>) {
        let x = dm::<f64>(n, 3, seed);
        let xs = (0..n)
            .map(|i| Vector3::new(x[(i, 0)], x[(i, 1)], x[(i, 2)]))
            .collect();
        (xs, dv::<f64>(n, seed + 1).iter().copied().collect())
    };
    let w = dv::<f64>(3, 25);
    let w = Vector3::new(w[0], w[1], w[2]);
    let (xs, y) = sample(20_000, 26);
    let ((v1, g1), (v, g)) = both(|| huber_slice_grad(&w, &xs, &y, 0.3));
    real("huber value", &[v], &[v1]);
    real("∇w", g.as_slice(), g1.as_slice());
    let (xs, y) = sample(40, 26);
    let (_, g) = huber_slice_grad(&w, &xs, &y, 0.3);
    fd("huber_slice", |w| huber_slice(w, &xs, &y, 0.3), &w, &g);
}

#[test]
fn quadratic_forms_form_their_factor_on_each_thread() {
    // Square, wide (split by columns: each block reads all of the factor) and tall (by rows).
    for (n, k) in [(120, 120), (100, 300), (300, 20)] {
        let (x, a, b) = (
            dm::<f64>(n, k, 30),
            dm::<f64>(n, n, 31),
            dm::<f64>(n, n, 32),
        );
        let ((f1, g1), (f, g)) = both(|| quadform_grad(&x, &a));
        assert_eq!(
            (f, &g),
            (f1, &g1),
            "quadform {n}×{k}: four threads against one"
        );
        same_value("quadform", f, quadform(&x, &a));
        let ((f1, g1), (f, g)) = both(|| quadform_owned_grad(x.clone(), a.clone()));
        assert_eq!((f, &g), (f1, &g1), "quadform_owned {n}×{k}");
        assert_eq!(g, quadform_grad(&x, &a).1, "by value and by reference");
        let ((f1, g1), (f, g)) = both(|| form_difference_grad(&x, &a, &b));
        assert_eq!((f, &g), (f1, &g1), "form_difference {n}×{k}");
        same_value("form_difference", f, form_difference(&x, &a, &b));
    }
    let (x, a, b) = (
        dm::<f64>(12, 5, 30),
        dm::<f64>(12, 12, 31),
        dm::<f64>(12, 12, 32),
    );
    fd(
        "quadform",
        |x| quadform(x, &a),
        &x,
        &quadform_grad(&x, &a).1,
    );
    let g = form_difference_grad(&x, &a, &b).1;
    fd("form_difference", |x| form_difference(x, &a, &b), &x, &g);
}
