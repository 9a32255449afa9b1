//! A recurrent network over 50 time steps, `hₜ₊₁ = tanh.(W hₜ + U xₜ)`, loss `‖h_T‖²` with
//! respect to `W` (`h × h`), `U` (`h × m`) and the initial state `h₀`; inputs `xₜ` (`m`).
//!
//! The inputs are a slice of fixed-size vectors in both variants: the loop language iterates
//! over slices of `f64` or of fixed-size nalgebra vectors, not over `&[DVector<f64>]`, and has
//! no column views yet, so the dynamic variant (`DMatrix` `W`, `DVector` state, hidden size 32)
//! takes `&[SVector<f64, 16>]`, and its `U` is `OMatrix<f64, Dyn, Const<16>>` (dynamic rows,
//! 16 columns): with `U` a `DMatrix`, the generated gradient does not compile (the adjoint
//! accumulated for `U`, `Ū + δ xₜᵀ`, is `Dyn × 16` while its accumulator is `Dyn × Dyn`).

use std::hint::black_box as bb;

use matgrad::grad;
use matgrad::nalgebra::{Const, DMatrix, DVector, Dyn, OMatrix, SMatrix, SVector};
#[cfg(feature = "peers")]
use num_dual::{DualDVec64, DualNum, DualSVec64};

#[cfg(feature = "peers")]
use crate::adt;
use crate::data;
use crate::harness::{Case, Impl, Sizes};
use crate::linalg;

/// Time steps.
pub const STEPS: usize = 50;

/// The fixed sizes: hidden 8, input 4.
pub type Ws = SMatrix<f64, 8, 8>;
pub type Us = SMatrix<f64, 8, 4>;
pub type Hs = SVector<f64, 8>;
pub type Xs = SVector<f64, 4>;
/// The input of the dynamic variant and its input weights (dynamic rows, 16 columns).
pub type Xd = SVector<f64, 16>;
pub type Ud = OMatrix<f64, Dyn, Const<16>>;

/// The loss on fixed-size types; `#[grad]` adds `rnn_s_grad`.
#[grad(w, u, h0)]
pub fn rnn_s(
    w: &SMatrix<f64, 8, 8>,
    u: &SMatrix<f64, 8, 4>,
    h0: &SVector<f64, 8>,
    xs: &[SVector<f64, 4>],
) -> f64 {
    let mut h = *h0;
    for x in xs.iter() {
        h = (w * h + u * x).map(|v| v.tanh());
    }
    h.norm_squared()
}

/// The loss with `DMatrix` weights; `#[grad]` adds `rnn_grad`.
#[grad(w, u, h0)]
pub fn rnn(
    w: &DMatrix<f64>,
    u: &OMatrix<f64, Dyn, Const<16>>,
    h0: &DVector<f64>,
    xs: &[SVector<f64, 16>],
) -> f64 {
    let mut h = h0.clone();
    for x in xs.iter() {
        h = (w * &h + u * x).map(|v| v.tanh());
    }
    h.norm_squared()
}

/// By hand, backpropagation through time on the stack types: the forward pass keeps every
/// state `hₜ` once (one `Vec`); the backward pass runs `δ = h̄ ∘ (1 − hₜ₊₁²)`, `∇W += δ hₜᵀ`,
/// `∇U += δ xₜᵀ`, `h̄ ← Wᵀδ` from the last step to the first, reading the stored states (no
/// `tanh` is recomputed). The outer products are written `δ hₜᵀ` and added: on these stack
/// types that measured 6.0 µs against 6.9 µs for `ger` in place.
pub fn rnn_s_hand(w: &Ws, u: &Us, h0: &Hs, xs: &[Xs]) -> (f64, Ws, Us, Hs) {
    let mut hs = Vec::with_capacity(xs.len() + 1);
    let mut h = *h0;
    hs.push(h);
    for x in xs {
        h = (w * h + u * x).map(f64::tanh);
        hs.push(h);
    }
    let mut hbar = h * 2.0;
    let (mut gw, mut gu) = (Ws::zeros(), Us::zeros());
    for (t, x) in xs.iter().enumerate().rev() {
        let delta = hbar.zip_map(&hs[t + 1], |g, h| g * (1.0 - h * h));
        gw += delta * hs[t].transpose();
        gu += delta * x.transpose();
        hbar = w.tr_mul(&delta);
    }
    (h.norm_squared(), gw, gu, hbar)
}

/// By hand, backpropagation through time with `DMatrix`: the input projections of every step
/// are one blocked product before the recurrence, `Z = U X` (`X` the inputs as the columns of
/// one `16 × T` matrix), written straight into the columns `1 … T` of the state matrix `H`
/// (column 0 is `h₀`); each step then only adds `W hₜ` onto its column (`gemv`, β = 1) and
/// applies `tanh` in place, so the column becomes `hₜ₊₁`: no vector per step, nothing copied.
/// The backward pass only runs the sequential part, `δₜ = h̄ ∘ (1 − hₜ₊₁²)` into the columns
/// of `Δ` and `h̄ ← Wᵀδₜ` (`gemv_tr`), and the weight gradients are two blocked products at the
/// end, `∇W = Δ H₀..ₜ₋₁ᵀ` and `∇U = Δ Xᵀ` (`gemm` on transposed views, [`linalg::gemm_nt_view`]).
/// (The per-step rank-one updates `ger` of the fixed-size version were measured too,
/// [`rnn_hand_ger`]: slower at hidden 32.)
pub fn rnn_hand(
    w: &DMatrix<f64>,
    u: &Ud,
    h0: &DVector<f64>,
    xs: &[Xd],
) -> (f64, DMatrix<f64>, Ud, DVector<f64>) {
    let (n, steps) = (h0.len(), xs.len());
    let x = DMatrix::from_fn(16, steps, |k, t| xs[t][k]);
    let mut hs = DMatrix::zeros(n, steps + 1);
    hs.set_column(0, h0);
    hs.columns_mut(1, steps).gemm(1.0, u, &x, 0.0);
    for t in 0..steps {
        let (h, mut next) = hs.columns_range_pair_mut(t, t + 1);
        next.gemv(1.0, w, &h, 1.0);
        next.apply(|v| *v = v.tanh());
    }
    let f = hs.column(steps).norm_squared();
    let mut hbar = hs.column(steps) * 2.0;
    let mut deltas = DMatrix::zeros(n, steps);
    for t in (0..steps).rev() {
        let next = hs.column(t + 1);
        let mut delta = deltas.column_mut(t);
        delta.zip_zip_apply(&hbar, &next, |d, g, h| *d = g * (1.0 - h * h));
        hbar.gemv_tr(1.0, w, &delta, 0.0);
    }
    let mut gw = DMatrix::zeros(n, n);
    linalg::gemm_nt_view(&mut gw, &deltas, &hs.as_slice()[..n * steps], n);
    let mut gu = DMatrix::zeros(n, 16);
    linalg::gemm_nt_view(&mut gu, &deltas, x.as_slice(), 16);
    let gu = Ud::from_column_slice_generic(Dyn(n), Const::<16>, gu.as_slice());
    (f, gw, gu, hbar)
}

/// By hand with `DMatrix`, the weight gradients by a rank-one update per step (`ger`), the
/// states in `H`'s columns as in [`rnn_hand`].
pub fn rnn_hand_ger(
    w: &DMatrix<f64>,
    u: &Ud,
    h0: &DVector<f64>,
    xs: &[Xd],
) -> (f64, DMatrix<f64>, Ud, DVector<f64>) {
    let (n, steps) = (h0.len(), xs.len());
    let mut hs = DMatrix::zeros(n, steps + 1);
    hs.set_column(0, h0);
    let mut z = DVector::zeros(n);
    for (t, x) in xs.iter().enumerate() {
        z.gemv(1.0, u, x, 0.0);
        z.gemv(1.0, w, &hs.column(t), 1.0);
        hs.column_mut(t + 1).zip_apply(&z, |h, z| *h = z.tanh());
    }
    let f = hs.column(steps).norm_squared();
    let mut hbar = hs.column(steps) * 2.0;
    let mut delta = DVector::zeros(n);
    let mut gw = DMatrix::zeros(n, n);
    let mut gu = Ud::zeros(n);
    for t in (0..steps).rev() {
        let next = hs.column(t + 1);
        for i in 0..n {
            delta[i] = hbar[i] * (1.0 - next[i] * next[i]);
        }
        gw.ger(1.0, &delta, &hs.column(t), 1.0);
        gu.ger(1.0, &delta, &xs[t], 1.0);
        hbar.gemv_tr(1.0, w, &delta, 0.0);
    }
    (f, gw, gu, hbar)
}

/// num-dual forward mode on the stack: the 104 entries of `W`, `U`, `h₀` as `DualSVec64<104>`.
#[cfg(feature = "peers")]
pub fn rnn_s_num_dual(w: &Ws, u: &Us, h0: &Hs, xs: &[Xs]) -> (f64, Ws, Us, Hs) {
    type D = DualSVec64<104>;
    let v = SVector::<f64, 104>::from_iterator(w.iter().chain(u.iter()).chain(h0.iter()).copied());
    let (f, g) = num_dual::gradient(
        |v: SVector<D, 104>| {
            let s = v.as_slice();
            let w = SMatrix::<D, 8, 8>::from_column_slice(&s[..64]);
            let u = SMatrix::<D, 8, 4>::from_column_slice(&s[64..96]);
            let mut h = SVector::<D, 8>::from_column_slice(&s[96..]);
            for x in xs {
                h = (w * h + u * x.map(D::from_re)).map(|v| v.tanh());
            }
            h.norm_squared()
        },
        &v,
    );
    let g = g.as_slice();
    (
        f,
        Ws::from_column_slice(&g[..64]),
        Us::from_column_slice(&g[64..96]),
        Hs::from_column_slice(&g[96..]),
    )
}

/// num-dual forward mode with `DMatrix`: every entry of `W`, `U`, `h₀` one direction.
#[cfg(feature = "peers")]
pub fn rnn_num_dual(
    w: &DMatrix<f64>,
    u: &Ud,
    h0: &DVector<f64>,
    xs: &[Xd],
) -> (f64, DMatrix<f64>, Ud, DVector<f64>) {
    let (n, m) = u.shape();
    let v = DVector::from_iterator(
        w.len() + u.len() + n,
        w.iter().chain(u.iter()).chain(h0.iter()).copied(),
    );
    let xs: Vec<DVector<DualDVec64>> = xs
        .iter()
        .map(|x| DVector::from_iterator(m, x.iter().map(|&v| DualDVec64::from_re(v))))
        .collect();
    let (f, g) = num_dual::gradient(
        |v: DVector<DualDVec64>| {
            let s = v.as_slice();
            let w = DMatrix::from_column_slice(n, n, &s[..n * n]);
            let u = DMatrix::from_column_slice(n, m, &s[n * n..n * n + n * m]);
            let mut h = DVector::from_column_slice(&s[n * n + n * m..]);
            for x in &xs {
                h = (&w * &h + &u * x).map(|v| v.tanh());
            }
            h.norm_squared()
        },
        &v,
    );
    let g = g.as_slice();
    (
        f,
        DMatrix::from_column_slice(n, n, &g[..n * n]),
        Ud::from_column_slice_generic(Dyn(n), Const::<16>, &g[n * n..n * n + n * m]),
        DVector::from_column_slice(&g[n * n + n * m..]),
    )
}

/// ad_trait reverse mode, `SMatrix`.
#[cfg(feature = "peers")]
pub fn rnn_s_ad_trait(w: &Ws, u: &Us, h0: &Hs, xs: &[Xs]) -> (f64, Ws, Us, Hs) {
    use adt::na34::ComplexField;
    adt::reset_tape();
    let (wv, uv, h0v) = (adt::svars(w), adt::svars(u), adt::svars(h0));
    let mut h = h0v;
    for x in xs {
        h = (wv * h + uv * adt::sconsts(x)).map(|v| v.tanh());
    }
    let (f, grads) = adt::backward(h.norm_squared());
    (
        f,
        adt::adjoints(&grads, &wv, w),
        adt::adjoints(&grads, &uv, u),
        adt::adjoints(&grads, &h0v, h0),
    )
}

/// ad_trait reverse mode, `DMatrix`.
#[cfg(feature = "peers")]
pub fn rnn_ad_trait(
    w: &DMatrix<f64>,
    u: &Ud,
    h0: &DVector<f64>,
    xs: &[Xd],
) -> (f64, DMatrix<f64>, Ud, DVector<f64>) {
    use adt::na34::ComplexField;
    adt::reset_tape();
    let (wv, uv, h0v) = (adt::dvars(w), adt::dvars(u), adt::dvars(h0));
    let mut h = h0v.clone();
    for x in xs {
        h = (&wv * &h + &uv * adt::dconsts(x)).map(|v| v.tanh());
    }
    let (f, grads) = adt::backward(h.norm_squared());
    (
        f,
        adt::adjoints(&grads, &wv, w),
        adt::adjoints(&grads, &uv, u),
        adt::adjoints(&grads, &h0v, h0),
    )
}

/// Central finite differences of [`rnn_s`], one parameter at a time.
pub fn rnn_s_fd(w: &Ws, u: &Us, h0: &Hs, xs: &[Xs]) -> (f64, Ws, Us, Hs) {
    let (f, gw) = crate::fd::gradient(w, |w| rnn_s(w, u, h0, xs));
    let (_, gu) = crate::fd::gradient(u, |u| rnn_s(w, u, h0, xs));
    let (_, gh) = crate::fd::gradient(h0, |h0| rnn_s(w, u, h0, xs));
    (f, gw, gu, gh)
}

/// The dynamic hidden size of the table (the input size is 16).
pub const SIZES: [usize; 1] = [32];

/// The `SMatrix` case and, for [`Sizes::All`], the dynamic size; for [`Sizes::Smallest`], a
/// hidden size 3 dynamic instance over 4 steps instead, so that the dynamic implementations are
/// checked too.
pub fn cases(sizes: Sizes) -> Vec<Case> {
    // Scaled so that the recurrence neither saturates nor dies out over 50 steps.
    let w: Ws = data::smatrix(1.5 / 8f64.sqrt(), 71);
    let u: Us = data::smatrix(0.5, 72);
    let h0: Hs = data::smatrix(0.5, 73);
    let xs: Vec<Xs> = (0..STEPS)
        .map(|t| data::smatrix(1.0, 100 + t as u64))
        .collect();
    let args = move || (w, u, h0, xs.clone());
    let (w, u, h0, xs) = args();
    let mut case = Case::new("rnn", format!("h=8 x=4 T={STEPS} (SMatrix)"))
        .with(Impl::Value, move || rnn_s(bb(&w), bb(&u), bb(&h0), bb(&xs)));
    let (w, u, h0, xs) = args();
    case = case.with(Impl::Hand, move || {
        rnn_s_hand(bb(&w), bb(&u), bb(&h0), bb(&xs))
    });
    let (w, u, h0, xs) = args();
    case = case.with(Impl::Matgrad, move || {
        rnn_s_grad(bb(&w), bb(&u), bb(&h0), bb(&xs))
    });
    #[cfg(feature = "peers")]
    {
        let (w, u, h0, xs) = args();
        case = case.with(Impl::NumDual, move || {
            rnn_s_num_dual(bb(&w), bb(&u), bb(&h0), bb(&xs))
        });
        let (w, u, h0, xs) = args();
        case = case.with(Impl::AdTrait, move || {
            rnn_s_ad_trait(bb(&w), bb(&u), bb(&h0), bb(&xs))
        });
    }
    let (w, u, h0, xs) = args();
    case = case.with(Impl::FiniteDiff, move || {
        rnn_s_fd(bb(&w), bb(&u), bb(&h0), bb(&xs))
    });
    let mut cases = vec![case];
    match sizes {
        Sizes::Smallest => cases.push(dynamic(3, 4, None)),
        Sizes::All => cases.push(dynamic(SIZES[0], STEPS, Some("≈0.5 s per call"))),
    }
    cases
}

/// The dynamic case; num-dual unless `skip_num_dual` says why not.
fn dynamic(n: usize, steps: usize, skip_num_dual: Option<&'static str>) -> Case {
    let m = 16;
    let (w, u, h0, xs) = dynamic_args(n, steps);
    let args = move || (w.clone(), u.clone(), h0.clone(), xs.clone());
    let mut case = Case::new("rnn", format!("h={n} x={m} T={steps}"));
    let (w, u, h0, xs) = args();
    case = case.with(Impl::Value, move || rnn(bb(&w), bb(&u), bb(&h0), bb(&xs)));
    let (w, u, h0, xs) = args();
    case = case.with(Impl::Hand, move || {
        rnn_hand(bb(&w), bb(&u), bb(&h0), bb(&xs))
    });
    let (w, u, h0, xs) = args();
    case = case.with(Impl::Matgrad, move || {
        rnn_grad(bb(&w), bb(&u), bb(&h0), bb(&xs))
    });
    if let Some(why) = skip_num_dual {
        case = case.skip(Impl::NumDual, why);
    }
    #[cfg(feature = "peers")]
    {
        if skip_num_dual.is_none() {
            let (w, u, h0, xs) = args();
            case = case.with(Impl::NumDual, move || {
                rnn_num_dual(bb(&w), bb(&u), bb(&h0), bb(&xs))
            });
        }
        let (w, u, h0, xs) = args();
        case = case.with(Impl::AdTrait, move || {
            rnn_ad_trait(bb(&w), bb(&u), bb(&h0), bb(&xs))
        });
    }
    case.skip(Impl::FiniteDiff, "smallest size only")
}

/// The two dynamic hand-written forms agree (the table's check covers the one in use).
pub fn forms_case() -> Case {
    let (n, m) = (7, 16);
    let w = data::dmatrix(n, n, 1.5 / (n as f64).sqrt(), 75);
    let u = dynamic_u(n, 76);
    let h0 = data::dvector(n, 0.5, 77);
    let xs: Vec<Xd> = (0..6).map(|t| data::smatrix(1.0, 200 + t as u64)).collect();
    let (w2, u2, h02, xs2) = (w.clone(), u.clone(), h0.clone(), xs.clone());
    Case::new("rnn forms", format!("h={n} x={m} T=6"))
        .with(Impl::Hand, move || rnn_hand(&w, &u, &h0, &xs))
        .with(Impl::Matgrad, move || rnn_hand_ger(&w2, &u2, &h02, &xs2))
}

/// The inputs of the dynamic case with hidden size `n` over `steps` steps: `W`, `U`, `h₀`, `xs`.
pub fn dynamic_args(n: usize, steps: usize) -> (DMatrix<f64>, Ud, DVector<f64>, Vec<Xd>) {
    let w = data::dmatrix(n, n, 1.5 / (n as f64).sqrt(), 75);
    let u = dynamic_u(n, 76);
    let h0 = data::dvector(n, 0.5, 77);
    let xs = (0..steps)
        .map(|t| data::smatrix(1.0, 200 + t as u64))
        .collect();
    (w, u, h0, xs)
}

/// The input weights of the dynamic variant, `n × 16`, scaled so that `Uxₜ` is O(1).
fn dynamic_u(n: usize, seed: u64) -> Ud {
    let u = data::dmatrix(n, 16, 0.25, seed);
    Ud::from_column_slice_generic(Dyn(n), Const::<16>, u.as_slice())
}
