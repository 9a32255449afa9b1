//! matgrad's worker threads (the `parallel` feature): the hand-off of a split's ranges.
//!
//! A gradient of a few microseconds can use a second core only if handing it work costs far
//! less than that. A worker that slept since its last range takes microseconds to wake (on the
//! 2-core virtual machine, handing two empty halves to a sleeping rayon pool took 16-20 µs),
//! while two threads that spin on a shared counter answer each other in about 0.1 µs
//! (`bench/examples/handoff.rs`). So a worker stays awake for [`AWAKE`] after its last range,
//! and only then sleeps: the calls of a training loop, one after the other, find it awake. It
//! spins for the first [`SPIN`] of that time and gives its core away at every look after: a
//! worker started from a caller held to one core (`taskset`, a pinned thread) is held to the
//! same core, where spinning took the caller's time. On one core, the workers spinning the
//! whole 100 µs, two threads took 1.30-1.74× one thread's time on maps of 2048 and 8192
//! `tanh`; 0.97-0.98× so (on two cores 0.54-0.62× both ways).
//!
//! One split is on offer at a time. A caller that finds another's split on offer (threads of
//! the user's own, each computing a gradient) does its ranges alone, as it would on one
//! thread (the caller claims ranges too: `crate::parallel::split`).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a worker spins after its last range.
const SPIN: Duration = Duration::from_micros(10);

/// How long a worker stays awake after its last range before it sleeps: after [`SPIN`], giving
/// its core away at every look (to the caller, should both be held to one core).
const AWAKE: Duration = Duration::from_micros(100);

/// How long a caller spins for the ranges running elsewhere before it gives its core away
/// between looks (then sleeps, see [`split`]).
const CALLER_SPIN: Duration = Duration::from_micros(5);

/// The least time a caller waits awake for the ranges running elsewhere.
const MIN_AWAKE: Duration = Duration::from_micros(20);

/// The work of one split, shared with the workers.
struct Split {
    next: AtomicUsize,
    done: AtomicUsize,
    /// How many more workers may join: a split into `parts` takes `parts − 1` of them.
    seats: AtomicUsize,
    panicked: AtomicBool,
    ranges: usize,
    extent: usize,
    /// Woken when the last range is done.
    caller: Thread,
    /// The caller's closure, its lifetime erased: dereferenced only after claiming a range,
    /// and the caller returns only once every claimed range is done.
    f: *const (dyn Fn(usize, usize) + Sync),
}

// SAFETY: `f` points to a `Sync` closure, called only while the caller waits for it (above).
unsafe impl Send for Split {}
unsafe impl Sync for Split {}

impl Split {
    /// Claims and runs ranges until none is left.
    fn work(&self) {
        loop {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.ranges {
                return;
            }
            let start = self.extent * k / self.ranges;
            let end = self.extent * (k + 1) / self.ranges;
            // SAFETY: range `k` is claimed and not done, so the caller is still waiting and
            // its closure alive.
            let f = unsafe { &*self.f };
            let outer = IN_SPLIT.with(|s| s.replace(true));
            if catch_unwind(AssertUnwindSafe(|| f(start, end - start))).is_err() {
                self.panicked.store(true, Ordering::Relaxed);
            }
            IN_SPLIT.with(|s| s.set(outer));
            if self.done.fetch_add(1, Ordering::AcqRel) + 1 == self.ranges {
                self.caller.unpark();
            }
        }
    }

    /// Takes a seat if one is left.
    fn join(&self) -> bool {
        self.seats
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| s.checked_sub(1))
            .is_ok()
    }
}

thread_local! {
    /// Whether this thread is running a range of a split: the work inside it (a block of a
    /// loop's iterations or of a loss's rows) is not split again.
    static IN_SPLIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[inline]
pub(crate) fn in_split() -> bool {
    IN_SPLIT.with(|s| s.get())
}

/// What the workers watch.
struct Board {
    /// Counts the splits offered: a worker that sees it change looks at [`Board::offered`].
    offers: AtomicUsize,
    offered: Mutex<Option<Arc<Split>>>,
    /// Workers asleep (or about to be): a caller wakes them when it offers a split.
    sleeping: AtomicUsize,
}

static BOARD: Board = Board {
    offers: AtomicUsize::new(0),
    offered: Mutex::new(None),
    sleeping: AtomicUsize::new(0),
};

impl Board {
    /// The slot of the split on offer. It is never locked while a range runs, so a panic
    /// cannot poison it.
    fn slot(&self) -> MutexGuard<'_, Option<Arc<Split>>> {
        self.offered.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The workers, [`crate::threads`]` − 1` of them when first used (the caller is the other).
fn workers() -> &'static [Thread] {
    static WORKERS: OnceLock<Vec<Thread>> = OnceLock::new();
    WORKERS.get_or_init(|| {
        (0..crate::threads().saturating_sub(1).max(1))
            .map(|i| {
                std::thread::Builder::new()
                    .name(format!("matgrad-{i}"))
                    .spawn(worker)
                    .expect("matgrad's worker threads")
                    .thread()
                    .clone()
            })
            .collect()
    })
}

/// A worker: joins each split offered, awake between them, asleep after [`AWAKE`] without one.
fn worker() {
    let mut seen = BOARD.offers.load(Ordering::Acquire);
    let mut idle = Instant::now();
    loop {
        let offers = BOARD.offers.load(Ordering::Acquire);
        if offers != seen {
            seen = offers;
            let split = BOARD.slot().clone();
            if let Some(split) = split.filter(|s| s.join()) {
                split.work();
            }
            idle = Instant::now();
            continue;
        }
        let idle_for = idle.elapsed();
        if idle_for < SPIN {
            std::hint::spin_loop();
        } else if idle_for < AWAKE {
            std::thread::yield_now();
        } else {
            // Counted asleep before the last look: a caller offering after that look sees the
            // count and wakes this thread (both orders sequentially consistent).
            BOARD.sleeping.fetch_add(1, Ordering::SeqCst);
            if BOARD.offers.load(Ordering::SeqCst) == seen {
                std::thread::park();
            }
            BOARD.sleeping.fetch_sub(1, Ordering::SeqCst);
            idle = Instant::now();
        }
    }
}

/// `f(start, len)` on `ranges` consecutive ranges covering `0..extent`, shared by the calling
/// thread and up to `parts − 1` workers; returns when every range is done, re-raising a panic
/// of any range.
pub(crate) fn split(extent: usize, parts: usize, ranges: usize, f: &(dyn Fn(usize, usize) + Sync)) {
    // SAFETY: only the lifetime changes; see `Split::f`.
    let f: &'static (dyn Fn(usize, usize) + Sync) = unsafe { std::mem::transmute(f) };
    let split = Arc::new(Split {
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        seats: AtomicUsize::new(parts.saturating_sub(1)),
        panicked: AtomicBool::new(false),
        ranges,
        extent,
        caller: std::thread::current(),
        f,
    });
    let workers = workers();
    let offered = {
        let mut slot = BOARD.slot();
        let free = slot.is_none();
        if free {
            *slot = Some(Arc::clone(&split));
        }
        free
    };
    if offered {
        BOARD.offers.fetch_add(1, Ordering::SeqCst);
        if BOARD.sleeping.load(Ordering::SeqCst) > 0 {
            workers.iter().for_each(Thread::unpark);
        }
    }
    let start = Instant::now();
    split.work();
    if offered {
        *BOARD.slot() = None;
    }
    // The ranges still running elsewhere finish about when the caller's did, if their workers
    // started with it: the caller spins a little, then waits awake for as long again as its
    // own work took, giving its core away at every turn (a worker late for a busy core can
    // take it), then sleeps until the last range wakes it. (On the 2-core virtual machine a
    // sleeping caller woken by the last range took 17-30 µs more.)
    let awake = start.elapsed().max(MIN_AWAKE);
    let waiting = Instant::now();
    while split.done.load(Ordering::Acquire) < ranges {
        let waited = waiting.elapsed();
        if waited < CALLER_SPIN {
            std::hint::spin_loop();
        } else if waited < awake {
            std::thread::yield_now();
        } else {
            std::thread::park();
        }
    }
    if split.panicked.load(Ordering::Relaxed) {
        resume_unwind(Box::new("matgrad: work split across threads panicked"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// Every index of `0..extent` is visited once, whoever runs its range.
    fn visits(extent: usize, parts: usize, ranges: usize) -> Vec<u64> {
        let seen: Vec<AtomicU64> = (0..extent).map(|_| AtomicU64::new(0)).collect();
        split(extent, parts, ranges, &|start, len| {
            for s in &seen[start..start + len] {
                s.fetch_add(1, Ordering::Relaxed);
            }
        });
        seen.into_iter().map(AtomicU64::into_inner).collect()
    }

    #[test]
    fn every_index_is_visited_once() {
        for (extent, parts, ranges) in [(1, 2, 1), (10, 2, 8), (1000, 3, 12), (7, 8, 7)] {
            assert!(visits(extent, parts, ranges).iter().all(|&n| n == 1));
        }
    }

    #[test]
    fn callers_on_several_threads_each_get_their_work_done() {
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    for i in 0..200 {
                        let extent = 50 + 17 * t + i % 13;
                        assert!(visits(extent, 2, 8).iter().all(|&n| n == 1));
                    }
                });
            }
        });
    }

    #[test]
    fn a_panicking_range_panics_the_caller_and_the_pool_goes_on() {
        let caught = catch_unwind(|| {
            split(100, 2, 8, &|start, _| {
                if start >= 50 {
                    panic!("a range's own panic");
                }
            })
        });
        assert!(caught.is_err());
        assert!(visits(100, 2, 8).iter().all(|&n| n == 1));
    }
}
