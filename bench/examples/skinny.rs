//! Products with few columns, `A B` and `Aᵀ B` with `B` of 8 to 16 columns, as nalgebra
//! computes them (matrixmultiply, which packs both factors first; `Aᵀ B` as `gemm` on a
//! transposed view, as the expert gradients do) and as matgrad's generated
//! code does (`__private::mul` and `tr_mul`: up to 12 columns by loops of its own on a
//! processor with AVX-512, `runtime/src/narrow.rs`), on one thread, timed like the table.
//!
//! `cargo run --release -p matgrad-bench --example skinny`

use std::hint::black_box as bb;

use matgrad::__private::{mul, tr_mul};
use matgrad::nalgebra::DMatrix;
use matgrad_bench::data;
use matgrad_bench::harness::{time_case, Case, Impl, Timing};
use matgrad_bench::linalg::gemm_tn;

fn main() {
    matgrad::set_threads(1);
    // (rows of A, columns of A = rows of B): the factorisation's `R` at 200 × 150, larger `A`s,
    // a `B` of 1 000 rows, and a small square one.
    for (m, k) in [(200, 150), (2000, 200), (500, 1000), (64, 64)] {
        for n in [8, 10, 12, 16] {
            let a = data::dmatrix(m, k, 1.0, 1);
            let (b, bt) = (data::dmatrix(k, n, 1.0, 2), data::dmatrix(m, n, 1.0, 3));
            let case = Case::new("skinny", format!("{m} × {k}, {n} columns"))
                .with(Impl::Value, {
                    let (a, b) = (a.clone(), b.clone());
                    move || keep(bb(&a) * bb(&b))
                })
                .with(Impl::Value, {
                    let (a, b) = (a.clone(), b.clone());
                    move || keep(mul(bb(&a), bb(&b)))
                })
                .with(Impl::Value, {
                    let (a, bt) = (a.clone(), bt.clone());
                    move || {
                        let mut c = DMatrix::zeros(k, n);
                        gemm_tn(&mut c, 1.0, bb(&a), bb(&bt), 0.0);
                        keep(c)
                    }
                })
                .with(Impl::Value, move || keep(tr_mul(bb(&a), bb(&bt))));
            let ns = time_case(&case, &Timing::default());
            println!(
                "{m:>4} × {k:<4} by {n:>2} columns: A B nalgebra {:>8.0} ns, matgrad {:>8.0} ns ({:.2}×);   Aᵀ B nalgebra {:>8.0} ns, matgrad {:>8.0} ns ({:.2}×)",
                ns[0],
                ns[1],
                ns[1] / ns[0],
                ns[2],
                ns[3],
                ns[3] / ns[2]
            );
        }
    }
}

/// Keeps a product alive, all of it.
fn keep(m: DMatrix<f64>) -> f64 {
    bb(m);
    0.0
}
