//! What the examples share: a small seeded random number generator, enough
//! for synthetic data and shuffles, and the reader of the iris data. (Each
//! example uses part of it.)
#![allow(dead_code)]

use std::error::Error;

use matgrad::nalgebra::DMatrix;

/// Fisher's iris data (150 flowers × 4 measurements, label `target`: 0 setosa, 1 versicolor,
/// 2 virginica; source and licence in `examples/data/README.md`).
pub const IRIS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/iris.csv");

/// The features of a CSV file whose last column is an integer label (one column per sample),
/// and the labels.
pub fn read_csv(path: &str) -> Result<(DMatrix<f64>, Vec<usize>), Box<dyn Error>> {
    let mut reader = csv::Reader::from_path(path)?;
    let features = reader.headers()?.len() - 1;
    let (mut columns, mut labels) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record?;
        for field in record.iter().take(features) {
            columns.push(field.parse::<f64>()?);
        }
        labels.push(record[features].parse::<usize>()?);
    }
    Ok((
        DMatrix::from_column_slice(features, labels.len(), &columns),
        labels,
    ))
}

/// xorshift64*: deterministic, so every run of an example prints the same.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // xorshift needs a non-zero state; mix the seed so nearby seeds give different streams.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut s = self.0;
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        self.0 = s;
        s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform on (0, 1]: never 0, so its logarithm is finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Uniform on [-1, 1).
    pub fn symmetric(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// Standard normal, by the Box–Muller transform.
    pub fn gaussian(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, (self.next_u64() % (i as u64 + 1)) as usize);
        }
        p
    }
}
