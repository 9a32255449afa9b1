//! Deterministic inputs: a small seeded generator, so every run times the same problems.

use matgrad::nalgebra::{DMatrix, DVector, SMatrix};

/// SplitMix64: enough randomness for benchmark inputs, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [−1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
    }

    /// −1 or +1.
    pub fn sign(&mut self) -> f64 {
        if self.next_u64() & 1 == 0 {
            -1.0
        } else {
            1.0
        }
    }
}

/// An `r × c` matrix with entries uniform in [−scale, scale).
pub fn dmatrix(r: usize, c: usize, scale: f64, seed: u64) -> DMatrix<f64> {
    let mut rng = Rng::new(seed);
    DMatrix::from_fn(r, c, |_, _| scale * rng.uniform())
}

/// A vector of length `n` with entries uniform in [−scale, scale).
pub fn dvector(n: usize, scale: f64, seed: u64) -> DVector<f64> {
    let mut rng = Rng::new(seed);
    DVector::from_fn(n, |_, _| scale * rng.uniform())
}

/// A vector of `n` labels ±1.
pub fn labels(n: usize, seed: u64) -> DVector<f64> {
    let mut rng = Rng::new(seed);
    DVector::from_fn(n, |_, _| rng.sign())
}

/// A fixed-size matrix with entries uniform in [−scale, scale).
pub fn smatrix<const R: usize, const C: usize>(scale: f64, seed: u64) -> SMatrix<f64, R, C> {
    let mut rng = Rng::new(seed);
    SMatrix::from_fn(|_, _| scale * rng.uniform())
}

/// A well-conditioned symmetric positive definite `n × n` matrix: `BBᵀ/n + I`.
pub fn spd(n: usize, seed: u64) -> DMatrix<f64> {
    let b = dmatrix(n, n, 1.0, seed);
    &b * b.transpose() / n as f64 + DMatrix::identity(n, n)
}
