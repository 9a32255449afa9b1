//! Benchmarks of matgrad: nine losses (three written as `for` loops), each with value + full
//! gradient computed by
//!
//! 1. matgrad — `#[grad]` on the plain loss;
//! 2. a hand-written closed-form gradient, as written for production;
//! 3. num-dual, forward mode (`num_dual::gradient`);
//! 4. ad_trait, reverse mode (`adr` on its thread-local tape);
//! 5. central finite differences (smallest sizes only);
//!
//! plus the plain loss (value only). Each case module holds the loss and every implementation
//! of its gradient; [`harness`] checks them against the hand-written one and times them.
//! `cargo run --release -p matgrad-bench --features peers --bin table` prints the table; the
//! peer implementations (3 and 4) are built with the `peers` feature only. With the `parallel`
//! feature the table also times matgrad on every core, in turn with the single-threaded figures
//! ([`threads`]).

#[cfg(feature = "peers")]
pub mod adt;
pub mod chart;
pub mod data;
pub mod fd;
pub mod goals;
pub mod harness;
pub mod linalg;
pub mod threads;

pub mod gauss_nll;
pub mod gp;
pub mod huber_loop;
pub mod logreg;
pub mod logreg_loop;
pub mod lsq;
pub mod mf;
pub mod mlp;
pub mod quadform;
pub mod rnn;
pub mod softmax_ce;

pub use harness::{Case, Entry, Impl, Sizes};

/// Every case at the selected sizes, in the order of the table.
pub fn all_cases(sizes: Sizes) -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(lsq::cases(sizes));
    cases.extend(logreg::cases(sizes));
    cases.extend(quadform::cases(sizes));
    cases.extend(gauss_nll::cases(sizes));
    cases.extend(mf::cases(sizes));
    cases.extend(mlp::cases(sizes));
    cases.extend(logreg_loop::cases(sizes));
    cases.extend(huber_loop::cases(sizes));
    cases.extend(rnn::cases(sizes));
    cases.extend(gp::cases(sizes));
    cases.extend(softmax_ce::cases(sizes));
    cases
}
