//! Matrix factorisation, `‖M − UVᵀ‖²_F` with respect to `U` (`m × r`) and `V` (`n × r`).

use std::hint::black_box as bb;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, SMatrix};
#[cfg(feature = "peers")]
use matgrad::nalgebra::{DVector, SVector};
#[cfg(feature = "peers")]
use num_dual::{DualDVec64, DualSVec64};

#[cfg(feature = "peers")]
use crate::adt;
use crate::data;
use crate::fd;
use crate::harness::{Case, Impl, Sizes};
use crate::linalg::{gemm_nt, gemm_tn};

/// The loss for dynamic sizes; `#[grad]` adds `mf_grad`.
#[grad(u, v)]
pub fn mf(m: &DMatrix<f64>, u: &DMatrix<f64>, v: &DMatrix<f64>) -> f64 {
    (m - u * v.transpose()).norm_squared()
}

/// The fixed sizes of the smallest case, `(m, n, r) = (10, 8, 3)`.
pub type M10x8 = SMatrix<f64, 10, 8>;
pub type U10x3 = SMatrix<f64, 10, 3>;
pub type V8x3 = SMatrix<f64, 8, 3>;

/// The loss for `(10, 8, 3)` as `SMatrix` types; `#[grad]` adds `mf_s_grad`. (The types are
/// spelled out: the macro reads parameter types as written and does not resolve aliases.)
#[grad(u, v)]
pub fn mf_s(m: &SMatrix<f64, 10, 8>, u: &SMatrix<f64, 10, 3>, v: &SMatrix<f64, 8, 3>) -> f64 {
    (m - u * v.transpose()).norm_squared()
}

/// By hand: `R = M − UVᵀ` by one `gemm` into a copy of `M` (`Vᵀ` a view: see [`gemm_nt`]);
/// `∇U = −2RV` and `∇V = −2RᵀU` by one `gemm` each, the −2 folded into α.
pub fn mf_hand(
    m: &DMatrix<f64>,
    u: &DMatrix<f64>,
    v: &DMatrix<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let mut r = m.clone();
    gemm_nt(&mut r, -1.0, u, v, 1.0);
    let mut gu = DMatrix::zeros(u.nrows(), u.ncols());
    gu.gemm(-2.0, &r, v, 0.0);
    let mut gv = DMatrix::zeros(v.nrows(), v.ncols());
    gemm_tn(&mut gv, -2.0, &r, u, 0.0);
    (r.norm_squared(), gu, gv)
}

/// By hand, `SMatrix` (on the stack): `R = M − UVᵀ`, `∇U = −2RV`, `∇V = −2RᵀU` (the −2 applied
/// to the two small products rather than to `R`; `M − (UVᵀ)` with the product by reference:
/// nalgebra's fixed-size subtraction with an owned right operand measured ≈10 % slower).
#[allow(clippy::op_ref)] // the references are the point, see above
pub fn mf_s_hand(m: &M10x8, u: &U10x3, v: &V8x3) -> (f64, U10x3, V8x3) {
    let uv = u * v.transpose();
    let r = m - &uv;
    (r.norm_squared(), (&r * v) * -2.0, r.tr_mul(u) * -2.0)
}

/// num-dual forward mode, `U` and `V` flattened (column-major) into one vector of variables.
#[cfg(feature = "peers")]
pub fn mf_num_dual(
    m: &DMatrix<f64>,
    u: &DMatrix<f64>,
    v: &DMatrix<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let ((mr, r), nr) = (u.shape(), v.nrows());
    let m = m.map(DualDVec64::from_re);
    let uv = DVector::from_iterator(u.len() + v.len(), u.iter().chain(v.iter()).copied());
    let (f, g) = num_dual::gradient(
        |x: DVector<DualDVec64>| {
            let u = DMatrix::from_column_slice(mr, r, &x.as_slice()[..mr * r]);
            let v = DMatrix::from_column_slice(nr, r, &x.as_slice()[mr * r..]);
            (&m - u * v.transpose()).norm_squared()
        },
        &uv,
    );
    (
        f,
        DMatrix::from_column_slice(mr, r, &g.as_slice()[..mr * r]),
        DMatrix::from_column_slice(nr, r, &g.as_slice()[mr * r..]),
    )
}

/// num-dual forward mode, `SMatrix`: 54 derivative directions on the stack.
#[cfg(feature = "peers")]
pub fn mf_s_num_dual(m: &M10x8, u: &U10x3, v: &V8x3) -> (f64, U10x3, V8x3) {
    type D = DualSVec64<54>;
    let m = m.map(D::from_re);
    let uv = SVector::<f64, 54>::from_iterator(u.iter().chain(v.iter()).copied());
    let (f, g) = num_dual::gradient(
        |x: SVector<D, 54>| {
            let u = SMatrix::<D, 10, 3>::from_column_slice(&x.as_slice()[..30]);
            let v = SMatrix::<D, 8, 3>::from_column_slice(&x.as_slice()[30..]);
            (m - u * v.transpose()).norm_squared()
        },
        &uv,
    );
    (
        f,
        U10x3::from_column_slice(&g.as_slice()[..30]),
        V8x3::from_column_slice(&g.as_slice()[30..]),
    )
}

/// ad_trait reverse mode.
#[cfg(feature = "peers")]
pub fn mf_ad_trait(
    m: &DMatrix<f64>,
    u: &DMatrix<f64>,
    v: &DMatrix<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    adt::reset_tape();
    let uv = adt::dvars(u);
    let vv = adt::dvars(v);
    let (f, grads) = adt::backward((adt::dconsts(m) - &uv * vv.transpose()).norm_squared());
    (
        f,
        adt::adjoints(&grads, &uv, u),
        adt::adjoints(&grads, &vv, v),
    )
}

/// ad_trait reverse mode, `SMatrix`.
#[cfg(feature = "peers")]
pub fn mf_s_ad_trait(m: &M10x8, u: &U10x3, v: &V8x3) -> (f64, U10x3, V8x3) {
    adt::reset_tape();
    let uv = adt::svars(u);
    let vv = adt::svars(v);
    let (f, grads) = adt::backward((adt::sconsts(m) - uv * vv.transpose()).norm_squared());
    (
        f,
        adt::adjoints(&grads, &uv, u),
        adt::adjoints(&grads, &vv, v),
    )
}

/// Central finite differences of [`mf_s`].
pub fn mf_s_fd(m: &M10x8, u: &U10x3, v: &V8x3) -> (f64, U10x3, V8x3) {
    fd::gradient2(u, v, |u, v| mf_s(m, u, v))
}

/// The dynamic size `(m, n, r)` of the table (the smallest, `(10, 8, 3)`, is the `SMatrix` case).
pub const SIZES: [(usize, usize, usize); 1] = [(200, 150, 10)];

/// The `SMatrix` case and, for [`Sizes::All`], the dynamic size; for [`Sizes::Smallest`], a
/// `(6, 5, 2)` dynamic instance instead, so that the dynamic implementations are checked too.
pub fn cases(sizes: Sizes) -> Vec<Case> {
    let m: M10x8 = data::smatrix(1.0, 51);
    let u: U10x3 = data::smatrix(1.0, 52);
    let v: V8x3 = data::smatrix(1.0, 53);
    let case = Case::new("mf", "10×8 r=3 (SMatrix)")
        .with(Impl::Value, move || mf_s(bb(&m), bb(&u), bb(&v)))
        .with(Impl::Hand, move || mf_s_hand(bb(&m), bb(&u), bb(&v)))
        .with(Impl::Matgrad, move || mf_s_grad(bb(&m), bb(&u), bb(&v)));
    #[cfg(feature = "peers")]
    let case = case
        .with(Impl::NumDual, move || mf_s_num_dual(bb(&m), bb(&u), bb(&v)))
        .with(Impl::AdTrait, move || mf_s_ad_trait(bb(&m), bb(&u), bb(&v)));
    let mut cases = vec![case.with(Impl::FiniteDiff, move || mf_s_fd(bb(&m), bb(&u), bb(&v)))];
    match sizes {
        Sizes::Smallest => cases.push(dynamic((6, 5, 2), None)),
        Sizes::All => cases.push(dynamic(SIZES[0], Some("≈3 s per call"))),
    }
    cases
}

/// The dynamic case `(m, n, r)`; num-dual unless `skip_num_dual` says why not.
fn dynamic((mr, nr, r): (usize, usize, usize), skip_num_dual: Option<&'static str>) -> Case {
    let m = data::dmatrix(mr, nr, 1.0, 54);
    let u = data::dmatrix(mr, r, 1.0, 55);
    let v = data::dmatrix(nr, r, 1.0, 56);
    let args = move || (m.clone(), u.clone(), v.clone());
    let mut case = Case::new("mf", format!("{mr}×{nr} r={r}"));
    let (m, u, v) = args();
    case = case.with(Impl::Value, move || mf(bb(&m), bb(&u), bb(&v)));
    let (m, u, v) = args();
    case = case.with(Impl::Hand, move || mf_hand(bb(&m), bb(&u), bb(&v)));
    let (m, u, v) = args();
    case = case.with(Impl::Matgrad, move || mf_grad(bb(&m), bb(&u), bb(&v)));
    if let Some(why) = skip_num_dual {
        case = case.skip(Impl::NumDual, why);
    }
    #[cfg(feature = "peers")]
    {
        if skip_num_dual.is_none() {
            let (m, u, v) = args();
            case = case.with(Impl::NumDual, move || mf_num_dual(bb(&m), bb(&u), bb(&v)));
        }
        let (m, u, v) = args();
        case = case.with(Impl::AdTrait, move || mf_ad_trait(bb(&m), bb(&u), bb(&v)));
    }
    case.skip(Impl::FiniteDiff, "smallest size only")
}
