//! The special functions of the runtime (`matgrad::erf`, `erfc`, `normal_cdf`, `ln_gamma`,
//! `digamma`), recognised as operations, and the polygamma functions their derivatives read.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::Id;
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// `c̄ · k e^{−s a²}`: the adjoint of `erf` (`k = 2/√π`, `s = 1`), `erfc` (`k = −2/√π`) and
/// `Φ` (`k = 1/√(2π)`, `s = ½`).
fn gaussian_times(g: &mut Graph, a: Id, cbar: Id, k: f64, s: f64) -> Id {
    let square = g.times(a, a);
    let minus_s = g.lit(-s);
    let exponent = g.times(minus_s, square);
    let e = g.build(Exp, &[exponent]);
    let k = g.lit(k);
    let d = g.times(k, e);
    g.times(cbar, d)
}

scalar_fn!(
    /// `c = erf(a)`: `dc = (2/√π) e^{−a²} da`.
    Erf, runtime "erf", "erf", |g, a, c, cbar| {
        Some(gaussian_times(g, a, cbar, std::f64::consts::FRAC_2_SQRT_PI, 1.0))
    }
);
scalar_fn!(
    /// `c = erfc(a) = 1 − erf(a)`: `dc = −(2/√π) e^{−a²} da`.
    Erfc, runtime "erfc", "erfc", |g, a, c, cbar| {
        Some(gaussian_times(g, a, cbar, -std::f64::consts::FRAC_2_SQRT_PI, 1.0))
    }
);
scalar_fn!(
    /// `c = Φ(a)`, the standard normal distribution function: `dc = φ(a) da`, the density
    /// `φ(a) = e^{−a²/2}/√(2π)`.
    NormalCdf, runtime "normal_cdf", "Φ", |g, a, c, cbar| {
        let k = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        Some(gaussian_times(g, a, cbar, k, 0.5))
    }
);
scalar_fn!(
    /// `c = ln Γ(a)`: `dc = ψ(a) da`.
    LnGamma, runtime "ln_gamma", "ln Γ", |g, a, c, cbar| {
        let d = g.build(Digamma, &[a]);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = ψ(a)`, the digamma function: `dc = ψ′(a) da`.
    Digamma, runtime "digamma", "ψ", |g, a, c, cbar| {
        let d = g.build(Trigamma, &[a]);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = ψ′(a)` (built for the derivative of [`Digamma`]): `dc = ψ″(a) da`.
    Trigamma, runtime "trigamma", "ψ′", |g, a, c, cbar| {
        let d = g.build(Tetragamma, &[a]);
        Some(g.times(cbar, d))
    }
);
scalar_fn!(
    /// `c = ψ″(a)` (built for the second derivative of [`Digamma`] in a Hessian). matgrad's
    /// derivatives are of the first and second order, so its own derivative, a third one of
    /// `digamma`, is never formed.
    Tetragamma, runtime "tetragamma", "ψ″", |g, a, c, cbar| {
        let _ = (g, cbar);
        None
    }
);
