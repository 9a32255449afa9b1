//! Each expert baseline beside the other hand-written forms measured before it was chosen (the
//! previous baselines among them), timed like the table after a check that all forms agree.
//!
//! `cargo run --release -p matgrad-bench --example baseline_forms [CASE ...]`

use std::hint::black_box as bb;
use std::rc::Rc;

use matgrad::nalgebra::{Const, DMatrix, DVector, Dyn, Matrix3, OMatrix};
use matgrad_bench::harness::{time_case, Case, GradOutput, Impl, Timing};
use matgrad_bench::linalg::{gemm_nt, gemm_tn};
use matgrad_bench::rnn::{Ud, Xd};
use matgrad_bench::{data, gauss_nll, mlp, quadform, rnn, softmax_ce};

/// The named forms of one case at one size: the first is the baseline.
struct Forms {
    title: String,
    names: Vec<&'static str>,
    case: Case,
}

impl Forms {
    fn new(title: impl Into<String>) -> Forms {
        Forms {
            title: title.into(),
            names: Vec::new(),
            case: Case::new("forms", ""),
        }
    }

    fn form<F, R>(mut self, name: &'static str, f: F) -> Forms
    where
        F: Fn() -> R + 'static,
        R: GradOutput,
    {
        self.names.push(name);
        self.case = self.case.with(Impl::Value, f);
        self
    }

    /// Checks every form against the first (1e-9 relative), then times them round-robin.
    fn run(self) {
        let (v0, g0) = self.case.entries[0].eval();
        for (name, e) in self.names.iter().zip(&self.case.entries).skip(1) {
            let (v, g) = e.eval();
            let err = g
                .iter()
                .zip(&g0)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
                / g0.iter().map(|b| b.abs()).fold(f64::MIN_POSITIVE, f64::max);
            assert!(
                ((v - v0) / v0).abs() < 1e-9 && err < 1e-9 && g.len() == g0.len(),
                "{}: {name} disagrees with {}",
                self.title,
                self.names[0]
            );
        }
        let ns = time_case(&self.case, &Timing::default());
        println!("{}", self.title);
        for (name, t) in self.names.iter().zip(&ns) {
            println!("  {name:64} {t:>10.1} ns  ({:.2}×)", t / ns[0]);
        }
    }
}

fn quadform_forms() {
    let x: Matrix3<f64> = data::smatrix(1.0, 31);
    let a: Matrix3<f64> = data::smatrix(1.0, 32);
    Forms::new("quadform 3 (Matrix3)")
        .form("S = A + Aᵀ, G = SX, ½⟨X, G⟩", move || {
            quadform::quadform3_hand(bb(&x), bb(&a))
        })
        .form("previous: AX, ⟨X, AX⟩, AX + AᵀX", move || {
            let (x, a) = (bb(&x), bb(&a));
            let ax = a * x;
            (x.dot(&ax), ax + a.tr_mul(x))
        })
        .run();
    for n in quadform::SIZES {
        let x = Rc::new(data::dmatrix(n, n, 1.0, 33));
        let a = Rc::new(data::dmatrix(n, n, 1.0, 34));
        let (x1, a1) = (Rc::clone(&x), Rc::clone(&a));
        Forms::new(format!("quadform {n}"))
            .form("S = A + Aᵀ, G = SX, ½⟨X, G⟩", move || {
                quadform::quadform_hand(bb(&x1), bb(&a1))
            })
            .form(
                "previous: G = AX, ⟨X, G⟩, G += AᵀX (gemm, β = 1)",
                move || {
                    let (x, a) = (bb(&*x), bb(&*a));
                    let mut g = a * x;
                    let f = x.dot(&g);
                    gemm_tn(&mut g, 1.0, a, x, 1.0);
                    (f, g)
                },
            )
            .run();
    }
}

fn gauss_nll_forms() {
    let sigma = Matrix3::from_column_slice(data::spd(3, 41).as_slice());
    let s = Matrix3::from_column_slice(data::spd(3, 42).as_slice());
    Forms::new("gauss_nll 3 (Matrix3)")
        .form(
            "six cofactors once: det and adjugate, P = Σ⁻¹S",
            move || gauss_nll::gauss_nll3_hand(bb(&sigma), bb(&s)),
        )
        .form("previous: try_inverse() and determinant()", move || {
            let (sigma, s) = (bb(&sigma), bb(&s));
            let inv = sigma.try_inverse().expect("Σ is invertible");
            let t = inv * s;
            (sigma.determinant().ln() + t.trace(), inv - t * inv)
        })
        .form("Cholesky", move || {
            gauss_nll::gauss_nll3_hand_cholesky(bb(&sigma), bb(&s))
        })
        .form("nine cofactors (no symmetry)", move || {
            gauss_nll::gauss_nll3_hand_nine(bb(&sigma), bb(&s))
        })
        .run();
}

fn mlp_forms() {
    let (d, h, o) = mlp::SIZES[0];
    let w1 = data::dmatrix(h, d, 1.0 / (d as f64).sqrt(), 65);
    let w2 = data::dmatrix(o, h, 1.0 / (h as f64).sqrt(), 66);
    let x = data::dvector(d, 1.0, 67);
    let y = data::dvector(o, 1.0, 68);
    let args = Rc::new((w1, w2, x, y));
    let a1 = Rc::clone(&args);
    let a2 = Rc::clone(&args);
    Forms::new(format!("mlp d={d} h={h} o={o}"))
        .form(
            "tr_mul, zip_map, outer products δxᵀ, s hᵀ",
            move || {
                let (w1, w2, x, y) = bb(&*a1);
                mlp::mlp_hand(w1, w2, x, y)
            },
        )
        .form(
            "gemv, tanh in place, gemv_tr, outer products by from_fn",
            move || {
                let (w1, w2, x, y) = bb(&*a2);
                let (h, r, delta) = mlp_in_place(w1, w2, x, y);
                let g1 = DMatrix::from_fn(w1.nrows(), w1.ncols(), |i, j| delta[i] * x[j]);
                let g2 = DMatrix::from_fn(w2.nrows(), w2.ncols(), |i, j| 2.0 * r[i] * h[j]);
                (r.norm_squared(), g1, g2)
            },
        )
        .form(
            "the same, outer products by ger into zeroed matrices",
            move || {
                let (w1, w2, x, y) = bb(&*args);
                let (h, r, delta) = mlp_in_place(w1, w2, x, y);
                let mut g1 = DMatrix::zeros(w1.nrows(), w1.ncols());
                g1.ger(1.0, &delta, x, 0.0);
                let mut g2 = DMatrix::zeros(w2.nrows(), w2.ncols());
                g2.ger(2.0, &r, &h, 0.0);
                (r.norm_squared(), g1, g2)
            },
        )
        .run();
}

/// The in-place forms' shared part: `h = tanh.(W₁x)` and `r = W₂h − y` in their buffers,
/// `δ = (2W₂ᵀr) ∘ (1 − h∘h)` by one `gemv_tr` and one pass.
fn mlp_in_place(
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    x: &DVector<f64>,
    y: &DVector<f64>,
) -> (DVector<f64>, DVector<f64>, DVector<f64>) {
    let mut h = w1 * x;
    h.apply(|v| *v = v.tanh());
    let mut r = y.clone();
    r.gemv(1.0, w2, &h, -1.0);
    let mut delta = DVector::zeros(h.len());
    delta.gemv_tr(2.0, w2, &r, 0.0);
    delta.zip_apply(&h, |d, h| *d *= 1.0 - h * h);
    (h, r, delta)
}

fn mlp_s_forms() {
    let w1: mlp::W1s = data::smatrix(0.5, 61);
    let w2: mlp::W2s = data::smatrix(0.5, 62);
    let x: mlp::Xs = data::smatrix(1.0, 63);
    let y: mlp::Ys = data::smatrix(1.0, 64);
    Forms::new("mlp d=4 h=8 o=2 (SMatrix)")
        .form(
            "tr_mul, zip_map, outer products δxᵀ, 2r hᵀ",
            move || mlp::mlp_s_hand(bb(&w1), bb(&w2), bb(&x), bb(&y)),
        )
        .form("ger into zeroed matrices", move || {
            let (w1, w2, x, y) = (bb(&w1), bb(&w2), bb(&x), bb(&y));
            let h = (w1 * x).map(f64::tanh);
            let r = w2 * h - y;
            let mut delta = w2.tr_mul(&r);
            delta.zip_apply(&h, |d, h| *d *= 2.0 * (1.0 - h * h));
            let mut g1 = mlp::W1s::zeros();
            g1.ger(1.0, &delta, x, 0.0);
            let mut g2 = mlp::W2s::zeros();
            g2.ger(2.0, &r, &h, 0.0);
            (r.norm_squared(), g1, g2)
        })
        .run();
}

fn rnn_forms() {
    let args = Rc::new(rnn::dynamic_args(rnn::SIZES[0], rnn::STEPS));
    let a1 = Rc::clone(&args);
    let a2 = Rc::clone(&args);
    Forms::new(format!("rnn h={} T={}", rnn::SIZES[0], rnn::STEPS))
        .form("UX for all steps in one gemm, states in place", move || {
            let (w, u, h0, xs) = bb(&*a1);
            rnn::rnn_hand(w, u, h0, xs)
        })
        .form("previous: Uxₜ and W hₜ by gemv per step", move || {
            let (w, u, h0, xs) = bb(&*a2);
            rnn_per_step(w, u, h0, xs)
        })
        .form("ger per step", move || {
            let (w, u, h0, xs) = bb(&*args);
            rnn::rnn_hand_ger(w, u, h0, xs)
        })
        .run();
}

/// The previous rnn baseline: `Uxₜ` and `W hₜ` by one `gemv` each per step into a vector, the
/// state copied into `H`'s column.
fn rnn_per_step(
    w: &DMatrix<f64>,
    u: &Ud,
    h0: &DVector<f64>,
    xs: &[Xd],
) -> (f64, DMatrix<f64>, Ud, DVector<f64>) {
    let (n, steps) = (h0.len(), xs.len());
    let mut hs = DMatrix::zeros(n, steps);
    let mut h = h0.clone();
    let mut z = DVector::zeros(n);
    for (t, x) in xs.iter().enumerate() {
        hs.set_column(t, &h);
        z.gemv(1.0, u, x, 0.0);
        z.gemv(1.0, w, &h, 1.0);
        h.zip_apply(&z, |h, z| *h = z.tanh());
    }
    let f = h.norm_squared();
    let mut hbar = &h * 2.0;
    let mut deltas = DMatrix::zeros(n, steps);
    for t in (0..steps).rev() {
        let next = if t + 1 < steps {
            hs.column(t + 1)
        } else {
            h.column(0)
        };
        let mut delta = deltas.column_mut(t);
        for i in 0..n {
            delta[i] = hbar[i] * (1.0 - next[i] * next[i]);
        }
        hbar.gemv_tr(1.0, w, &delta, 0.0);
    }
    let mut gw = DMatrix::zeros(n, n);
    gemm_nt(&mut gw, 1.0, &deltas, &hs, 0.0);
    let xt = OMatrix::<f64, Dyn, Const<16>>::from_fn(steps, |t, k| xs[t][k]);
    let mut gu = Ud::zeros(n);
    gu.gemm(1.0, &deltas, &xt, 0.0);
    (f, gw, gu, hbar)
}

fn softmax_ce_forms() {
    for (k, d, n) in softmax_ce::SIZES {
        let w = data::dmatrix(k, d, 1.0 / (d as f64).sqrt(), 41);
        let x = data::dmatrix(d, n, 1.0, 42);
        let labels: Vec<usize> = (0..n).map(|j| (j * 7 + 3) % k).collect();
        let args = Rc::new((w, x, labels));
        let a1 = Rc::clone(&args);
        Forms::new(format!("softmax_ce k={k} d={d} n={n}"))
            .form("∇W = G Xᵀ against a transposed view", move || {
                let (w, x, y) = bb(&*a1);
                softmax_ce::softmax_ce_hand(w, x, y)
            })
            .form(
                "previous: ∇W = G Xᵀ against a transposed copy",
                move || {
                    let (w, x, y) = bb(&*args);
                    let mut g = w * x;
                    let mut total = 0.0;
                    for (i, mut col) in g.column_iter_mut().enumerate() {
                        let m = col.max();
                        let mut sum = 0.0;
                        for v in col.iter_mut() {
                            *v = (*v - m).exp();
                            sum += *v;
                        }
                        total -= (col[y[i]] / sum).ln();
                        col /= sum;
                        col[y[i]] -= 1.0;
                    }
                    let mut grad = DMatrix::zeros(w.nrows(), w.ncols());
                    grad.gemm(1.0, &g, &x.transpose(), 0.0);
                    (total, grad)
                },
            )
            .run();
    }
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let want = |c: &str| only.is_empty() || only.iter().any(|o| o == c);
    let forms: [(&str, fn()); 6] = [
        ("quadform", quadform_forms),
        ("gauss_nll", gauss_nll_forms),
        ("mlp", mlp_forms),
        ("mlp", mlp_s_forms),
        ("rnn", rnn_forms),
        ("softmax_ce", softmax_ce_forms),
    ];
    for (name, f) in forms {
        if want(name) {
            f();
        }
    }
}
