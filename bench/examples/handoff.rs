//! What handing work to another thread costs on this machine:
//!
//! 1. two threads that spin: a caller publishes a number, a worker spinning on it (never
//!    sleeping) answers with the same number, and the caller, spinning too, sees the answer. No
//!    pool can hand off faster than this round trip; it bounds what threads can give a gradient
//!    of a few microseconds;
//! 2. a thread asleep (parked) for 2 ms, woken (unparked): how long until it runs. A pool whose
//!    workers sleep when idle pays this at the first split after a pause;
//! 3. with `--features parallel`, matgrad's own split (`__private::sum_blocks`) of two empty
//!    blocks, called back to back (its workers awake), and the time from the caller's block to
//!    the worker's after a 2 ms pause (its worker asleep).
//!
//! `cargo run --release -p matgrad-bench [--features parallel] --example handoff`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUND_TRIPS: u64 = 200_000;
const PAUSE: Duration = Duration::from_millis(2);
const WAKES: usize = 101;

fn main() {
    report(
        "round trip between two spinning threads",
        spinning_round_trips(),
    );
    report("a thread asleep for 2 ms, from unpark to running", wakes());
    #[cfg(feature = "parallel")]
    {
        report(
            "matgrad's split of two empty blocks, back to back",
            empty_splits(),
        );
        report(
            "matgrad's split after 2 ms, from the caller's block to the worker's",
            split_wakes(),
        );
    }
}

fn report(what: &str, mut nanos: Vec<u128>) {
    nanos.sort_unstable();
    let at = |q: usize| nanos[(nanos.len() - 1) * q / 100];
    println!(
        "{what}, {} times: median {} ns, 10th percentile {} ns, 90th {} ns",
        nanos.len(),
        at(50),
        at(10),
        at(90)
    );
}

fn spinning_round_trips() -> Vec<u128> {
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
    let nanos = (1..=ROUND_TRIPS)
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
    nanos
}

/// Nanoseconds since `t0`, never 0 (0 means "not yet").
fn since(t0: Instant) -> u64 {
    t0.elapsed().as_nanos() as u64 + 1
}

fn wakes() -> Vec<u128> {
    let t0 = Instant::now();
    let (asked, ran) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let sleeper = {
        let (asked, ran) = (Arc::clone(&asked), Arc::clone(&ran));
        std::thread::spawn(move || {
            for i in 1..=WAKES as u64 {
                // `park` may return early: the caller's number says when it was woken.
                while asked.load(Ordering::Acquire) < i {
                    std::thread::park();
                }
                ran.store(since(t0), Ordering::Release);
            }
        })
    };
    let nanos = (1..=WAKES as u64)
        .map(|i| {
            std::thread::sleep(PAUSE);
            ran.store(0, Ordering::Relaxed);
            let woken = since(t0);
            asked.store(i, Ordering::Release);
            sleeper.thread().unpark();
            loop {
                let at = ran.load(Ordering::Acquire);
                if at != 0 {
                    return u128::from(at.saturating_sub(woken));
                }
                std::hint::spin_loop();
            }
        })
        .collect();
    sleeper.join().expect("the sleeping thread");
    nanos
}

#[cfg(feature = "parallel")]
fn empty_splits() -> Vec<u128> {
    use matgrad::__private::sum_blocks;
    // A work estimate far above any threshold: the split always happens.
    let split = || sum_blocks(0..2, 1 << 30, |rows| rows.len() as f64);
    for _ in 0..1000 {
        std::hint::black_box(split());
    }
    (0..ROUND_TRIPS / 10)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(split());
            start.elapsed().as_nanos()
        })
        .collect()
}

#[cfg(feature = "parallel")]
fn split_wakes() -> Vec<u128> {
    use matgrad::__private::sum_blocks;
    let t0 = Instant::now();
    let caller = std::thread::current().id();
    (0..WAKES)
        .filter_map(|_| {
            std::thread::sleep(PAUSE);
            let (mine, theirs) = (AtomicU64::new(0), AtomicU64::new(0));
            sum_blocks(0..2, 1 << 30, |rows| {
                if std::thread::current().id() == caller {
                    mine.store(since(t0), Ordering::Release);
                    // Wait (up to 2 ms) for the other block to start elsewhere.
                    let waiting = Instant::now();
                    while theirs.load(Ordering::Acquire) == 0 && waiting.elapsed() < PAUSE {
                        std::hint::spin_loop();
                    }
                } else {
                    theirs.store(since(t0), Ordering::Release);
                }
                rows.len() as f64
            });
            let (mine, theirs) = (mine.into_inner(), theirs.into_inner());
            // Both blocks on the caller: the worker did not start within 2 ms (the first
            // call, which starts the workers).
            (theirs != 0).then(|| u128::from(theirs.saturating_sub(mine)))
        })
        .collect()
}
