//! The least time two threads take to hand work to each other on this machine: a caller
//! publishes a number, a worker spinning on it (never sleeping) answers with the same number,
//! and the caller, spinning too, sees the answer. No pool can hand off faster than this round
//! trip; it bounds what threads can give a gradient of a few microseconds.
//!
//! `cargo run --release -p matgrad-bench --example handoff`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

const ROUND_TRIPS: u64 = 200_000;

fn main() {
    let (asked, answered) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let worker = {
        let (asked, answered) = (Arc::clone(&asked), Arc::clone(&answered));
        std::thread::spawn(move || {
            let mut seen = 0;
            while seen < ROUND_TRIPS {
                let now = asked.load(Ordering::Acquire);
                if now == seen {
                    std::hint::spin_loop();
                } else {
                    seen = now;
                    answered.store(now, Ordering::Release);
                }
            }
        })
    };
    let mut nanos: Vec<u128> = (1..=ROUND_TRIPS)
        .map(|i| {
            let start = Instant::now();
            asked.store(i, Ordering::Release);
            while answered.load(Ordering::Acquire) != i {
                std::hint::spin_loop();
            }
            start.elapsed().as_nanos()
        })
        .collect();
    worker.join().expect("the worker thread");
    nanos.sort_unstable();
    let at = |q: usize| nanos[nanos.len() * q / 100];
    println!(
        "round trip between two spinning threads, {ROUND_TRIPS} times: median {} ns, 90th percentile {} ns, 99th {} ns",
        at(50),
        at(90),
        at(99)
    );
}
