//! Central finite differences, the baseline every numerical optimiser can fall back on.

use matgrad::nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// `(f(p), ∇f(p))` by central differences, `2·len(p) + 1` evaluations of `f`.
///
/// The step is `h = 6·10⁻⁶ · max(1, |pᵢ|)` (≈ ε^{1/3}, the optimum for central differences).
pub fn gradient<R: Dim, C: Dim>(
    p: &OMatrix<f64, R, C>,
    mut f: impl FnMut(&OMatrix<f64, R, C>) -> f64,
) -> (f64, OMatrix<f64, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let value = f(p);
    let mut q = p.clone();
    let mut g = p.clone();
    for i in 0..p.len() {
        let x = q[i];
        let h = 6e-6 * x.abs().max(1.0);
        q[i] = x + h;
        let up = f(&q);
        q[i] = x - h;
        let down = f(&q);
        q[i] = x;
        g[i] = (up - down) / (2.0 * h);
    }
    (value, g)
}

/// Finite differences with respect to two parameters at once: `(f, ∇_a f, ∇_b f)`.
pub fn gradient2<R1: Dim, C1: Dim, R2: Dim, C2: Dim>(
    a: &OMatrix<f64, R1, C1>,
    b: &OMatrix<f64, R2, C2>,
    mut f: impl FnMut(&OMatrix<f64, R1, C1>, &OMatrix<f64, R2, C2>) -> f64,
) -> (f64, OMatrix<f64, R1, C1>, OMatrix<f64, R2, C2>)
where
    DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2>,
{
    let (value, ga) = gradient(a, |a| f(a, b));
    let (_, gb) = gradient(b, |b| f(a, b));
    (value, ga, gb)
}
