//! matgrad's gradients called back to back, as a training loop calls them, on one thread and on
//! every core (the `parallel` feature): the rows of the table's every-core goal. The table
//! interleaves every implementation of a case batch by batch, so matgrad's worker threads sleep
//! between its batches and the untimed calls that start each batch wake them; here the calls
//! follow each other, in batches of about 5 ms, alternating one thread and every core, 31 of
//! each.
//!
//! `cargo run --release -p matgrad-bench --features parallel --example training_loop`

use std::hint::black_box as bb;
use std::rc::Rc;
use std::time::Duration;

use matgrad_bench::harness::{time_case, Case, Impl, Timing};
use matgrad_bench::{data, logreg, lsq, mf, mlp};

/// One gradient's call on its inputs, its result black-boxed.
type Call = Rc<dyn Fn()>;

/// Nanoseconds per call of `f` with one thread and with every core: the harness's timing (each
/// batch started by half a batch of untimed calls, the median batch), its two entries
/// alternating batch by batch, with long batches.
fn one_and_every(f: Call) -> (f64, f64) {
    let every = matgrad::threads();
    let on = |threads: usize| {
        let f = Rc::clone(&f);
        move || {
            matgrad::set_threads(threads);
            f();
            0.0 // (the result is black-boxed by `f`)
        }
    };
    let case = Case::new("training loop", "")
        .with(Impl::Matgrad, on(1))
        .with(Impl::Matgrad, on(every));
    let timing = Timing {
        batch: Duration::from_millis(5),
        batches: 31,
        ..Timing::default()
    };
    let ns = time_case(&case, &timing);
    matgrad::set_threads(every);
    (ns[0], ns[1])
}

fn main() {
    let (x, y, w) = (
        Rc::new(data::dmatrix(2000, 200, 1.0, 1)),
        data::dvector(2000, 1.0, 2),
        Rc::new(data::dvector(200, 0.1, 3)),
    );
    let labels = data::labels(2000, 4);
    let (m, u, v) = (
        data::dmatrix(200, 150, 1.0, 5),
        data::dmatrix(200, 10, 1.0, 6),
        data::dmatrix(150, 10, 1.0, 7),
    );
    let (w1, w2, xs, ys) = (
        data::dmatrix(128, 64, 0.2, 8),
        data::dmatrix(10, 128, 0.2, 9),
        data::dvector(64, 1.0, 10),
        data::dvector(10, 1.0, 11),
    );
    let cases: [(&str, Call); 4] = [
        ("lsq 2000 × 200", {
            let (x, w) = (Rc::clone(&x), Rc::clone(&w));
            Rc::new(move || {
                bb(lsq::lsq_grad(bb(&w), bb(&x), bb(&y)));
            })
        }),
        (
            "logreg 2000 × 200",
            Rc::new(move || {
                bb(logreg::logreg_grad(bb(&w), bb(&x), bb(&labels), 0.1));
            }),
        ),
        (
            "mf 200 × 150, rank 10",
            Rc::new(move || {
                bb(mf::mf_grad(bb(&m), bb(&u), bb(&v)));
            }),
        ),
        (
            "mlp 64-128-10",
            Rc::new(move || {
                bb(mlp::mlp_grad(bb(&w1), bb(&w2), bb(&xs), bb(&ys)));
            }),
        ),
    ];
    println!(
        "{} threads; nanoseconds per call, median of 31 batches of about 5 ms",
        matgrad::threads()
    );
    for (name, f) in cases {
        let (one, every) = one_and_every(f);
        println!(
            "{name:24} one thread {one:>9.0}   every core {every:>9.0}   ratio {:.2}",
            every / one
        );
    }
}
