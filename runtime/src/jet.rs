//! Fréchet derivatives of matrix functions by running their algorithm on
//! jets. A dual matrix `X + εE` (ε² = 0) is the block matrix
//! `[[X, E], [0, X]]`, and any algorithm made of sums, products, scalings and
//! inverses maps it to `f(X) + ε L_f(X, E)`, the top-right block of
//! `f([[X, E], [0, X]])`, without forming the block matrix: fixed sizes stay on
//! the stack and each product costs three of size n instead of one of size 2n.
//!
//! A dual of duals, `X + εE + ηF + εηG` with ε² = η² = 0 and εη = ηε, gives
//! `f(X) + ε L_f(X, E) + η L_f(X, F) + εη (L²_f(X; E, F) + L_f(X, G))`, where
//! `L²_f(X; E, F) = ∂²/∂s∂t f(X + sE + tF)` at 0. (This is the 4×4 block
//! matrix of Higham and Relton, "Higher order Fréchet derivatives of matrix
//! functions", 2014; the 3×3 one `[[X, E, 0], [0, X, F], [0, 0, X]]` has only
//! the terms with `E` before `F`: for `f(X) = X²` its corner is `EF`, not
//! `EF + FE`.)
//!
//! The algorithm decides its steps (number of square roots, of squarings,
//! when an iteration has converged) from [`Jet::value`] alone: a derivative
//! part never changes what is computed, only its own result.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

/// A square matrix, or a jet of one: the operations matrix functions are
/// computed with.
pub(crate) trait Jet<T: RealField + Copy, D: Dim>: Clone
where
    DefaultAllocator: Allocator<D, D>,
{
    /// The matrix itself, with every infinitesimal part dropped.
    fn value(&self) -> &OMatrix<T, D, D>;
    fn mul(&self, b: &Self) -> Self;
    fn add(&self, b: &Self) -> Self;
    fn scale(&self, s: T) -> Self;
    /// `self + sI`.
    fn shift(&self, s: T) -> Self;
    /// The identity, with zero infinitesimal parts.
    fn identity(&self) -> Self;
    /// `self⁻¹`, `None` where the value is singular.
    fn inverse(&self) -> Option<Self>;
}

impl<T, D> Jet<T, D> for OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    fn value(&self) -> &OMatrix<T, D, D> {
        self
    }
    fn mul(&self, b: &Self) -> Self {
        self * b
    }
    fn add(&self, b: &Self) -> Self {
        self + b
    }
    fn scale(&self, s: T) -> Self {
        self * s
    }
    fn shift(&self, s: T) -> Self {
        let mut m = self.clone();
        for i in 0..m.nrows() {
            m[(i, i)] += s;
        }
        m
    }
    fn identity(&self) -> Self {
        let (d, _) = self.shape_generic();
        OMatrix::identity_generic(d, d)
    }
    fn inverse(&self) -> Option<Self> {
        self.clone().try_inverse()
    }
}

/// `x + ε e` with `ε² = 0`, for any jet `x` (a dual of duals is a jet of
/// second order).
#[derive(Clone)]
pub(crate) struct Dual<J> {
    pub x: J,
    pub e: J,
}

impl<T, D, J> Jet<T, D> for Dual<J>
where
    T: RealField + Copy,
    D: Dim,
    J: Jet<T, D>,
    DefaultAllocator: Allocator<D, D>,
{
    fn value(&self) -> &OMatrix<T, D, D> {
        self.x.value()
    }
    /// `(x + εe)(y + εf) = xy + ε(xf + ey)`.
    fn mul(&self, b: &Self) -> Self {
        Dual {
            x: self.x.mul(&b.x),
            e: self.x.mul(&b.e).add(&self.e.mul(&b.x)),
        }
    }
    fn add(&self, b: &Self) -> Self {
        Dual {
            x: self.x.add(&b.x),
            e: self.e.add(&b.e),
        }
    }
    fn scale(&self, s: T) -> Self {
        Dual {
            x: self.x.scale(s),
            e: self.e.scale(s),
        }
    }
    fn shift(&self, s: T) -> Self {
        Dual {
            x: self.x.shift(s),
            e: self.e.clone(),
        }
    }
    fn identity(&self) -> Self {
        Dual {
            x: self.x.identity(),
            e: self.e.identity().scale(T::zero()),
        }
    }
    /// `(x + εe)⁻¹ = x⁻¹ − ε x⁻¹ e x⁻¹`.
    fn inverse(&self) -> Option<Self> {
        let xi = self.x.inverse()?;
        let e = xi.mul(&self.e).mul(&xi).scale(-T::one());
        Some(Dual { x: xi, e })
    }
}

/// The jet `A + εE` of first order.
pub(crate) fn first_order<T, D, S1, S2>(
    a: &Matrix<T, D, D, S1>,
    e: &Matrix<T, D, D, S2>,
) -> Dual<OMatrix<T, D, D>>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    Dual {
        x: a.clone_owned(),
        e: e.clone_owned(),
    }
}

/// The jet `A + εE + ηF` of second order.
pub(crate) fn second_order<T, D, S1, S2, S3>(
    a: &Matrix<T, D, D, S1>,
    e: &Matrix<T, D, D, S2>,
    f: &Matrix<T, D, D, S3>,
) -> Dual<Dual<OMatrix<T, D, D>>>
where
    T: RealField + Copy,
    D: Dim,
    S1: Storage<T, D, D>,
    S2: Storage<T, D, D>,
    S3: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    let (d, _) = a.shape_generic();
    Dual {
        x: first_order(a, e),
        e: Dual {
            x: f.clone_owned(),
            e: OMatrix::zeros_generic(d, d),
        },
    }
}

/// The 1-norm (largest column sum of magnitudes) of `m − sI`, which the
/// algorithms decide their steps by.
pub(crate) fn norm1_shifted<T, D>(m: &OMatrix<T, D, D>, s: T) -> T
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    let mut largest = T::zero();
    for (j, column) in m.column_iter().enumerate() {
        let mut sum = T::zero();
        for (i, v) in column.iter().enumerate() {
            sum += if i == j { (*v - s).abs() } else { v.abs() };
        }
        // (`max` would drop a NaN; the caller must see it.)
        if sum > largest || !sum.is_finite() {
            largest = sum;
        }
    }
    largest
}

/// A matrix of NaN the shape of `m`: the value outside a function's domain.
pub(crate) fn nan_like<T, D>(m: &OMatrix<T, D, D>) -> OMatrix<T, D, D>
where
    T: RealField + Copy,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    m.map(|_| T::zero() / T::zero())
}

#[cfg(test)]
mod tests {
    use nalgebra::Matrix3;

    use super::{Dual, Jet};

    /// The second-order jet of `X³` has the mixed derivative
    /// `XEF + XFE + EXF + FXE + EFX + FEX` in its εη part.
    #[test]
    fn second_order_part_is_the_mixed_derivative() {
        let x = Matrix3::new(1.0, 0.2, -0.3, 0.4, 0.9, 0.1, -0.2, 0.5, 1.1);
        let e = Matrix3::new(0.3, -0.1, 0.7, 0.2, 0.0, -0.5, 0.6, 0.1, 0.2);
        let f = Matrix3::new(-0.4, 0.8, 0.1, 0.0, 0.3, 0.2, 0.5, -0.7, 0.9);
        let zero = Matrix3::zeros();
        let jet = Dual {
            x: Dual { x, e },
            e: Dual { x: f, e: zero },
        };
        let cube = jet.mul(&jet).mul(&jet);
        let mixed = x * e * f + x * f * e + e * x * f + f * x * e + e * f * x + f * e * x;
        assert!((cube.e.e - mixed).amax() < 1e-14);
        assert!((cube.x.e - (e * x * x + x * e * x + x * x * e)).amax() < 1e-14);
        // The inverse's: d²(X⁻¹)[E, F] = X⁻¹EX⁻¹FX⁻¹ + X⁻¹FX⁻¹EX⁻¹.
        let xi = x.try_inverse().unwrap();
        let inv = jet.inverse().unwrap();
        let expected = xi * e * xi * f * xi + xi * f * xi * e * xi;
        assert!((inv.e.e - expected).amax() < 1e-12);
    }
}
