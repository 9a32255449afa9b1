//! A function of the user's named like one of matgrad's (`ln_gamma`, `sigmoid`) stays the
//! user's: the expansion asks which one the name is, and only matgrad's own is read as its
//! operation (a bare `ln_gamma` imported from matgrad is).

#[macro_use]
mod common;

use common::*;
use matgrad::grad;
use matgrad::nalgebra::DVector;

mod own {
    /// Not `ln Γ`: a function of the user's that happens to have the name.
    pub fn ln_gamma(x: f64) -> f64 {
        x.ln()
    }
}

mod imported {
    use super::*;
    use matgrad::{ln_gamma, sigmoid};

    /// matgrad's, imported and called by bare names.
    #[grad(w)]
    pub fn theirs(w: &DVector<f64>) -> f64 {
        w.map(sigmoid).sum() + ln_gamma(w[0] * w[0] + 1.0)
    }
}

use own::ln_gamma;

/// The user's `ln_gamma`, of a constant: a constant, computed by the user's function.
#[grad(w)]
fn mine(w: &DVector<f64>, n: f64) -> f64 {
    w.norm_squared() * ln_gamma(n)
}

#[test]
fn a_function_of_the_users_keeps_its_meaning() {
    let w = dv(3, 1);
    let n = 4.0;
    check!(mine(&w, n) => mine_grad[w]);
    // The user's `ln`, not `ln Γ(4) = ln 6`.
    let (value, _) = mine_grad(&w, n);
    let want = w.norm_squared() * n.ln();
    assert!(
        (value - want).abs() <= 1e-14 * want.abs(),
        "{value} against {want}"
    );
}

#[test]
fn matgrads_functions_imported_by_bare_names() {
    use imported::{theirs, theirs_grad};
    let w = dv(3, 2);
    check!(theirs(&w) => theirs_grad[w]);
}
