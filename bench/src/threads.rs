//! The two halves of the table built with the `parallel` feature, timed in one process: every
//! entry of a case on one thread (`matgrad::set_threads(1)`), and again with the thread count
//! the process started with, for matgrad on every core.
//!
//! The two take turns, round by round: in each round, one batch of every entry on one thread,
//! then one batch of every entry on every core, so a slow drift of a shared machine hits both
//! alike, and both run the same work between two batches of matgrad, which decides what the
//! caches hold and where new matrices are allocated. A row that splits nothing runs the same
//! instructions in both halves, so its ratio shows the method's noise: 0.99–1.02× over the
//! table's 28 rows with both halves on one thread (`MATGRAD_THREADS=1 … table`). Timed in two
//! processes instead (a copy of the table started on one thread, as the table did before),
//! that noise read 0.91–1.07×: the same code in another address space.

#[cfg(doc)]
use crate::harness::time_case;
use crate::harness::{Case, Timer, Timing};

/// Times every entry of `case` on one thread and on `every` threads, round by round in turn
/// (each warmed up and calibrated first, as [`time_case`] does); returns the median nanoseconds
/// per call of each entry on one thread, then on `every` threads. Leaves matgrad on `every`
/// threads.
pub fn one_and_every(case: &Case, timing: &Timing, every: usize) -> (Vec<f64>, Vec<f64>) {
    let entries = || case.entries.iter().collect();
    matgrad::set_threads(1);
    let mut one = Timer::new(entries(), timing);
    matgrad::set_threads(every);
    let mut all = Timer::new(entries(), timing);
    for round in 0..one.rounds().max(all.rounds()) {
        on_core_of(round);
        matgrad::set_threads(1);
        one.round(round);
        matgrad::set_threads(every);
        all.round(round);
    }
    (one.medians(), all.medians())
}

/// Starts matgrad's workers now, on every core the process may use: a thread keeps the cores
/// of the thread that starts it, and the workers start at the first split, which must not come
/// after [`one_and_every`] has held the timing thread to one core.
pub fn start_workers() {
    let a = matgrad::nalgebra::DMatrix::<f64>::zeros(256, 256);
    std::hint::black_box(matgrad::__private::mul(&a, &a));
}

/// Moves the calling thread to one of the cores this process may use, the next one each round.
///
/// On a virtual machine the cores need not be equally fast, and the scheduler keeps a busy
/// thread on the core it runs on: on the 2-core machine of the README, two processes timing
/// the same code on one thread each disagreed by 1.2–1.4× when left to the scheduler, and by
/// at most 5% when both were held to the same core. Visiting every core in turn, round by
/// round, gives each half the same mix of cores. (Only on Linux; elsewhere the scheduler
/// decides.)
fn on_core_of(round: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: `cpu_set_t` is plain data, zeros are an empty set, and both calls are given its
    // size and a pointer to it.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(0, size, &mut allowed) != 0 {
            return;
        }
        // The cores allowed when the process started (`taskset` is respected): pinning narrows
        // the thread's own set, so the first call records the process's.
        let cores = ALLOWED.get_or_init(|| {
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &allowed))
                .collect()
        });
        if cores.is_empty() {
            return;
        }
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cores[round % cores.len()], &mut one);
        libc::sched_setaffinity(0, size, &one);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = round;
}

/// The cores the process could use before [`on_core_of`] first pinned it.
#[cfg(target_os = "linux")]
static ALLOWED: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
