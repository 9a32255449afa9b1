//! A two-layer tanh network, `‖W₂ tanh.(W₁x) − y‖²` with respect to `W₁` (`h × d`) and `W₂`
//! (`o × h`), for one sample `x` (`d`), target `y` (`o`).

use std::hint::black_box as bb;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, DVector, SMatrix, SVector};
#[cfg(feature = "peers")]
use num_dual::{DualDVec64, DualNum, DualSVec64};

#[cfg(feature = "peers")]
use crate::adt;
use crate::data;
use crate::fd;
use crate::harness::{Case, Impl, Sizes};

/// The loss for dynamic sizes; `#[grad]` adds `mlp_grad`.
#[grad(w1, w2)]
pub fn mlp(w1: &DMatrix<f64>, w2: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let h = (w1 * x).map(|v| v.tanh());
    (w2 * h - y).norm_squared()
}

/// The fixed sizes of the smallest case, `(d, h, o) = (4, 8, 2)`.
pub type W1s = SMatrix<f64, 8, 4>;
pub type W2s = SMatrix<f64, 2, 8>;
pub type Xs = SVector<f64, 4>;
pub type Ys = SVector<f64, 2>;

/// The loss for `(4, 8, 2)` as `SMatrix` types; `#[grad]` adds `mlp_s_grad`.
#[grad(w1, w2)]
pub fn mlp_s(
    w1: &SMatrix<f64, 8, 4>,
    w2: &SMatrix<f64, 2, 8>,
    x: &SVector<f64, 4>,
    y: &SVector<f64, 2>,
) -> f64 {
    let h = (w1 * x).map(|v| v.tanh());
    (w2 * h - y).norm_squared()
}

/// By hand: `h = tanh.(W₁x)`; `r = W₂h − y` (`gemv`, `y` subtracted in place); with `s = 2r`,
/// `∇W₂ = s hᵀ`; `δ = (W₂ᵀs) ∘ (1 − h∘h)` (one `gemv_tr`, one pass); `∇W₁ = δxᵀ`. (The outer
/// products by `ger` into zeroed matrices, `tanh` and its derivative in place and `gemv_tr`
/// into a buffer were measured too, `examples/baseline_forms.rs`: no faster at 64/128/10, where
/// the 128 `tanh` take most of the time.)
pub fn mlp_hand(
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    x: &DVector<f64>,
    y: &DVector<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let h = (w1 * x).map(f64::tanh);
    let mut r = w2 * &h;
    r -= y;
    let s = &r * 2.0;
    let delta = w2.tr_mul(&s).zip_map(&h, |d, h| d * (1.0 - h * h));
    (r.norm_squared(), delta * x.transpose(), s * h.transpose())
}

/// By hand, `SMatrix` (on the stack), same formulas (`ger` into zeroed matrices measured the
/// same, `examples/baseline_forms.rs`).
pub fn mlp_s_hand(w1: &W1s, w2: &W2s, x: &Xs, y: &Ys) -> (f64, W1s, W2s) {
    let h = (w1 * x).map(f64::tanh);
    let r = w2 * h - y;
    let r2 = r * 2.0;
    let delta = w2.tr_mul(&r2).zip_map(&h, |d, h| d * (1.0 - h * h));
    (r.norm_squared(), delta * x.transpose(), r2 * h.transpose())
}

/// num-dual forward mode, `W₁` and `W₂` flattened (column-major) into one vector of variables.
#[cfg(feature = "peers")]
pub fn mlp_num_dual(
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    x: &DVector<f64>,
    y: &DVector<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let ((h, d), o) = (w1.shape(), w2.nrows());
    let x = x.map(DualDVec64::from_re);
    let y = y.map(DualDVec64::from_re);
    let w = DVector::from_iterator(w1.len() + w2.len(), w1.iter().chain(w2.iter()).copied());
    let (f, g) = num_dual::gradient(
        |v: DVector<DualDVec64>| {
            let w1 = DMatrix::from_column_slice(h, d, &v.as_slice()[..h * d]);
            let w2 = DMatrix::from_column_slice(o, h, &v.as_slice()[h * d..]);
            let hidden = (w1 * &x).map(|v| v.tanh());
            (w2 * hidden - &y).norm_squared()
        },
        &w,
    );
    (
        f,
        DMatrix::from_column_slice(h, d, &g.as_slice()[..h * d]),
        DMatrix::from_column_slice(o, h, &g.as_slice()[h * d..]),
    )
}

/// num-dual forward mode, `SMatrix`: 48 derivative directions on the stack.
#[cfg(feature = "peers")]
pub fn mlp_s_num_dual(w1: &W1s, w2: &W2s, x: &Xs, y: &Ys) -> (f64, W1s, W2s) {
    type D = DualSVec64<48>;
    let x = x.map(D::from_re);
    let y = y.map(D::from_re);
    let w = SVector::<f64, 48>::from_iterator(w1.iter().chain(w2.iter()).copied());
    let (f, g) = num_dual::gradient(
        |v: SVector<D, 48>| {
            let w1 = SMatrix::<D, 8, 4>::from_column_slice(&v.as_slice()[..32]);
            let w2 = SMatrix::<D, 2, 8>::from_column_slice(&v.as_slice()[32..]);
            let hidden = (w1 * x).map(|v| v.tanh());
            (w2 * hidden - y).norm_squared()
        },
        &w,
    );
    (
        f,
        W1s::from_column_slice(&g.as_slice()[..32]),
        W2s::from_column_slice(&g.as_slice()[32..]),
    )
}

/// ad_trait reverse mode.
#[cfg(feature = "peers")]
pub fn mlp_ad_trait(
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    x: &DVector<f64>,
    y: &DVector<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    use adt::na34::ComplexField;
    adt::reset_tape();
    let w1v = adt::dvars(w1);
    let w2v = adt::dvars(w2);
    let hidden = (&w1v * adt::dconsts(x)).map(|v| v.tanh());
    let (f, grads) = adt::backward((&w2v * hidden - adt::dconsts(y)).norm_squared());
    (
        f,
        adt::adjoints(&grads, &w1v, w1),
        adt::adjoints(&grads, &w2v, w2),
    )
}

/// ad_trait reverse mode, `SMatrix`.
#[cfg(feature = "peers")]
pub fn mlp_s_ad_trait(w1: &W1s, w2: &W2s, x: &Xs, y: &Ys) -> (f64, W1s, W2s) {
    use adt::na34::ComplexField;
    adt::reset_tape();
    let w1v = adt::svars(w1);
    let w2v = adt::svars(w2);
    let hidden = (w1v * adt::sconsts(x)).map(|v| v.tanh());
    let (f, grads) = adt::backward((w2v * hidden - adt::sconsts(y)).norm_squared());
    (
        f,
        adt::adjoints(&grads, &w1v, w1),
        adt::adjoints(&grads, &w2v, w2),
    )
}

/// Central finite differences of [`mlp_s`].
pub fn mlp_s_fd(w1: &W1s, w2: &W2s, x: &Xs, y: &Ys) -> (f64, W1s, W2s) {
    fd::gradient2(w1, w2, |w1, w2| mlp_s(w1, w2, x, y))
}

/// The dynamic size `(d, h, o)` of the table (the smallest, `(4, 8, 2)`, is the `SMatrix` case).
pub const SIZES: [(usize, usize, usize); 1] = [(64, 128, 10)];

/// The `SMatrix` case and, for [`Sizes::All`], the dynamic size; for [`Sizes::Smallest`], a
/// `(3, 5, 2)` dynamic instance instead, so that the dynamic implementations are checked too.
pub fn cases(sizes: Sizes) -> Vec<Case> {
    let w1: W1s = data::smatrix(0.5, 61);
    let w2: W2s = data::smatrix(0.5, 62);
    let x: Xs = data::smatrix(1.0, 63);
    let y: Ys = data::smatrix(1.0, 64);
    let case = Case::new("mlp", "d=4 h=8 o=2 (SMatrix)")
        .with(Impl::Value, move || mlp_s(bb(&w1), bb(&w2), bb(&x), bb(&y)))
        .with(Impl::Hand, move || {
            mlp_s_hand(bb(&w1), bb(&w2), bb(&x), bb(&y))
        })
        .with(Impl::Matgrad, move || {
            mlp_s_grad(bb(&w1), bb(&w2), bb(&x), bb(&y))
        });
    #[cfg(feature = "peers")]
    let case = case
        .with(Impl::NumDual, move || {
            mlp_s_num_dual(bb(&w1), bb(&w2), bb(&x), bb(&y))
        })
        .with(Impl::AdTrait, move || {
            mlp_s_ad_trait(bb(&w1), bb(&w2), bb(&x), bb(&y))
        });
    let mut cases = vec![case.with(Impl::FiniteDiff, move || {
        mlp_s_fd(bb(&w1), bb(&w2), bb(&x), bb(&y))
    })];
    match sizes {
        Sizes::Smallest => cases.push(dynamic((3, 5, 2), None)),
        Sizes::All => cases.push(dynamic(SIZES[0], Some("≈1 s per call"))),
    }
    cases
}

/// The dynamic case `(d, h, o)`; num-dual unless `skip_num_dual` says why not.
fn dynamic((d, h, o): (usize, usize, usize), skip_num_dual: Option<&'static str>) -> Case {
    // Scaled so that the pre-activations are O(1).
    let w1 = data::dmatrix(h, d, 1.0 / (d as f64).sqrt(), 65);
    let w2 = data::dmatrix(o, h, 1.0 / (h as f64).sqrt(), 66);
    let x = data::dvector(d, 1.0, 67);
    let y = data::dvector(o, 1.0, 68);
    let args = move || (w1.clone(), w2.clone(), x.clone(), y.clone());
    let mut case = Case::new("mlp", format!("d={d} h={h} o={o}"));
    let (w1, w2, x, y) = args();
    case = case.with(Impl::Value, move || mlp(bb(&w1), bb(&w2), bb(&x), bb(&y)));
    let (w1, w2, x, y) = args();
    case = case.with(Impl::Hand, move || {
        mlp_hand(bb(&w1), bb(&w2), bb(&x), bb(&y))
    });
    let (w1, w2, x, y) = args();
    case = case.with(Impl::Matgrad, move || {
        mlp_grad(bb(&w1), bb(&w2), bb(&x), bb(&y))
    });
    if let Some(why) = skip_num_dual {
        case = case.skip(Impl::NumDual, why);
    }
    #[cfg(feature = "peers")]
    {
        if skip_num_dual.is_none() {
            let (w1, w2, x, y) = args();
            case = case.with(Impl::NumDual, move || {
                mlp_num_dual(bb(&w1), bb(&w2), bb(&x), bb(&y))
            });
        }
        let (w1, w2, x, y) = args();
        case = case.with(Impl::AdTrait, move || {
            mlp_ad_trait(bb(&w1), bb(&w2), bb(&x), bb(&y))
        });
    }
    case.skip(Impl::FiniteDiff, "smallest size only")
}
