//! Quadratic form, `tr(XᵀAX)` with respect to `X` (`A` a general square matrix, `X` square).

use std::hint::black_box as bb;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, Matrix3};
#[cfg(feature = "peers")]
use matgrad::nalgebra::{DVector, SVector};
#[cfg(feature = "peers")]
use num_dual::{DualDVec64, DualSVec64};

#[cfg(feature = "peers")]
use crate::adt;
use crate::data;
use crate::fd;
use crate::harness::{Case, Impl, Sizes};

/// The loss for dynamic sizes; `#[grad]` adds `quadform_grad`.
#[grad(x)]
pub fn quadform(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x).trace()
}

/// The loss for `Matrix3`; `#[grad]` adds `quadform3_grad`.
#[grad(x)]
pub fn quadform3(x: &Matrix3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x).trace()
}

/// By hand: the form is homogeneous, `tr(XᵀAX) = ½⟨X, SX⟩` with `S = A + Aᵀ` (`n²` additions,
/// `Aᵀ` copied once and `A` added in place), so one product `G = SX` gives both the gradient
/// `∇X = G` and the value `½⟨X, G⟩`: one `n × n × k` product instead of the two of `AX + AᵀX`.
pub fn quadform_hand(x: &DMatrix<f64>, a: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let mut s = a.transpose();
    s += a;
    let g = &s * x;
    (0.5 * x.dot(&g), g)
}

/// By hand, `Matrix3` (on the stack): the same `S = A + Aᵀ`, `G = SX`, value `½⟨X, G⟩`.
pub fn quadform3_hand(x: &Matrix3<f64>, a: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    let g = (a + a.transpose()) * x;
    (0.5 * x.dot(&g), g)
}

/// num-dual forward mode, `X` flattened (column-major) into the vector of variables.
#[cfg(feature = "peers")]
pub fn quadform_num_dual(x: &DMatrix<f64>, a: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let (n, k) = x.shape();
    let a = a.map(DualDVec64::from_re);
    let (f, g) = num_dual::gradient(
        |v: DVector<DualDVec64>| {
            let x = DMatrix::from_column_slice(n, k, v.as_slice());
            (x.transpose() * &a * &x).trace()
        },
        &DVector::from_column_slice(x.as_slice()),
    );
    (f, DMatrix::from_column_slice(n, k, g.as_slice()))
}

/// num-dual forward mode, `Matrix3`: nine derivative directions on the stack.
#[cfg(feature = "peers")]
pub fn quadform3_num_dual(x: &Matrix3<f64>, a: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    let a = a.map(DualSVec64::<9>::from_re);
    let (f, g) = num_dual::gradient(
        |v: SVector<DualSVec64<9>, 9>| {
            let x = Matrix3::from_column_slice(v.as_slice());
            (x.transpose() * a * x).trace()
        },
        &SVector::<f64, 9>::from_column_slice(x.as_slice()),
    );
    (f, Matrix3::from_column_slice(g.as_slice()))
}

/// ad_trait reverse mode.
#[cfg(feature = "peers")]
pub fn quadform_ad_trait(x: &DMatrix<f64>, a: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    adt::reset_tape();
    let xv = adt::dvars(x);
    let (f, grads) = adt::backward((xv.transpose() * adt::dconsts(a) * &xv).trace());
    (f, adt::adjoints(&grads, &xv, x))
}

/// ad_trait reverse mode, `Matrix3`.
#[cfg(feature = "peers")]
pub fn quadform3_ad_trait(x: &Matrix3<f64>, a: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    adt::reset_tape();
    let xv = adt::svars(x);
    let (f, grads) = adt::backward((xv.transpose() * adt::sconsts(a) * xv).trace());
    (f, adt::adjoints(&grads, &xv, x))
}

/// Central finite differences of [`quadform3`].
pub fn quadform3_fd(x: &Matrix3<f64>, a: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    fd::gradient(x, |x| quadform3(x, a))
}

/// The dynamic sizes `n = k` of the table (the smallest size, 3, is the `Matrix3` case).
pub const SIZES: [usize; 2] = [10, 100];

/// The `Matrix3` case and, for [`Sizes::All`], the dynamic sizes; for [`Sizes::Smallest`], a
/// 4 × 4 dynamic instance instead, so that the dynamic implementations are checked too.
pub fn cases(sizes: Sizes) -> Vec<Case> {
    let x: Matrix3<f64> = data::smatrix(1.0, 31);
    let a: Matrix3<f64> = data::smatrix(1.0, 32);
    let case = Case::new("quadform", "3 (Matrix3)")
        .with(Impl::Value, move || quadform3(bb(&x), bb(&a)))
        .with(Impl::Hand, move || quadform3_hand(bb(&x), bb(&a)))
        .with(Impl::Matgrad, move || quadform3_grad(bb(&x), bb(&a)));
    #[cfg(feature = "peers")]
    let case = case
        .with(Impl::NumDual, move || quadform3_num_dual(bb(&x), bb(&a)))
        .with(Impl::AdTrait, move || quadform3_ad_trait(bb(&x), bb(&a)));
    let mut cases = vec![case.with(Impl::FiniteDiff, move || quadform3_fd(bb(&x), bb(&a)))];
    match sizes {
        Sizes::Smallest => cases.push(dynamic(4, None)),
        Sizes::All => {
            cases.push(dynamic(SIZES[0], None));
            cases.push(dynamic(SIZES[1], Some("≈40 s per call")));
        }
    }
    cases
}

/// The dynamic case `n = k`; num-dual unless `skip_num_dual` says why not.
fn dynamic(n: usize, skip_num_dual: Option<&'static str>) -> Case {
    let x = data::dmatrix(n, n, 1.0, 33);
    let a = data::dmatrix(n, n, 1.0, 34);
    let args = move || (x.clone(), a.clone());
    let mut case = Case::new("quadform", format!("{n}"));
    let (x, a) = args();
    case = case.with(Impl::Value, move || quadform(bb(&x), bb(&a)));
    let (x, a) = args();
    case = case.with(Impl::Hand, move || quadform_hand(bb(&x), bb(&a)));
    let (x, a) = args();
    case = case.with(Impl::Matgrad, move || quadform_grad(bb(&x), bb(&a)));
    if let Some(why) = skip_num_dual {
        case = case.skip(Impl::NumDual, why);
    }
    #[cfg(feature = "peers")]
    {
        if skip_num_dual.is_none() {
            let (x, a) = args();
            case = case.with(Impl::NumDual, move || quadform_num_dual(bb(&x), bb(&a)));
        }
        let (x, a) = args();
        case = case.with(Impl::AdTrait, move || quadform_ad_trait(bb(&x), bb(&a)));
    }
    case.skip(Impl::FiniteDiff, "smallest size only")
}
