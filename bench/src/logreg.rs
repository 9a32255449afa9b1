//! Logistic regression with an L2 penalty, `Σ ln(1 + exp(−yᵢ (Xw)ᵢ)) + λ‖w‖²` with respect to
//! `w`, labels `yᵢ = ±1`.

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

/// The loss, as a user writes it (the margin `yᵢ (Xw)ᵢ` by `component_mul`, the per-sample
/// loss by `map`); `#[grad]` adds `logreg_grad`.
#[grad(w)]
pub fn logreg(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    let m = (x * w).component_mul(y);
    m.map(|v| (1.0 + (-v).exp()).ln()).sum() + lambda * w.norm_squared()
}

/// By hand: `z = Xw` (one `gemv`), then one pass over the samples that adds up the loss and
/// overwrites `zᵢ` with `∂f/∂zᵢ = −yᵢ eᵢ/(1 + eᵢ)`, `eᵢ = exp(−yᵢzᵢ)` (one `exp` per sample,
/// shared by value and gradient); `∇w = Xᵀ(∂f/∂z) + 2λw` in one `gemv_tr` onto `2λw`.
pub fn logreg_hand(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let mut z = x * w;
    let mut f = 0.0;
    for (zi, &yi) in z.iter_mut().zip(y.iter()) {
        let e = (-yi * *zi).exp();
        let one_e = 1.0 + e;
        f += one_e.ln();
        *zi = -yi * e / one_e;
    }
    let mut g = w * (2.0 * lambda);
    g.gemv_tr(1.0, x, &z, 1.0);
    (f + lambda * w.norm_squared(), g)
}

/// num-dual forward mode.
#[cfg(feature = "peers")]
pub fn logreg_num_dual(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    let x = x.map(DualDVec64::from_re);
    let y = y.map(DualDVec64::from_re);
    let lambda = DualDVec64::from_re(lambda);
    num_dual::gradient(
        |w| {
            let m = (&x * &w).component_mul(&y);
            let one = DualDVec64::from_re(1.0);
            m.map(|v| (one.clone() + (-v).exp()).ln()).sum() + lambda.clone() * w.norm_squared()
        },
        w,
    )
}

/// ad_trait reverse mode.
#[cfg(feature = "peers")]
pub fn logreg_ad_trait(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    use ad_trait::AD;
    use adt::na34::ComplexField;
    adt::reset_tape();
    let wv = adt::dvars(w);
    let one = ad_trait::reverse_ad::adr::adr::constant(1.0);
    let m = (adt::dconsts(x) * &wv).component_mul(&adt::dconsts(y));
    let f = m.map(|v| (one + (-v).exp()).ln()).sum()
        + ad_trait::reverse_ad::adr::adr::constant(lambda) * wv.norm_squared();
    let (f, grads) = adt::backward(f);
    (f, adt::adjoints(&grads, &wv, w))
}

/// Central finite differences of [`logreg`].
pub fn logreg_fd(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    fd::gradient(w, |w| logreg(w, x, y, lambda))
}

/// The sizes `(n, d)`: `X` is `n × d`.
pub const SIZES: [(usize, usize); 3] = [(20, 5), (200, 50), (2000, 200)];

pub fn cases(sizes: Sizes) -> Vec<Case> {
    let count = if sizes == Sizes::All { SIZES.len() } else { 1 };
    SIZES[..count]
        .iter()
        .enumerate()
        .map(|(i, &(n, d))| {
            // Scaled so that the margins are O(1): neither saturated nor all near zero.
            let x = data::dmatrix(n, d, 2.0 / (d as f64).sqrt(), 21);
            let w = data::dvector(d, 1.0, 22);
            let y = data::labels(n, 23);
            let lambda = 0.1;
            let mut case = Case::new("logreg", format!("n={n} d={d}"));
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::Value, move || {
                    logreg(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            }
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::Hand, move || {
                    logreg_hand(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            }
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::Matgrad, move || {
                    logreg_grad(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            }
            #[cfg(feature = "peers")]
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::NumDual, move || {
                    logreg_num_dual(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            }
            #[cfg(feature = "peers")]
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::AdTrait, move || {
                    logreg_ad_trait(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            }
            if i == 0 {
                case = case.with(Impl::FiniteDiff, move || {
                    logreg_fd(bb(&w), bb(&x), bb(&y), bb(lambda))
                });
            } else {
                case = case.skip(Impl::FiniteDiff, "smallest size only");
            }
            case
        })
        .collect()
}
