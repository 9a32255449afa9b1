//! Huber regression written as a loop over the samples, `Σᵢ H_δ(xᵢᵀw − yᵢ)` with respect to
//! `w`, where `H_δ(r) = r²/2` for `|r| ≤ δ` and `δ(|r| − δ/2)` beyond.
//!
//! The table's matgrad entry is [`huber_loop_if`], the loss with an `if` assigning the sum on
//! both sides; [`huber_loop`] is the same loss without a branch, `min(|r|, δ)` written
//! `|r| − relu(|r| − δ)` and the loss `q (|r| − q/2)` with `q = min(|r|, δ)`.

use std::hint::black_box as bb;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector};
#[cfg(feature = "peers")]
use num_dual::DualDVec64;

#[cfg(feature = "peers")]
use crate::adt;
use crate::data;
use crate::fd;
use crate::harness::{Case, Impl, Sizes};
use crate::linalg;

/// The loss without a branch; `#[grad]` adds `huber_loop_grad`.
#[grad(w)]
pub fn huber_loop(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
    let (n, d) = x.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        let a = (z - y[i]).abs();
        let q = a - matgrad::relu(a - delta);
        total += q * (a - 0.5 * q);
    }
    total
}

/// The loss as a user writes it, with `if`; `#[grad]` adds `huber_loop_if_grad`, the table's
/// matgrad entry.
#[grad(w)]
pub fn huber_loop_if(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
    let (n, d) = x.shape();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        let r = z - y[i];
        if r.abs() <= delta {
            total += 0.5 * r * r;
        } else {
            total += delta * (r.abs() - 0.5 * delta);
        }
    }
    total
}

/// By hand, the loops as written: one pass over the samples, the residual by the same inner
/// loop, the loss and `H_δ′(rᵢ)` from one branch, then a second inner loop adding `H_δ′(rᵢ) xᵢ`
/// straight into the gradient.
pub fn huber_loop_hand_loop(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
) -> (f64, DVector<f64>) {
    let (n, d) = x.shape();
    let mut g = DVector::zeros(d);
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..d {
            z += x[(i, j)] * w[j];
        }
        let r = z - y[i];
        let slope = if r.abs() <= delta {
            total += 0.5 * r * r;
            r
        } else {
            total += delta * (r.abs() - 0.5 * delta);
            delta * r.signum()
        };
        for j in 0..d {
            g[j] += slope * x[(i, j)];
        }
    }
    (total, g)
}

/// The matgrad entry of the table: `huber_loop_if_grad`, the loss as a user writes it.
pub fn huber_loop_matgrad(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
) -> (f64, DVector<f64>) {
    huber_loop_if_grad(w, x, y, delta)
}

/// `(H_δ(r), H_δ′(r))`: `(r²/2, r)` inside, `(δ(|r| − δ/2), δ sign r)` outside.
#[inline]
fn huber(r: f64, delta: f64) -> (f64, f64) {
    let a = r.abs();
    if a <= delta {
        (0.5 * r * r, r)
    } else {
        (delta * (a - 0.5 * delta), delta.copysign(r))
    }
}

/// By hand, one fused pass over `X` ([`linalg::fused_rows`], as for `logreg_loop`): the
/// residual of each sample gives its loss and derivative in one branch, and `Xᵀψ` is added up
/// from the same pieces of `X`.
pub fn huber_loop_fused(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
) -> (f64, DVector<f64>) {
    let mut g = DVector::zeros(w.len());
    let f = linalg::fused_rows(x, w, &mut g, |i, z| huber(z - y[i], delta));
    (f, g)
}

/// By hand in two passes: `r = Xw − y` (one `gemv`, `y` subtracted in place), one pass that
/// adds up the loss and overwrites `rᵢ` with `H_δ′(rᵢ)`, `∇w = Xᵀψ` (one `gemv_tr`).
pub fn huber_loop_gemv(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
) -> (f64, DVector<f64>) {
    let mut r = x * w;
    r -= y;
    let mut f = 0.0;
    for ri in r.iter_mut() {
        let (h, d) = huber(*ri, delta);
        f += h;
        *ri = d;
    }
    let mut g = DVector::zeros(w.len());
    g.gemv_tr(1.0, x, &r, 0.0);
    (f, g)
}

/// The hand-written baseline: the two-pass form [`huber_loop_gemv`], faster than the fused
/// pass [`huber_loop_fused`] at every size measured (as for `logreg_loop`).
pub fn huber_loop_hand(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
) -> (f64, DVector<f64>) {
    huber_loop_gemv(w, x, y, delta)
}

/// num-dual forward mode, the loops with the branch on the real part.
#[cfg(feature = "peers")]
pub fn huber_loop_num_dual(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
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
                let r = z - y[i];
                if r.re.abs() <= delta {
                    total += r.clone() * r * 0.5;
                } else if r.re > 0.0 {
                    total += (r - 0.5 * delta) * delta;
                } else {
                    total += (-r - 0.5 * delta) * delta;
                }
            }
            total
        },
        w,
    )
}

/// ad_trait reverse mode, the loops with the branch on the value.
#[cfg(feature = "peers")]
pub fn huber_loop_ad_trait(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
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
        let r = z - adr::constant(y[i]);
        if r.value().abs() <= delta {
            total += adr::constant(0.5) * r * r;
        } else {
            total += adr::constant(delta) * (r.abs() - adr::constant(0.5 * delta));
        }
    }
    let (f, grads) = adt::backward(total);
    (f, adt::adjoints(&grads, &wv, w))
}

/// Central finite differences of [`huber_loop`].
pub fn huber_loop_fd(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    delta: f64,
) -> (f64, DVector<f64>) {
    fd::gradient(w, |w| huber_loop(w, x, y, delta))
}

/// The sizes `(n, d)` of logistic regression.
pub const SIZES: [(usize, usize); 3] = crate::logreg::SIZES;

pub fn cases(sizes: Sizes) -> Vec<Case> {
    let count = if sizes == Sizes::All { SIZES.len() } else { 1 };
    SIZES[..count]
        .iter()
        .enumerate()
        .map(|(i, &(n, d))| {
            // Residuals O(1) with δ = 1: about half the samples on each side of the kink.
            let x = data::dmatrix(n, d, 2.0 / (d as f64).sqrt(), 31);
            let w = data::dvector(d, 1.0, 32);
            let y = data::dvector(n, 1.5, 33);
            let delta = 1.0;
            let args = move || (w.clone(), x.clone(), y.clone());
            let mut case = Case::new("huber_loop", format!("n={n} d={d}"));
            let (w, x, y) = args();
            case = case.with(Impl::Value, move || {
                huber_loop(bb(&w), bb(&x), bb(&y), bb(delta))
            });
            let (w, x, y) = args();
            case = case.with(Impl::Hand, move || {
                huber_loop_hand(bb(&w), bb(&x), bb(&y), bb(delta))
            });
            let (w, x, y) = args();
            case = case.with(Impl::HandLoop, move || {
                huber_loop_hand_loop(bb(&w), bb(&x), bb(&y), bb(delta))
            });
            let (w, x, y) = args();
            case = case.with(Impl::Matgrad, move || {
                huber_loop_matgrad(bb(&w), bb(&x), bb(&y), bb(delta))
            });
            #[cfg(feature = "peers")]
            {
                if n * d <= 10_000 {
                    let (w, x, y) = args();
                    case = case.with(Impl::NumDual, move || {
                        huber_loop_num_dual(bb(&w), bb(&x), bb(&y), bb(delta))
                    });
                } else {
                    case = case.skip(Impl::NumDual, "one allocating dual per scalar op");
                }
                let (w, x, y) = args();
                case = case.with(Impl::AdTrait, move || {
                    huber_loop_ad_trait(bb(&w), bb(&x), bb(&y), bb(delta))
                });
            }
            if i == 0 {
                let (w, x, y) = args();
                case = case.with(Impl::FiniteDiff, move || {
                    huber_loop_fd(bb(&w), bb(&x), bb(&y), bb(delta))
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
    let x = data::dmatrix(n, d, 2.0 / (d as f64).sqrt(), 31);
    let w = data::dvector(d, 1.0, 32);
    let y = data::dvector(n, 1.5, 33);
    let (w2, x2, y2) = (w.clone(), x.clone(), y.clone());
    Case::new("huber_loop forms", format!("n={n} d={d}"))
        .with(Impl::Hand, move || huber_loop_gemv(&w, &x, &y, 1.0))
        .with(Impl::Matgrad, move || huber_loop_fused(&w2, &x2, &y2, 1.0))
}
