//! Helpers for ad_trait's reverse mode (`adr`).
//!
//! ad_trait 0.3 builds on nalgebra 0.34 (re-exported as `ad_trait::nalgebra`), while matgrad uses
//! nalgebra 0.35; the two are different crates, so the inputs are copied into 0.34 matrices of
//! `adr` inside each timed call (variables for the differentiated parameters, constants for the
//! data) and the adjoints are copied back. That copying is linear in the input size and is part
//! of what using ad_trait from nalgebra 0.35 code costs.

pub use ad_trait::nalgebra as na34;
use ad_trait::reverse_ad::adr::{adr, BackwardsModeGradOutputOpt, GlobalComputationGraph};
use ad_trait::AD;
use matgrad::nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// Clears the thread-local tape (its capacity is kept).
pub fn reset_tape() {
    GlobalComputationGraph::get().reset();
}

/// A dynamic 0.34 matrix of fresh tape variables holding the entries of `m`.
pub fn dvars<R: Dim, C: Dim>(m: &OMatrix<f64, R, C>) -> na34::DMatrix<adr>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape();
    na34::DMatrix::from_iterator(r, c, m.iter().map(|&v| adr::new_variable(v, false)))
}

/// A dynamic 0.34 matrix of constants (not on the tape) holding the entries of `m`.
pub fn dconsts<R: Dim, C: Dim>(m: &OMatrix<f64, R, C>) -> na34::DMatrix<adr>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape();
    na34::DMatrix::from_iterator(r, c, m.iter().map(|&v| adr::constant(v)))
}

/// A fixed-size 0.34 matrix of fresh tape variables.
pub fn svars<const R: usize, const C: usize>(
    m: &matgrad::nalgebra::SMatrix<f64, R, C>,
) -> na34::SMatrix<adr, R, C> {
    na34::SMatrix::from_iterator(m.iter().map(|&v| adr::new_variable(v, false)))
}

/// A fixed-size 0.34 matrix of constants.
pub fn sconsts<const R: usize, const C: usize>(
    m: &matgrad::nalgebra::SMatrix<f64, R, C>,
) -> na34::SMatrix<adr, R, C> {
    na34::SMatrix::from_iterator(m.iter().map(|&v| adr::constant(v)))
}

/// The adjoints of the variables `vars`, as a 0.35 matrix shaped like `like`.
pub fn adjoints<R: Dim, C: Dim, R2: na34::Dim, C2: na34::Dim, S>(
    grads: &BackwardsModeGradOutputOpt,
    vars: &na34::Matrix<adr, R2, C2, S>,
    like: &OMatrix<f64, R, C>,
) -> OMatrix<f64, R, C>
where
    DefaultAllocator: Allocator<R, C>,
    S: na34::RawStorage<adr, R2, C2>,
{
    let (r, c) = like.shape_generic();
    OMatrix::from_iterator_generic(r, c, vars.iter().map(|v| grads.wrt(v)))
}

/// Value and adjoints after the forward pass that produced `f`.
pub fn backward(f: adr) -> (f64, BackwardsModeGradOutputOpt) {
    (f.value(), f.get_backwards_mode_grad())
}
