//! Cases, implementations, the correctness check and the timer.

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use matgrad::nalgebra::{Dim, Matrix, RawStorage};

/// The implementations compared in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// The plain loss, value only (the denominator of matgrad's gradient/value ratio).
    Value,
    /// The hand-written closed-form gradient (the reference of every check and ratio).
    Hand,
    /// For a loss written as loops: the best hand-written gradient of the loops as written
    /// (the same loops and indexing, the derivative added in the same pass).
    HandLoop,
    /// `#[grad]`.
    Matgrad,
    /// num-dual forward mode.
    NumDual,
    /// ad_trait reverse mode.
    AdTrait,
    /// Central finite differences.
    FiniteDiff,
}

impl Impl {
    pub const ALL: [Impl; 7] = [
        Impl::Value,
        Impl::Hand,
        Impl::HandLoop,
        Impl::Matgrad,
        Impl::NumDual,
        Impl::AdTrait,
        Impl::FiniteDiff,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Impl::Value => "value",
            Impl::Hand => "hand",
            Impl::HandLoop => "hand, as written",
            Impl::Matgrad => "matgrad",
            Impl::NumDual => "num-dual",
            Impl::AdTrait => "ad_trait",
            Impl::FiniteDiff => "fd",
        }
    }

    /// Whether this build has the implementation: the peer AD crates need the `peers` feature.
    pub fn is_built(self) -> bool {
        !matches!(self, Impl::NumDual | Impl::AdTrait) || cfg!(feature = "peers")
    }

    /// Largest relative error allowed against the hand-written gradient.
    pub fn tolerance(self) -> f64 {
        match self {
            Impl::FiniteDiff => 1e-5,
            _ => 1e-6,
        }
    }
}

/// Which sizes to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizes {
    /// The smallest size of each case (the quick correctness tests).
    Smallest,
    /// Every size of the benchmark's table.
    All,
}

/// Anything that flattens to numbers in column-major order: the gradients.
pub trait Flat {
    fn push_to(&self, out: &mut Vec<f64>);
}

impl<R: Dim, C: Dim, S: RawStorage<f64, R, C>> Flat for Matrix<f64, R, C, S> {
    fn push_to(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().copied());
    }
}

/// What a gradient function returns: `(value, ∇a)`, `(value, ∇a, ∇b)` or `(value, ∇a, ∇b, ∇c)`,
/// or a bare value.
pub trait GradOutput {
    fn flatten(self) -> (f64, Vec<f64>);
}

impl GradOutput for f64 {
    fn flatten(self) -> (f64, Vec<f64>) {
        (self, Vec::new())
    }
}

impl<A: Flat> GradOutput for (f64, A) {
    fn flatten(self) -> (f64, Vec<f64>) {
        let mut g = Vec::new();
        self.1.push_to(&mut g);
        (self.0, g)
    }
}

impl<A: Flat, B: Flat> GradOutput for (f64, A, B) {
    fn flatten(self) -> (f64, Vec<f64>) {
        let mut g = Vec::new();
        self.1.push_to(&mut g);
        self.2.push_to(&mut g);
        (self.0, g)
    }
}

impl<A: Flat, B: Flat, C: Flat> GradOutput for (f64, A, B, C) {
    fn flatten(self) -> (f64, Vec<f64>) {
        let mut g = Vec::new();
        self.1.push_to(&mut g);
        self.2.push_to(&mut g);
        self.3.push_to(&mut g);
        (self.0, g)
    }
}

type EvalFn = Box<dyn Fn() -> (f64, Vec<f64>)>;
type RunFn = Box<dyn Fn(u64) -> Duration>;

/// One implementation of one case at one size.
pub struct Entry {
    pub imp: Impl,
    eval: EvalFn,
    run: RunFn,
}

impl Entry {
    /// Wraps `f`, a call of the implementation on captured inputs. Write the inputs through
    /// [`black_box`] inside `f` so that nothing is hoisted out of the timing loop.
    pub fn new<F, R>(imp: Impl, f: F) -> Entry
    where
        F: Fn() -> R + 'static,
        R: GradOutput,
    {
        let f = Rc::new(f);
        let g = Rc::clone(&f);
        Entry {
            imp,
            eval: Box::new(move || f().flatten()),
            run: Box::new(move |iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(g());
                }
                start.elapsed()
            }),
        }
    }

    /// The value and the flattened gradient (column-major, parameters in order).
    pub fn eval(&self) -> (f64, Vec<f64>) {
        (self.eval)()
    }

    /// Runs the implementation `iters` times and returns the elapsed time.
    pub fn run(&self, iters: u64) -> Duration {
        (self.run)(iters)
    }
}

/// One case at one size, with its implementations.
pub struct Case {
    pub case: &'static str,
    pub size: String,
    pub entries: Vec<Entry>,
    /// Implementations left out at this size, with the reason (shown in the table).
    pub skipped: Vec<(Impl, &'static str)>,
}

impl Case {
    pub fn new(case: &'static str, size: impl Into<String>) -> Case {
        Case {
            case,
            size: size.into(),
            entries: Vec::new(),
            skipped: Vec::new(),
        }
    }

    pub fn with<F, R>(mut self, imp: Impl, f: F) -> Case
    where
        F: Fn() -> R + 'static,
        R: GradOutput,
    {
        self.entries.push(Entry::new(imp, f));
        self
    }

    pub fn skip(mut self, imp: Impl, why: &'static str) -> Case {
        self.skipped.push((imp, why));
        self
    }

    pub fn entry(&self, imp: Impl) -> Option<&Entry> {
        self.entries.iter().find(|e| e.imp == imp)
    }

    /// Checks every implementation against the hand-written one: the value and the gradient
    /// each within the implementation's relative tolerance (the gradient in the 2-norm).
    pub fn check(&self) -> Result<(), String> {
        let hand = self
            .entry(Impl::Hand)
            .ok_or_else(|| format!("{} {}: no hand-written gradient", self.case, self.size))?;
        let (v0, g0) = hand.eval();
        if !v0.is_finite() || g0.iter().any(|g| !g.is_finite()) {
            return Err(format!(
                "{} {}: hand-written result not finite",
                self.case, self.size
            ));
        }
        let g0_norm = norm(&g0);
        let mut problems = Vec::new();
        for e in &self.entries {
            if e.imp == Impl::Hand {
                continue;
            }
            let (v, g) = e.eval();
            let tol = e.imp.tolerance();
            let value_err = (v - v0).abs() / v0.abs().max(f64::MIN_POSITIVE);
            if value_err.is_nan() || value_err > tol {
                problems.push(format!(
                    "{}: value {v} vs hand {v0} (relative error {value_err:.2e} > {tol:.0e})",
                    e.imp.name()
                ));
            }
            if e.imp == Impl::Value {
                continue;
            }
            if g.len() != g0.len() {
                problems.push(format!(
                    "{}: gradient has {} entries, hand-written {}",
                    e.imp.name(),
                    g.len(),
                    g0.len()
                ));
                continue;
            }
            let diff: Vec<f64> = g.iter().zip(&g0).map(|(a, b)| a - b).collect();
            let grad_err = norm(&diff) / g0_norm.max(f64::MIN_POSITIVE);
            if grad_err.is_nan() || grad_err > tol {
                problems.push(format!(
                    "{}: gradient relative error {grad_err:.2e} > {tol:.0e}",
                    e.imp.name()
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} {}: {}",
                self.case,
                self.size,
                problems.join("; ")
            ))
        }
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Warm-up time per implementation.
    pub warm_up: Duration,
    /// Target length of one batch (a batch runs at least one call).
    pub batch: Duration,
    /// Number of batches per implementation; the median batch is reported.
    pub batches: usize,
    /// An implementation whose batches would take longer than this in all gets fewer batches
    /// (at least [`MIN_BATCHES`]): the slow AD runs at the large sizes.
    pub budget: Duration,
}

/// The fewest batches an implementation gets.
pub const MIN_BATCHES: usize = 5;

impl Default for Timing {
    /// Short batches, many of them: on a shared machine a batch that another process
    /// interrupts is an outlier, and the median of many short batches ignores it.
    fn default() -> Self {
        Timing {
            warm_up: Duration::from_millis(50),
            batch: Duration::from_millis(1),
            batches: 101,
            budget: Duration::from_secs(2),
        }
    }
}

/// Times every entry of `case`: warm-up and calibration per entry, then rounds in which each
/// entry runs one batch in turn (so slow drifts of the machine hit every implementation alike).
/// Returns the median nanoseconds per call of each entry, in order.
pub fn time_case(case: &Case, timing: &Timing) -> Vec<f64> {
    let mut timer = Timer::new(case.entries.iter().collect(), timing);
    for round in 0..timer.rounds() {
        timer.round(round);
    }
    timer.medians()
}

/// [`time_case`] in steps, so that rounds of another timer can run between its rounds (the
/// same entries on another number of threads, [`crate::threads`]).
pub struct Timer<'a> {
    entries: Vec<&'a Entry>,
    /// Per entry: calls per batch, number of batches.
    plans: Vec<(u64, usize)>,
    /// Per entry: nanoseconds per call in each batch so far.
    samples: Vec<Vec<f64>>,
}

impl<'a> Timer<'a> {
    /// Warms up and calibrates each of `entries`.
    pub fn new(entries: Vec<&'a Entry>, timing: &Timing) -> Timer<'a> {
        let plans = entries
            .iter()
            .map(|e| {
                let (iters, per_call) = calibrate(e, timing);
                let batch = per_call * iters as f64;
                let affordable = (timing.budget.as_nanos() as f64 / batch) as usize;
                (
                    iters,
                    affordable.clamp(MIN_BATCHES, timing.batches.max(MIN_BATCHES)),
                )
            })
            .collect();
        let samples = vec![Vec::with_capacity(timing.batches); entries.len()];
        Timer {
            entries,
            plans,
            samples,
        }
    }

    /// The number of rounds: the most batches of an entry.
    pub fn rounds(&self) -> usize {
        self.plans.iter().map(|p| p.1).max().unwrap_or(0)
    }

    /// Round `round`: one batch of each entry that has that many batches, in order (none at or
    /// after [`Timer::rounds`]).
    pub fn round(&mut self, round: usize) {
        for ((e, &(n, count)), s) in self.entries.iter().zip(&self.plans).zip(&mut self.samples) {
            if round < count {
                // Half a batch of untimed calls first (at least one), so that every batch
                // starts warm: caches filled by another implementation and threads asleep
                // while the other half ran its batch are not timed. On the 2-core virtual
                // machine a 2000 × 200 `gemv` right after a 3 ms pause took 3× its time in a
                // run of calls, and a worker asleep for 2 ms started its block 16–260 µs
                // after the caller's (`examples/handoff.rs`, minutes apart), so one call of
                // a few microseconds left the next ones on one thread.
                e.run(n.div_ceil(2));
                let t = e.run(n);
                s.push(t.as_nanos() as f64 / n as f64);
            }
        }
    }

    /// The median nanoseconds per call of each entry, in order.
    pub fn medians(self) -> Vec<f64> {
        self.samples.into_iter().map(median).collect()
    }
}

/// Warms `e` up for `timing.warm_up`; returns the number of calls that fill one batch and the
/// estimated time per call in nanoseconds.
fn calibrate(e: &Entry, timing: &Timing) -> (u64, f64) {
    let start = Instant::now();
    let mut n = 1u64;
    let mut per_call;
    loop {
        let t = e.run(n);
        per_call = t.as_nanos() as f64 / n as f64;
        if start.elapsed() >= timing.warm_up {
            break;
        }
        if t < timing.batch / 4 {
            n *= 2;
        }
    }
    let per_call = per_call.max(1.0);
    let iters = ((timing.batch.as_nanos() as f64 / per_call) as u64).max(1);
    (iters, per_call)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
