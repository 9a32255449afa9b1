//! Logistic regression with an L2 penalty written as a loop over the samples, `Σᵢ ln(1 +
//! exp(−yᵢ xᵢᵀw)) + λ‖w‖²` with respect to `w`, labels `yᵢ = ±1`: the loss of [`crate::logreg`],
//! written the way a user who thinks in samples writes it.

use std::hint::black_box as bb;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};
#[cfg(feature = "peers")]
use num_dual::{DualDVec64, DualNum};

#[cfg(feature = "peers")]
use crate::adt;
use crate::data;
use crate::fd;
use crate::harness::{Case, Impl, Sizes};
use crate::linalg;
use crate::logreg;

/// The loss as two loops, a dot product per sample; `#[grad]` adds `logreg_loop_grad`.
#[grad(w)]
pub fn logreg_loop(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
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

/// By hand: the two-pass form of [`logreg::logreg_hand`], `z = Xw` (`gemv`), one pass over the
/// samples sharing one `exp` between the value and `∂f/∂zᵢ`, `∇w = Xᵀ(∂f/∂z) + 2λw`
/// (`gemv_tr` onto `2λw`). Measured against the fused single pass [`logreg_loop_fused`] over
/// several runs: the same within noise at n = 200 (5.7–5.9 µs against 5.6–6.7 µs), faster at
/// n = 2000 (0.17–0.37 ms against 0.21–0.60 ms; blocks of 64 rows instead of 8 did not help),
/// so it is the baseline.
pub fn logreg_loop_hand(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    logreg::logreg_hand(w, x, y, lambda)
}

/// By hand, the loops as written: one pass over the samples, the margin by the same inner loop,
/// one `exp` shared by the value and `∂f/∂zᵢ = −yᵢ eᵢ/(1 + eᵢ)`, then a second inner loop adding
/// `∂f/∂zᵢ xᵢ` straight into the gradient (started at `2λw`): what a careful engineer writes
/// when the loss is this loop.
pub fn logreg_loop_hand_loop(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let (n, d) = x.shape();
    let mut g = w * (2.0 * lambda);
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        let e = (-y[i] * z).exp();
        let one_e = 1.0 + e;
        total += one_e.ln();
        let s = -y[i] * e / one_e;
        for j in 0..d {
            g[j] += s * x[(i, j)];
        }
    }
    (total + lambda * w.norm_squared(), g)
}

/// By hand, one fused pass over `X` ([`linalg::fused_rows`]): blocks of 8 samples, their margins
/// from contiguous pieces of `X`'s columns, one `exp` per sample shared by the value and
/// `∂f/∂zᵢ = −yᵢ eᵢ/(1 + eᵢ)`, and `Xᵀ(∂f/∂z)` from the same pieces while they are in cache,
/// added onto `2λw`.
pub fn logreg_loop_fused(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let mut g = w * (2.0 * lambda);
    let f = linalg::fused_rows(x, w, &mut g, |i, z| {
        let yi = y[i];
        let e = (-yi * z).exp();
        let one_e = 1.0 + e;
        (one_e.ln(), -yi * e / one_e)
    });
    (f + lambda * w.norm_squared(), g)
}

/// num-dual forward mode, the same loops on dual numbers.
#[cfg(feature = "peers")]
pub fn logreg_loop_num_dual(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let (n, d) = x.shape();
    num_dual::gradient(
        |w: DVector<DualDVec64>| {
            let mut total = DualDVec64::from_re(0.0);
            for i in 0..n {
                let mut z = DualDVec64::from_re(0.0);
                for j in 0..d {
                    z += w[j].clone() * x[(i, j)];
                }
                total += ((z * -y[i]).exp() + 1.0).ln();
            }
            total + w.norm_squared() * lambda
        },
        w,
    )
}

/// ad_trait reverse mode, the same loops on `adr`.
#[cfg(feature = "peers")]
pub fn logreg_loop_ad_trait(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    use ad_trait::reverse_ad::adr::adr;
    use ad_trait::AD;
    use adt::na34::ComplexField;
    adt::reset_tape();
    let (n, d) = x.shape();
    let wv = adt::dvars(w);
    let mut total = adr::constant(0.0);
    for i in 0..n {
        let mut z = adr::constant(0.0);
        for j in 0..d {
            z += wv[j] * adr::constant(x[(i, j)]);
        }
        total += (adr::constant(1.0) + (adr::constant(-y[i]) * z).exp()).ln();
    }
    let f = total + adr::constant(lambda) * wv.norm_squared();
    let (f, grads) = adt::backward(f);
    (f, adt::adjoints(&grads, &wv, w))
}

/// Central finite differences of [`logreg_loop`].
pub fn logreg_loop_fd(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    fd::gradient(w, |w| logreg_loop(w, x, y, lambda))
}

pub fn cases(sizes: Sizes) -> Vec<Case> {
    let count = if sizes == Sizes::All {
        logreg::SIZES.len()
    } else {
        1
    };
    logreg::SIZES[..count]
        .iter()
        .enumerate()
        .map(|(i, &(n, d))| {
            // The inputs of the logreg case.
            let x = data::dmatrix(n, d, 2.0 / (d as f64).sqrt(), 21);
            let w = data::dvector(d, 1.0, 22);
            let y = data::labels(n, 23);
            let lambda = 0.1;
            let args = move || (w.clone(), x.clone(), y.clone());
            let mut case = Case::new("logreg_loop", format!("n={n} d={d}"));
            let (w, x, y) = args();
            case = case.with(Impl::Value, move || {
                logreg_loop(bb(&w), bb(&x), bb(&y), bb(lambda))
            });
            let (w, x, y) = args();
            case = case.with(Impl::Hand, move || {
                logreg_loop_hand(bb(&w), bb(&x), bb(&y), bb(lambda))
            });
            let (w, x, y) = args();
            case = case.with(Impl::HandLoop, move || {
                logreg_loop_hand_loop(bb(&w), bb(&x), bb(&y), bb(lambda))
            });
            let (w, x, y) = args();
            case = case.with(Impl::Matgrad, move || {
                logreg_loop_grad(bb(&w), bb(&x), bb(&y), bb(lambda))
            });
            #[cfg(feature = "peers")]
            {
                if n * d <= 10_000 {
                    let (w, x, y) = args();
                    case = case.with(Impl::NumDual, move || {
                        logreg_loop_num_dual(bb(&w), bb(&x), bb(&y), bb(lambda))
                    });
                } else {
                    case = case.skip(Impl::NumDual, "one allocating dual per scalar op");
                }
                let (w, x, y) = args();
                case = case.with(Impl::AdTrait, move || {
                    logreg_loop_ad_trait(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            }
            if i == 0 {
                let (w, x, y) = args();
                case = case.with(Impl::FiniteDiff, move || {
                    logreg_loop_fd(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            } else {
                case = case.skip(Impl::FiniteDiff, "smallest size only");
            }
            case
        })
        .collect()
}

/// The two hand-written forms agree (the table's check covers the one in use).
pub fn forms_case() -> Case {
    let (n, d) = (37, 6);
    let x = data::dmatrix(n, d, 2.0 / (d as f64).sqrt(), 21);
    let w = data::dvector(d, 1.0, 22);
    let y = data::labels(n, 23);
    let (w2, x2, y2) = (w.clone(), x.clone(), y.clone());
    Case::new("logreg_loop forms", format!("n={n} d={d}"))
        .with(Impl::Hand, move || logreg_loop_hand(&w, &x, &y, 0.1))
        .with(Impl::Matgrad, move || logreg_loop_fused(&w2, &x2, &y2, 0.1))
}
