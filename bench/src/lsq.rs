//! Least squares, `‖Xw − y‖²` with respect to `w`.

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

/// The loss, as a user writes it; `#[grad]` adds `lsq_grad`.
#[grad(w)]
pub fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.norm_squared()
}

/// By hand: `r = Xw − y` (one `gemv`, then `y` subtracted in place), `∇w = 2Xᵀr` in one
/// `gemv_tr` with the 2 folded into α. (Starting from a copy of `y` and one `gemv` with β = −1
/// was measured too: ≈30 % slower at 20 × 5, the same at the larger sizes.)
pub fn lsq_hand(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> (f64, DVector<f64>) {
    let mut r = x * w;
    r -= y;
    let mut g = DVector::zeros(w.len());
    g.gemv_tr(2.0, x, &r, 0.0);
    (r.norm_squared(), g)
}

/// num-dual forward mode: one dual number per entry of `w`, carrying a dynamic derivative vector.
#[cfg(feature = "peers")]
pub fn lsq_num_dual(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> (f64, DVector<f64>) {
    let x = x.map(DualDVec64::from_re);
    let y = y.map(DualDVec64::from_re);
    num_dual::gradient(|w| (&x * w - &y).norm_squared(), w)
}

/// ad_trait reverse mode.
#[cfg(feature = "peers")]
pub fn lsq_ad_trait(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> (f64, DVector<f64>) {
    adt::reset_tape();
    let wv = adt::dvars(w);
    let r = adt::dconsts(x) * &wv - adt::dconsts(y);
    let (f, grads) = adt::backward(r.norm_squared());
    (f, adt::adjoints(&grads, &wv, w))
}

/// Central finite differences of [`lsq`].
pub fn lsq_fd(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> (f64, DVector<f64>) {
    fd::gradient(w, |w| lsq(w, x, y))
}

/// The sizes `(n, d)`: `X` is `n × d`.
pub const SIZES: [(usize, usize); 3] = [(20, 5), (200, 50), (2000, 200)];

pub fn cases(sizes: Sizes) -> Vec<Case> {
    let count = if sizes == Sizes::All { SIZES.len() } else { 1 };
    SIZES[..count]
        .iter()
        .enumerate()
        .map(|(i, &(n, d))| {
            let x = data::dmatrix(n, d, 1.0, 11);
            let w = data::dvector(d, 1.0, 12);
            let y = data::dvector(n, 1.0, 13);
            let mut case = Case::new("lsq", format!("n={n} d={d}"));
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::Value, move || lsq(bb(&w), bb(&x), bb(&y)));
            }
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::Hand, move || lsq_hand(bb(&w), bb(&x), bb(&y)));
            }
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::Matgrad, move || lsq_grad(bb(&w), bb(&x), bb(&y)));
            }
            #[cfg(feature = "peers")]
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::NumDual, move || lsq_num_dual(bb(&w), bb(&x), bb(&y)));
            }
            #[cfg(feature = "peers")]
            {
                let (w, x, y) = (w.clone(), x.clone(), y.clone());
                case = case.with(Impl::AdTrait, move || lsq_ad_trait(bb(&w), bb(&x), bb(&y)));
            }
            if i == 0 {
                case = case.with(Impl::FiniteDiff, move || lsq_fd(bb(&w), bb(&x), bb(&y)));
            } else {
                case = case.skip(Impl::FiniteDiff, "smallest size only");
            }
            case
        })
        .collect()
}
