//! Where the time goes in the cases where matgrad is furthest from the hand-written gradient,
//! and in mlp 64-128-10 (the one-sample network the `parallel` goal names): each generated
//! function beside the operations its expansion is made of (see
//! `cargo expand -p matgrad-bench --lib`), timed like the table.
//!
//! `cargo run --release -p matgrad-bench --example breakdown`

use std::hint::black_box as bb;

use matgrad::nalgebra::{DMatrix, DVector, Matrix3};
use matgrad_bench::harness::{time_case, Case, Impl, Timing};
use matgrad_bench::{data, gauss_nll, lsq, mf, mlp, quadform};

type M = DMatrix<f64>;

/// Times each part on `input`, round-robin like the table, and prints the medians.
/// A named operation on the inputs.
type Part<T> = (&'static str, fn(&T) -> f64);

fn show<T: 'static>(title: &str, input: T, parts: &[Part<T>]) {
    let input = std::rc::Rc::new(input);
    let mut case = Case::new("breakdown", title);
    for &(_, f) in parts {
        let input = std::rc::Rc::clone(&input);
        case = case.with(Impl::Value, move || f(bb(&*input)));
    }
    let ns = time_case(&case, &Timing::default());
    println!("{title}");
    for ((name, _), t) in parts.iter().zip(ns) {
        println!("  {name:52} {t:>10.0} ns");
    }
}

/// Keeps a result alive (all of it, not only the entry a caller would read).
fn keep<T>(t: T) -> f64 {
    bb(t);
    0.0
}

/// glibc returns freed memory at the top of the heap to the system and serves large blocks by
/// `mmap`, so a large temporary can cost a page fault per 4 KiB on every call, depending on
/// what the process allocated before. That is a real cost of temporaries, but it depends on the
/// history of the process: here it is switched off, to see what the operations themselves cost.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_heap() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    // SAFETY: mallopt only changes glibc's allocation thresholds.
    unsafe {
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        mallopt(M_MMAP_THRESHOLD, 1 << 30);
    }
    println!("(glibc heap trimming and mmap for large blocks switched off)");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_heap() {}

/// mlp's inputs and the intermediate values of its gradient.
struct Mlp {
    w1: M,
    w2: M,
    x: DVector<f64>,
    y: DVector<f64>,
    /// `W₁x`.
    z: DVector<f64>,
    /// `tanh.(z)`.
    h: DVector<f64>,
    /// `W₂h − y`.
    r: DVector<f64>,
    /// `(2W₂ᵀr) ∘ (1 − h∘h)`.
    delta: DVector<f64>,
}

/// The body `#[grad]` generates for `lsq` (see `cargo expand -p matgrad-bench --lib lsq`),
/// compiled here rather than in the library.
fn lsq_grad_compiled_here(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
) -> (f64, DVector<f64>) {
    let t3 = x * w;
    let r = t3 - y;
    let value = r.norm_squared();
    (value, matgrad::__private::tr_mul_vector_scaled(2.0, x, &r))
}

fn main() {
    keep_heap();

    type Lsq = (DVector<f64>, DMatrix<f64>, DVector<f64>);
    let input: Lsq = (
        data::dvector(5, 1.0, 12),
        data::dmatrix(20, 5, 1.0, 11),
        data::dvector(20, 1.0, 13),
    );
    show(
        "lsq, n = 20, d = 5",
        input,
        &[
            ("lsq_grad (matgrad)", |(w, x, y): &Lsq| {
                lsq::lsq_grad(w, x, y).0
            }),
            ("lsq_hand", |(w, x, y): &Lsq| lsq::lsq_hand(w, x, y).0),
            (
                "the same generated code, compiled in this crate",
                |(w, x, y): &Lsq| lsq_grad_compiled_here(w, x, y).0,
            ),
            ("lsq (value only)", |(w, x, y): &Lsq| lsq::lsq(w, x, y)),
        ],
    );

    let x = data::dmatrix(100, 100, 1.0, 33);
    let a = data::dmatrix(100, 100, 1.0, 34);
    show(
        "quadform, n = 100",
        (x, a),
        &[
            ("quadform_grad (matgrad)", |(x, a)| {
                quadform::quadform_grad(x, a).0
            }),
            ("quadform_hand", |(x, a)| quadform::quadform_hand(x, a).0),
            ("x.tr_mul(a): a dot product per entry", |(x, a)| {
                keep(x.tr_mul(a))
            }),
            ("x.transpose() * a: copy, then gemm", |(x, a)| {
                keep(x.transpose() * a)
            }),
            (
                "__private::tr_mul(x, a): gemm on a transposed view",
                |(x, a)| keep(matgrad::__private::tr_mul(x, a)),
            ),
            ("a * x: gemm (matrixmultiply)", |(x, a)| keep(a * x)),
            ("t.tr_dot(x)", |(x, a)| x.tr_dot(a)),
            ("&t + &u: allocation and one pass", |(x, a)| keep(x + a)),
        ],
    );

    show(
        "gauss_nll, n = 50",
        (data::spd(50, 43), data::spd(50, 44)),
        &[
            ("gauss_nll_grad (matgrad)", |(x, s)| {
                gauss_nll::gauss_nll_grad(x, s).0
            }),
            ("gauss_nll_hand", |(x, s)| gauss_nll::gauss_nll_hand(x, s).0),
            ("gauss_nll (value only: LU det, LU inverse)", |(x, s)| {
                gauss_nll::gauss_nll(x, s)
            }),
            (
                "matgrad::logdet (the runtime LU the expansion uses)",
                |(x, _)| matgrad::logdet(x),
            ),
            ("nalgebra lu().try_inverse()", |(x, _)| {
                keep(x.clone().lu().try_inverse().unwrap())
            }),
            (
                "matgrad's LU and its inverse (blocked, as emitted)",
                |(x, _)| keep(matgrad::__private::Lu::new(x).inverse().unwrap()),
            ),
            ("nalgebra cholesky()", |(x, _)| {
                keep(x.clone().cholesky().unwrap().l_dirty())
            }),
            ("nalgebra cholesky().inverse()", |(x, _)| {
                keep(x.clone().cholesky().unwrap().inverse())
            }),
            ("a.tr_mul(b): a dot product per entry", |(x, s)| {
                keep(x.tr_mul(s))
            }),
            ("a * b: gemm (matrixmultiply)", |(x, s): &(M, M)| {
                keep(x * s)
            }),
            ("transpose copy", |(x, _)| keep(x.transpose())),
        ],
    );

    let sigma = Matrix3::from_column_slice(data::spd(3, 41).as_slice());
    let s = Matrix3::from_column_slice(data::spd(3, 42).as_slice());
    show(
        "gauss_nll, Matrix3",
        (sigma, s),
        &[
            ("gauss_nll3_grad (matgrad)", |(x, s)| {
                gauss_nll::gauss_nll3_grad(x, s).0
            }),
            ("gauss_nll3_hand (closed-form det and inverse)", |(x, s)| {
                gauss_nll::gauss_nll3_hand(x, s).0
            }),
            ("gauss_nll3_hand_cholesky", |(x, s)| {
                gauss_nll::gauss_nll3_hand_cholesky(x, s).0
            }),
            ("matgrad::logdet (LU, as emitted for ln det)", |(x, _)| {
                matgrad::logdet(x)
            }),
            ("determinant().ln() (closed form)", |(x, _)| {
                x.determinant().ln()
            }),
            ("try_inverse() (closed form)", |(x, _)| {
                keep(x.try_inverse().unwrap())
            }),
        ],
    );

    // The steps of `mlp_grad` on one thread, as its expansion makes them.
    let (w1, w2) = (
        data::dmatrix(128, 64, 0.125, 65),
        data::dmatrix(10, 128, 0.09, 66),
    );
    let (x, y) = (data::dvector(64, 1.0, 67), data::dvector(10, 1.0, 68));
    let z = matgrad::__private::mul(&w1, &x);
    let h = z.map(f64::tanh);
    let r = matgrad::__private::mul(&w2, &h) - &y;
    let delta = matgrad::__private::tr_mul_vector_scaled(2.0, &w2, &r)
        .zip_map(&h, |g, h| g * (1.0 - h * h));
    let input = Mlp {
        w1,
        w2,
        x,
        y,
        z,
        h,
        r,
        delta,
    };
    show(
        "mlp, d = 64, h = 128, o = 10",
        input,
        &[
            ("mlp_grad (matgrad)", |m: &Mlp| {
                mlp::mlp_grad(&m.w1, &m.w2, &m.x, &m.y).0
            }),
            ("mlp_hand", |m| mlp::mlp_hand(&m.w1, &m.w2, &m.x, &m.y).0),
            ("mul(w1, x): matrix × vector", |m| {
                keep(matgrad::__private::mul(&m.w1, &m.x))
            }),
            ("&w1 * x: nalgebra's", |m| keep(&m.w1 * &m.x)),
            ("z.map(tanh): 128 tanh", |m| keep(m.z.map(f64::tanh))),
            ("mul(w2, h) − y", |m| {
                keep(matgrad::__private::mul(&m.w2, &m.h) - &m.y)
            }),
            ("mul_tr_scaled(2, r, h): outer product", |m| {
                keep(matgrad::__private::mul_tr_scaled(2.0, &m.r, &m.h))
            }),
            ("tr_mul_vector_scaled(2, w2, r): 128 dot products", |m| {
                keep(matgrad::__private::tr_mul_vector_scaled(2.0, &m.w2, &m.r))
            }),
            ("w2.gemv_tr(2, r): nalgebra's", |m| {
                let mut g = DVector::zeros(m.w2.ncols());
                g.gemv_tr(2.0, &m.w2, &m.r, 0.0);
                keep(g)
            }),
            ("mul_tr(δ, x): outer product", |m| {
                keep(matgrad::__private::mul_tr(&m.delta, &m.x))
            }),
            ("δ xᵀ: nalgebra's", |m| keep(&m.delta * m.x.transpose())),
        ],
    );

    // Large matrix × vector products, as lsq's gradient makes them at 2000 × 200.
    type Large = (M, DVector<f64>, DVector<f64>);
    let input: Large = (
        data::dmatrix(2000, 200, 1.0, 21),
        data::dvector(200, 1.0, 22),
        data::dvector(2000, 1.0, 23),
    );
    show(
        "X w and Xᵀ r, X 2000 × 200",
        input,
        &[
            ("mul(x, w)", |(x, w, _): &Large| {
                keep(matgrad::__private::mul(x, w))
            }),
            ("x * w: nalgebra's", |(x, w, _)| keep(x * w)),
            ("tr_mul_vector_scaled(2, x, r)", |(x, _, r)| {
                keep(matgrad::__private::tr_mul_vector_scaled(2.0, x, r))
            }),
            ("g.gemv_tr(2, x, r): nalgebra's", |(x, _, r)| {
                let mut g = DVector::zeros(x.ncols());
                g.gemv_tr(2.0, x, r, 0.0);
                keep(g)
            }),
        ],
    );

    let m = data::dmatrix(200, 150, 1.0, 54);
    let u = data::dmatrix(200, 10, 1.0, 55);
    let v = data::dmatrix(150, 10, 1.0, 56);
    show(
        "mf, 200 × 150, r = 10",
        (m, u, v),
        &[
            ("mf_grad (matgrad)", |(m, u, v)| mf::mf_grad(m, u, v).0),
            ("mf_hand", |(m, u, v)| mf::mf_hand(m, u, v).0),
            ("mf (value only)", |(m, u, v)| mf::mf(m, u, v)),
            ("r.tr_mul(u): a dot product per entry", |(m, u, _)| {
                keep(m.tr_mul(u))
            }),
            ("r.transpose() * u: copy, then gemm", |(m, u, _)| {
                keep(m.transpose() * u)
            }),
            (
                "__private::tr_mul(r, u): gemm on a transposed view",
                |(m, u, _)| keep(matgrad::__private::tr_mul(m, u)),
            ),
            ("&r * v: gemm", |(m, _, v)| keep(m * v)),
            ("u * v.transpose(): copy, then gemm", |(_, u, v)| {
                keep(u * v.transpose())
            }),
            ("&t * (−2.0): allocation and one pass", |(m, _, _)| {
                keep(m * -2.0)
            }),
        ],
    );
}
