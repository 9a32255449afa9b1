//! A Gaussian process's negative log marginal likelihood through a Cholesky factorisation, as
//! scikit-learn's users port `GaussianProcessRegressor.log_marginal_likelihood`:
//! `½ yᵀα + Σ ln Lᵢᵢ + ½ n ln 2π` with `K = kernel + noise·I = L Lᵀ`, `α = K⁻¹y`, with respect
//! to the kernel matrix.
//!
//! `cholesky()` reads only the lower triangle of `K`, so the gradient of the function as written
//! is `M = K⁻¹ − ααᵀ` below the diagonal (both halves of `½ M`), `½ Mᵢᵢ` on it, and zero above;
//! every implementation computes that same matrix.

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
use crate::linalg::{lower_gram, lower_inverse};

const HALF_LN_TAU: f64 = 0.918_938_533_204_672_8; // ½ ln 2π

/// The loss as a user writes it (`eye` is the identity: constructors of constants come with the
/// helper functions); `#[grad]` adds `gp_nlml_grad`.
#[grad(kernel)]
pub fn gp_nlml(kernel: &DMatrix<f64>, y: &DVector<f64>, eye: &DMatrix<f64>, noise: f64) -> f64 {
    let n = y.len();
    let k = kernel + eye * noise;
    let chol = k.clone().cholesky().unwrap();
    let alpha = chol.solve(y);
    0.5 * y.dot(&alpha)
        + chol.l().diagonal().map(|v| v.ln()).sum()
        + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// By hand, the best form found: one Cholesky factorisation; `α` by its solve; `K⁻¹ = L⁻ᵀL⁻¹`
/// from the triangular inverse `L⁻¹` by halves and its Gram matrix by halves, LAPACK's
/// `trtri` and `lauum` ([`lower_gram`]; faster than nalgebra's `Cholesky::inverse`, as for
/// `gauss_nll`, and at 200 × 200 than one `gemm` for `L⁻ᵀL⁻¹`); `K⁻¹ − ααᵀ` in place (`ger`);
/// then onto the lower triangle (the diagonal halved, zeros above).
pub fn gp_nlml_hand(
    kernel: &DMatrix<f64>,
    y: &DVector<f64>,
    _eye: &DMatrix<f64>,
    noise: f64,
) -> (f64, DMatrix<f64>) {
    let n = y.len();
    let mut k = kernel.clone();
    for i in 0..n {
        k[(i, i)] += noise;
    }
    let chol = k.cholesky().expect("K is positive definite");
    let alpha = chol.solve(y);
    let l = chol.l_dirty();
    let half_ln_det: f64 = l.diagonal().iter().map(|d| d.ln()).sum();
    let value = 0.5 * y.dot(&alpha) + half_ln_det + n as f64 * HALF_LN_TAU;
    // `l_dirty` has garbage above the diagonal; the triangular inverse never reads it.
    let l_inv = lower_inverse(l);
    let mut g = lower_gram(&l_inv);
    g.ger(-1.0, &alpha, &alpha, 1.0);
    for j in 0..n {
        g[(j, j)] *= 0.5;
        for i in 0..j {
            g[(i, j)] = 0.0;
        }
    }
    (value, g)
}

/// The loss of a matrix of dual numbers or tape variables, as nalgebra computes it.
#[cfg(feature = "peers")]
macro_rules! nlml_of {
    ($k:expr, $y:expr, $n:expr, $c:expr) => {{
        let chol = $k.cholesky().expect("K is positive definite");
        let alpha = chol.solve(&$y);
        let l = chol.l();
        let mut ln_diag = l[(0, 0)].ln();
        for i in 1..$n {
            ln_diag += l[(i, i)].ln();
        }
        $y.dot(&alpha) * $c(0.5) + ln_diag + $c($n as f64 * HALF_LN_TAU)
    }};
}

#[cfg(feature = "peers")]
/// num-dual forward mode, the kernel flattened (column-major) into the vector of variables.
pub fn gp_nlml_num_dual(
    kernel: &DMatrix<f64>,
    y: &DVector<f64>,
    _eye: &DMatrix<f64>,
    noise: f64,
) -> (f64, DMatrix<f64>) {
    let n = y.len();
    let yd = y.map(DualDVec64::from_re);
    let (f, g) = num_dual::gradient(
        |v: DVector<DualDVec64>| {
            let mut k = DMatrix::from_column_slice(n, n, v.as_slice());
            for i in 0..n {
                k[(i, i)] += noise;
            }
            nlml_of!(k, yd, n, DualDVec64::from_re)
        },
        &DVector::from_column_slice(kernel.as_slice()),
    );
    (f, DMatrix::from_column_slice(n, n, g.as_slice()))
}

/// ad_trait reverse mode.
#[cfg(feature = "peers")]
pub fn gp_nlml_ad_trait(
    kernel: &DMatrix<f64>,
    y: &DVector<f64>,
    _eye: &DMatrix<f64>,
    noise: f64,
) -> (f64, DMatrix<f64>) {
    use ad_trait::reverse_ad::adr::adr;
    use ad_trait::AD;
    use adt::na34::ComplexField;
    adt::reset_tape();
    let n = y.len();
    let kv = adt::dvars(kernel);
    let mut k = kv.clone();
    for i in 0..n {
        k[(i, i)] += adr::constant(noise);
    }
    let yc = adt::dconsts(y);
    let f = nlml_of!(k, yc.column(0), n, adr::constant);
    let (f, grads) = adt::backward(f);
    (f, adt::adjoints(&grads, &kv, kernel))
}

/// Central finite differences of [`gp_nlml`].
pub fn gp_nlml_fd(
    kernel: &DMatrix<f64>,
    y: &DVector<f64>,
    eye: &DMatrix<f64>,
    noise: f64,
) -> (f64, DMatrix<f64>) {
    fd::gradient(kernel, |k| gp_nlml(k, y, eye, noise))
}

/// The sizes `n` of the table.
pub const SIZES: [usize; 2] = [50, 200];

/// A squared-exponential kernel on `n` points of the line (length scale 1): positive definite,
/// with the noise added, and badly conditioned without it, as real kernels are.
pub fn kernel(n: usize) -> DMatrix<f64> {
    let x = data::dvector(n, 3.0, 51);
    DMatrix::from_fn(n, n, |i, j| (-0.5 * (x[i] - x[j]).powi(2)).exp())
}

pub fn cases(sizes: Sizes) -> Vec<Case> {
    let sizes: &[usize] = match sizes {
        Sizes::Smallest => &[6],
        Sizes::All => &SIZES,
    };
    sizes
        .iter()
        .map(|&n| {
            let (k, y, eye, noise) = (
                kernel(n),
                data::dvector(n, 1.0, 52),
                DMatrix::identity(n, n),
                0.1,
            );
            let args = move || (k.clone(), y.clone(), eye.clone());
            let mut case = Case::new("gp_nlml", format!("{n}"));
            let (k, y, eye) = args();
            case = case.with(Impl::Value, move || {
                gp_nlml(bb(&k), bb(&y), bb(&eye), bb(noise))
            });
            let (k, y, eye) = args();
            case = case.with(Impl::Hand, move || {
                gp_nlml_hand(bb(&k), bb(&y), bb(&eye), bb(noise))
            });
            let (k, y, eye) = args();
            case = case.with(Impl::Matgrad, move || {
                gp_nlml_grad(bb(&k), bb(&y), bb(&eye), bb(noise))
            });
            #[cfg(feature = "peers")]
            {
                if n <= 50 {
                    let (k, y, eye) = args();
                    case = case.with(Impl::NumDual, move || {
                        gp_nlml_num_dual(bb(&k), bb(&y), bb(&eye), bb(noise))
                    });
                } else {
                    case = case.skip(Impl::NumDual, "n² duals of n² entries each");
                }
                let (k, y, eye) = args();
                case = case.with(Impl::AdTrait, move || {
                    gp_nlml_ad_trait(bb(&k), bb(&y), bb(&eye), bb(noise))
                });
            }
            if n <= 6 {
                let (k, y, eye) = args();
                case = case.with(Impl::FiniteDiff, move || {
                    gp_nlml_fd(bb(&k), bb(&y), bb(&eye), bb(noise))
                });
            } else {
                case = case.skip(Impl::FiniteDiff, "smallest size only");
            }
            case
        })
        .collect()
}
