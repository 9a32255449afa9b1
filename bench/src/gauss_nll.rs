//! Gaussian negative log-likelihood in the covariance, `ln det Σ + tr(Σ⁻¹S)` with respect to a
//! symmetric positive definite `Σ` (`S` a symmetric positive definite scatter matrix).
//!
//! As a function of all `n²` entries of `Σ` the gradient is `Σ⁻ᵀ − Σ⁻ᵀSᵀΣ⁻ᵀ`, which for
//! symmetric `Σ` and `S` is `Σ⁻¹ − Σ⁻¹SΣ⁻¹`; every implementation computes that same matrix.

use std::hint::black_box as bb;

use matgrad::grad;
use matgrad::nalgebra::{DMatrix, Matrix3};
#[cfg(feature = "peers")]
use matgrad::nalgebra::{DVector, SVector};
#[cfg(feature = "peers")]
use num_dual::{DualDVec64, DualNum, DualSVec64};

#[cfg(feature = "peers")]
use crate::adt;
use crate::data;
use crate::fd;
use crate::harness::{Case, Impl, Sizes};
use crate::linalg::{lower_gram, lower_inverse};

/// The loss for dynamic sizes, as the benchmark defines it; `#[grad]` adds `gauss_nll_grad`.
#[grad(sigma)]
pub fn gauss_nll(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
}

/// The loss for `Matrix3`; `#[grad]` adds `gauss_nll3_grad`.
#[allow(clippy::clone_on_copy)] // written exactly as the dynamic version
#[grad(sigma)]
pub fn gauss_nll3(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
    sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
}

/// By hand: one Cholesky factorisation `Σ = LLᵀ` gives `ln det Σ = 2 Σ ln Lᵢᵢ` and
/// `Σ⁻¹ = L⁻ᵀL⁻¹` (the triangular inverse `L⁻¹` by halves, then its Gram matrix,
/// [`lower_gram`], one `gemm` at these sizes: nalgebra's `Cholesky::inverse`, column-by-column
/// substitution, is about 1.5× slower); then `T = Σ⁻¹S`
/// (its trace is the second term) and `∇Σ = Σ⁻¹ − TΣ⁻¹`, accumulated in place (`gemm` with
/// β = 1).
pub fn gauss_nll_hand(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let chol = sigma.clone().cholesky().expect("Σ is positive definite");
    let l = chol.l_dirty();
    let ln_det = 2.0 * l.diagonal().iter().map(|d| d.ln()).sum::<f64>();
    // `l_dirty` has garbage above the diagonal; the triangular inverse never reads it.
    let l_inv = lower_inverse(l);
    let inv = lower_gram(&l_inv);
    let t = &inv * s;
    let mut g = inv.clone();
    g.gemm(-1.0, &t, &inv, 1.0);
    (ln_det + t.trace(), g)
}

/// By hand, `Matrix3` (on the stack): the 2 × 2 cofactors once, giving both the determinant
/// (expansion along the first row) and the inverse (adjugate ÷ determinant), where
/// `determinant()` and `try_inverse()` compute them twice; `Σ` is symmetric, so six cofactors
/// make the symmetric adjugate. Then `P = Σ⁻¹S`, whose trace is the second term, and
/// `∇Σ = Σ⁻¹ − PΣ⁻¹`. (All nine cofactors, nalgebra's two calls and a Cholesky factorisation
/// were measured too, `examples/baseline_forms.rs`: 1.07–1.11×, 1.15–1.25× and 3.3–4.1× the
/// time.)
pub fn gauss_nll3_hand(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    let m = |i: usize, j: usize| sigma[(i, j)];
    let c00 = m(1, 1) * m(2, 2) - m(1, 2) * m(1, 2);
    let c01 = m(1, 2) * m(0, 2) - m(0, 1) * m(2, 2);
    let c02 = m(0, 1) * m(1, 2) - m(1, 1) * m(0, 2);
    let c11 = m(0, 0) * m(2, 2) - m(0, 2) * m(0, 2);
    let c12 = m(0, 2) * m(0, 1) - m(0, 0) * m(1, 2);
    let c22 = m(0, 0) * m(1, 1) - m(0, 1) * m(0, 1);
    let det = m(0, 0) * c00 + m(0, 1) * c01 + m(0, 2) * c02;
    let inv = Matrix3::new(c00, c01, c02, c01, c11, c12, c02, c12, c22) * det.recip();
    let p = inv * s;
    (det.ln() + p.trace(), inv - p * inv)
}

/// By hand, `Matrix3`, all nine cofactors (no use of the symmetry of `Σ`), for the comparison
/// in `examples/baseline_forms.rs`.
pub fn gauss_nll3_hand_nine(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    let m = |i: usize, j: usize| sigma[(i, j)];
    let c00 = m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1);
    let c01 = m(1, 2) * m(2, 0) - m(1, 0) * m(2, 2);
    let c02 = m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0);
    let det = m(0, 0) * c00 + m(0, 1) * c01 + m(0, 2) * c02;
    let adj = Matrix3::new(
        c00,
        m(0, 2) * m(2, 1) - m(0, 1) * m(2, 2),
        m(0, 1) * m(1, 2) - m(0, 2) * m(1, 1),
        c01,
        m(0, 0) * m(2, 2) - m(0, 2) * m(2, 0),
        m(0, 2) * m(1, 0) - m(0, 0) * m(1, 2),
        c02,
        m(0, 1) * m(2, 0) - m(0, 0) * m(2, 1),
        m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0),
    );
    let inv = adj * det.recip();
    let p = inv * s;
    (det.ln() + p.trace(), inv - p * inv)
}

/// By hand, `Matrix3`, through a Cholesky factorisation as for the dynamic sizes (timed as a
/// side note in the README: slower than the closed form at this size).
pub fn gauss_nll3_hand_cholesky(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    let chol = sigma.cholesky().expect("Σ is positive definite");
    let l = chol.l_dirty();
    let ln_det = 2.0 * (l[(0, 0)] * l[(1, 1)] * l[(2, 2)]).ln();
    let inv = chol.inverse();
    let t = inv * s;
    (ln_det + t.trace(), inv - t * inv)
}

/// num-dual forward mode, `Σ` flattened (column-major) into the vector of variables.
#[cfg(feature = "peers")]
pub fn gauss_nll_num_dual(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let n = sigma.nrows();
    let s = s.map(DualDVec64::from_re);
    let (f, g) = num_dual::gradient(
        |v: DVector<DualDVec64>| {
            let sigma = DMatrix::from_column_slice(n, n, v.as_slice());
            sigma.determinant().ln() + (sigma.try_inverse().unwrap() * &s).trace()
        },
        &DVector::from_column_slice(sigma.as_slice()),
    );
    (f, DMatrix::from_column_slice(n, n, g.as_slice()))
}

/// num-dual forward mode, `Matrix3`.
#[cfg(feature = "peers")]
pub fn gauss_nll3_num_dual(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    let s = s.map(DualSVec64::<9>::from_re);
    let (f, g) = num_dual::gradient(
        |v: SVector<DualSVec64<9>, 9>| {
            let sigma = Matrix3::from_column_slice(v.as_slice());
            sigma.determinant().ln() + (sigma.try_inverse().unwrap() * s).trace()
        },
        &SVector::<f64, 9>::from_column_slice(sigma.as_slice()),
    );
    (f, Matrix3::from_column_slice(g.as_slice()))
}

/// ad_trait reverse mode.
#[cfg(feature = "peers")]
pub fn gauss_nll_ad_trait(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    use adt::na34::ComplexField;
    adt::reset_tape();
    let sv = adt::dvars(sigma);
    let f = sv.determinant().ln() + (sv.clone().try_inverse().unwrap() * adt::dconsts(s)).trace();
    let (f, grads) = adt::backward(f);
    (f, adt::adjoints(&grads, &sv, sigma))
}

/// ad_trait reverse mode, `Matrix3`.
#[cfg(feature = "peers")]
pub fn gauss_nll3_ad_trait(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    use adt::na34::ComplexField;
    adt::reset_tape();
    let sv = adt::svars(sigma);
    let f = sv.determinant().ln() + (sv.try_inverse().unwrap() * adt::sconsts(s)).trace();
    let (f, grads) = adt::backward(f);
    (f, adt::adjoints(&grads, &sv, sigma))
}

/// Central finite differences of [`gauss_nll3`].
pub fn gauss_nll3_fd(sigma: &Matrix3<f64>, s: &Matrix3<f64>) -> (f64, Matrix3<f64>) {
    fd::gradient(sigma, |sigma| gauss_nll3(sigma, s))
}

/// The dynamic sizes `n` of the table (the smallest size, 3, is the `Matrix3` case).
pub const SIZES: [usize; 2] = [10, 50];

/// The `Matrix3` case and, for [`Sizes::All`], the dynamic sizes; for [`Sizes::Smallest`], a
/// 4 × 4 dynamic instance instead, so that the dynamic implementations are checked too.
pub fn cases(sizes: Sizes) -> Vec<Case> {
    let sigma = Matrix3::from_column_slice(data::spd(3, 41).as_slice());
    let s = Matrix3::from_column_slice(data::spd(3, 42).as_slice());
    let case = Case::new("gauss_nll", "3 (Matrix3)")
        .with(Impl::Value, move || gauss_nll3(bb(&sigma), bb(&s)))
        .with(Impl::Hand, move || gauss_nll3_hand(bb(&sigma), bb(&s)))
        .with(Impl::Matgrad, move || gauss_nll3_grad(bb(&sigma), bb(&s)));
    #[cfg(feature = "peers")]
    let case = case
        .with(Impl::NumDual, move || {
            gauss_nll3_num_dual(bb(&sigma), bb(&s))
        })
        .with(Impl::AdTrait, move || {
            gauss_nll3_ad_trait(bb(&sigma), bb(&s))
        });
    let mut cases = vec![case.with(Impl::FiniteDiff, move || gauss_nll3_fd(bb(&sigma), bb(&s)))];
    match sizes {
        Sizes::Smallest => cases.push(dynamic(4, None)),
        Sizes::All => {
            cases.push(dynamic(SIZES[0], None));
            cases.push(dynamic(SIZES[1], Some("≈1.5 s per call")));
        }
    }
    cases
}

/// The other `Matrix3` forms beside the baseline, for the tests: through a Cholesky
/// factorisation (as `matgrad`) and with all nine cofactors (as "hand, as written").
pub fn forms3_case() -> Case {
    let sigma = Matrix3::from_column_slice(data::spd(3, 41).as_slice());
    let s = Matrix3::from_column_slice(data::spd(3, 42).as_slice());
    Case::new("gauss_nll", "3 (Matrix3), other forms")
        .with(Impl::Hand, move || gauss_nll3_hand(bb(&sigma), bb(&s)))
        .with(Impl::Matgrad, move || {
            gauss_nll3_hand_cholesky(bb(&sigma), bb(&s))
        })
        .with(Impl::HandLoop, move || {
            gauss_nll3_hand_nine(bb(&sigma), bb(&s))
        })
}

/// The dynamic case `n`; num-dual unless `skip_num_dual` says why not.
fn dynamic(n: usize, skip_num_dual: Option<&'static str>) -> Case {
    let sigma = data::spd(n, 43);
    let s = data::spd(n, 44);
    let args = move || (sigma.clone(), s.clone());
    let mut case = Case::new("gauss_nll", format!("{n}"));
    let (sigma, s) = args();
    case = case.with(Impl::Value, move || gauss_nll(bb(&sigma), bb(&s)));
    let (sigma, s) = args();
    case = case.with(Impl::Hand, move || gauss_nll_hand(bb(&sigma), bb(&s)));
    let (sigma, s) = args();
    case = case.with(Impl::Matgrad, move || gauss_nll_grad(bb(&sigma), bb(&s)));
    if let Some(why) = skip_num_dual {
        case = case.skip(Impl::NumDual, why);
    }
    #[cfg(feature = "peers")]
    {
        if skip_num_dual.is_none() {
            let (sigma, s) = args();
            case = case.with(Impl::NumDual, move || {
                gauss_nll_num_dual(bb(&sigma), bb(&s))
            });
        }
        let (sigma, s) = args();
        case = case.with(Impl::AdTrait, move || {
            gauss_nll_ad_trait(bb(&sigma), bb(&s))
        });
    }
    case.skip(Impl::FiniteDiff, "smallest size only")
}
