//! Why matgrad does not split the one-sample mlp 64-128-10 across threads: its gradient split by
//! hand along blocks of hidden units, timed beside the expert gradient and matgrad's (one
//! thread, nothing split), as the table times them, with the thread count the process starts
//! with (by default one per core).
//!
//! The split runs the network in two parallel steps: each block of hidden units forms its rows
//! of `h = tanh.(W₁x)` and its share of `W₂h` (summed across the blocks); then, with
//! `s = 2(W₂h − y)`, each block forms its rows of `δ = (W₂ᵀs) ∘ (1 − h∘h)` and of `∇W₁ = δxᵀ`;
//! `∇W₂ = s hᵀ` last. Two hand-offs per call for about 4 µs of work.
//!
//! It is timed two ways:
//! - through matgrad's own split (`__private::sum_blocks`), as generated code would run it;
//! - through the fastest hand-off this example knows, a bound on what any pool could do: one
//!   thread of its own that never sleeps, spinning on a number the caller bumps. The two halves
//!   swap their `h` and their shares of `W₂h` (no third hand-off), both form `s` and all of
//!   `δ`, and each writes a contiguous half of `∇W₁`'s columns (split by rows, as above, the
//!   cores fetch each other's neighbouring cache lines, and the call was slower than the
//!   expert's) and its units' columns of `∇W₂` in place, into matrices nobody zeroes; nothing
//!   else is allocated.
//!
//! `cargo run --release -p matgrad-bench --features parallel --example mlp_split`

use std::cell::{Cell, RefCell, UnsafeCell};
use std::hint::black_box as bb;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use matgrad::__private::{mul, mul_tr, sum_blocks, tr_mul, RowsOut};
use matgrad::nalgebra::{DMatrix, DVector, DVectorView, DVectorViewMut, Dyn};
use matgrad_bench::harness::{time_case, Case, Impl, Timing};
use matgrad_bench::{data, mlp};

/// The mlp's value and gradient, the hidden units split in blocks across threads.
fn mlp_split(
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    x: &DVector<f64>,
    y: &DVector<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let hidden = w1.nrows();
    // A work per unit far above the threshold: always split.
    let always = 1 << 30;
    let h_out = RowsOut::new(hidden, Dyn(1));
    let w2h: DVector<f64> = sum_blocks(0..hidden, always, |units| {
        let h = mul(&w1.rows_range(units.clone()), x).map(f64::tanh);
        h_out.put(units.clone(), &h);
        mul(&w2.columns_range(units), &h)
    });
    let h = h_out.into_matrix().column(0).clone_owned();
    let r = w2h - y;
    let s = &r * 2.0;
    let w1_out = RowsOut::new(hidden, Dyn(w1.ncols()));
    let _: f64 = sum_blocks(0..hidden, always, |units| {
        let h = h.rows_range(units.clone());
        let delta =
            tr_mul(&w2.columns_range(units.clone()), &s).zip_map(&h, |g, v| g * (1.0 - v * v));
        w1_out.put(units, &mul_tr(&delta, x));
        0.0
    });
    (r.norm_squared(), w1_out.into_matrix(), mul_tr(&s, &h))
}

/// The most outputs (`o`) and hidden units (`h`) the dedicated split's exchange holds.
const MAX_OUT: usize = 16;
const MAX_HIDDEN: usize = 256;

/// The number of the last call to reach a point, on a cache line of its own.
#[repr(align(128))]
struct Flag(AtomicU64);

impl Flag {
    const fn new() -> Flag {
        Flag(AtomicU64::new(0))
    }

    fn raise(&self, call: u64) {
        self.0.store(call, Ordering::Release);
    }

    fn wait(&self, call: u64) {
        while self.0.load(Ordering::Acquire) != call {
            std::hint::spin_loop();
        }
    }
}

/// One call's inputs and outputs, written by the caller before it raises `started`.
#[derive(Clone, Copy)]
struct Call {
    w1: *const DMatrix<f64>,
    w2: *const DMatrix<f64>,
    x: *const DVector<f64>,
    y: *const DVector<f64>,
    /// `∇W₁` (`h × d`) and `∇W₂` (`o × h`), column-major, not yet initialised.
    g1: *mut f64,
    g2: *mut f64,
}

/// Which half of the work a thread does: the caller the first, the worker the second.
#[derive(Clone, Copy)]
enum Side {
    Caller,
    Worker,
}

impl Side {
    /// This side's half of `0..n`.
    fn half(self, n: usize) -> Range<usize> {
        match self {
            Side::Caller => 0..n / 2,
            Side::Worker => n / 2..n,
        }
    }
}

/// A cell on cache lines of its own.
#[repr(align(128))]
struct Padded<T>(UnsafeCell<T>);

/// What the caller and its dedicated worker share.
struct Exchange {
    started: Flag,
    /// Raised by each side when its units' `h` and share of `W₂h` are written.
    shared: [Flag; 2],
    done: Flag,
    call: Padded<Call>,
    /// Each side's share of `W₂h`.
    shares: [Padded<[f64; MAX_OUT]>; 2],
    /// `h`, each side writing its units.
    h: Padded<[f64; MAX_HIDDEN]>,
}

// SAFETY: each cell (or each side's range of `h`) is written by one side before it raises a
// flag and read by the other only after it saw that flag; the pointers in `call` are
// dereferenced only between `started` and `done`, while the caller waits for `done` with the
// matrices borrowed.
unsafe impl Sync for Exchange {}

impl Exchange {
    /// One side's half of a call: the first step, the exchange, the second step; returns the
    /// value.
    ///
    /// First, the side's hidden units: their `h` and their share `W₂[:, units] h` of `W₂h`.
    /// Then, from both shares, `s = 2(W₂h − y)` (each side forms it), all of
    /// `δ = (W₂ᵀs) ∘ (1 − h∘h)`, the side's columns of `∇W₁ = δxᵀ` (a contiguous half of the
    /// matrix, so the two never write to neighbouring cache lines) and its units' columns of
    /// `∇W₂ = s hᵀ`.
    fn run(&self, side: Side, call_no: u64, scratch: &mut Scratch) -> f64 {
        // SAFETY: written before `started` was raised and not again before `done`; the
        // matrices it points to stay borrowed until `done`.
        let call = unsafe { *self.call.0.get() };
        let (w1, w2, x, y) = unsafe { (&*call.w1, &*call.w2, &*call.x, &*call.y) };
        let (hidden, d, o) = (w1.nrows(), w1.ncols(), w2.nrows());
        let (me, other) = (side as usize, 1 - side as usize);
        let units = side.half(hidden);
        let h_all = self.h.0.get().cast::<f64>();
        // Formed in the side's own scratch and copied out once: `gemv` passes over its output
        // once per column of `W₁`, and the two cores writing neighbouring lines of one array
        // that often made the call slower.
        let n = units.len();
        let mut mine = DVectorViewMut::from_slice(&mut scratch.h[..n], n);
        mine.gemv(1.0, &w1.rows_range(units.clone()), x, 0.0);
        mine.apply(|v| *v = v.tanh());
        // SAFETY: each side writes its own units of `h` and its own share.
        let (h_mine, share) = unsafe {
            (
                std::slice::from_raw_parts_mut(h_all.add(units.start), n),
                &mut *self.shares[me].0.get(),
            )
        };
        DVectorViewMut::from_slice(&mut share[..o], o).gemv(
            1.0,
            &w2.columns_range(units.clone()),
            &mine,
            0.0,
        );
        h_mine.copy_from_slice(&scratch.h[..n]);
        self.shared[me].raise(call_no);
        self.shared[other].wait(call_no);
        // SAFETY: both sides have written theirs (both flags seen); nothing writes them again
        // before `done`.
        let (h, shares) = unsafe {
            (
                std::slice::from_raw_parts(h_all, hidden),
                [&*self.shares[0].0.get(), &*self.shares[1].0.get()],
            )
        };
        let mut s = [0.0; MAX_OUT];
        let mut value = 0.0;
        for (i, y) in y.iter().enumerate() {
            let r = shares[0][i] + shares[1][i] - y;
            value += r * r;
            s[i] = 2.0 * r;
        }
        let s = &s[..o];
        let delta = &mut scratch.delta[..hidden];
        DVectorViewMut::from_slice(delta, hidden).gemv_tr(
            1.0,
            w2,
            &DVectorView::from_slice(s, o),
            0.0,
        );
        for (d, h) in delta.iter_mut().zip(h) {
            *d *= 1.0 - h * h;
        }
        // SAFETY: this side's columns of `∇W₁` and its units' columns of `∇W₂`, each entry
        // written once, by this side alone.
        for c in side.half(d) {
            let column = unsafe { uninit_slice(call.g1.add(c * hidden), hidden) };
            let xc = x[c];
            for (g, dk) in column.iter_mut().zip(delta.iter()) {
                g.write(dk * xc);
            }
        }
        for k in units {
            let column = unsafe { uninit_slice(call.g2.add(k * o), o) };
            let hk = h[k];
            for (g, si) in column.iter_mut().zip(s) {
                g.write(si * hk);
            }
        }
        value
    }
}

/// `len` entries from `start`, not yet initialised, to be written.
///
/// # Safety
/// They lie in one allocation, and nothing else reads or writes them while the slice lives.
unsafe fn uninit_slice<'a>(start: *mut f64, len: usize) -> &'a mut [MaybeUninit<f64>] {
    unsafe { std::slice::from_raw_parts_mut(start.cast(), len) }
}

/// One side's `h` of its units and all of `δ`.
struct Scratch {
    h: Vec<f64>,
    delta: Vec<f64>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            h: vec![0.0; MAX_HIDDEN],
            delta: vec![0.0; MAX_HIDDEN],
        }
    }
}

/// The mlp's value and gradient split by hidden units between the caller and a thread of its
/// own that never sleeps.
struct Dedicated {
    exchange: &'static Exchange,
    calls: Cell<u64>,
    scratch: RefCell<Scratch>,
}

impl Dedicated {
    fn start() -> Dedicated {
        let exchange: &'static Exchange = Box::leak(Box::new(Exchange {
            started: Flag::new(),
            shared: [Flag::new(), Flag::new()],
            done: Flag::new(),
            call: Padded(UnsafeCell::new(Call {
                w1: std::ptr::null(),
                w2: std::ptr::null(),
                x: std::ptr::null(),
                y: std::ptr::null(),
                g1: std::ptr::null_mut(),
                g2: std::ptr::null_mut(),
            })),
            shares: [
                Padded(UnsafeCell::new([0.0; MAX_OUT])),
                Padded(UnsafeCell::new([0.0; MAX_OUT])),
            ],
            h: Padded(UnsafeCell::new([0.0; MAX_HIDDEN])),
        }));
        std::thread::spawn(move || {
            let mut scratch = Scratch::new();
            let mut seen = 0;
            loop {
                let call_no = exchange.started.0.load(Ordering::Acquire);
                if call_no == seen {
                    std::hint::spin_loop();
                    continue;
                }
                seen = call_no;
                exchange.run(Side::Worker, call_no, &mut scratch);
                exchange.done.raise(call_no);
            }
        });
        Dedicated {
            exchange,
            calls: Cell::new(0),
            scratch: RefCell::new(Scratch::new()),
        }
    }

    fn grad(
        &self,
        w1: &DMatrix<f64>,
        w2: &DMatrix<f64>,
        x: &DVector<f64>,
        y: &DVector<f64>,
    ) -> (f64, DMatrix<f64>, DMatrix<f64>) {
        let (hidden, d, o) = (w1.nrows(), w1.ncols(), w2.nrows());
        assert!(o <= MAX_OUT && hidden <= MAX_HIDDEN);
        let mut g1: Vec<f64> = Vec::with_capacity(hidden * d);
        let mut g2: Vec<f64> = Vec::with_capacity(o * hidden);
        let call_no = self.calls.get() + 1;
        self.calls.set(call_no);
        let ex = self.exchange;
        // SAFETY: the worker reads `call` only after `started`, and is done with the last.
        unsafe {
            *ex.call.0.get() = Call {
                w1,
                w2,
                x,
                y,
                g1: g1.as_mut_ptr(),
                g2: g2.as_mut_ptr(),
            }
        };
        ex.started.raise(call_no);
        let value = ex.run(Side::Caller, call_no, &mut self.scratch.borrow_mut());
        ex.done.wait(call_no);
        // SAFETY: every entry was written, by one side or the other.
        unsafe {
            g1.set_len(hidden * d);
            g2.set_len(o * hidden);
        }
        (
            value,
            DMatrix::from_vec(hidden, d, g1),
            DMatrix::from_vec(o, hidden, g2),
        )
    }
}

fn main() {
    let (d, h, o) = (64, 128, 10);
    let w1 = data::dmatrix(h, d, 1.0 / (d as f64).sqrt(), 65);
    let w2 = data::dmatrix(o, h, 1.0 / (h as f64).sqrt(), 66);
    let x = data::dvector(d, 1.0, 67);
    let y = data::dvector(o, 1.0, 68);
    let dedicated = Dedicated::start();
    let expert = mlp::mlp_hand(&w1, &w2, &x, &y);
    for (name, split) in [
        ("matgrad's split", mlp_split(&w1, &w2, &x, &y)),
        ("the dedicated split", dedicated.grad(&w1, &w2, &x, &y)),
    ] {
        let error = (&expert.1 - &split.1).norm() + (&expert.2 - &split.2).norm();
        assert!(
            (expert.0 - split.0).abs() < 1e-12 && error < 1e-12,
            "{name} agrees with the expert"
        );
    }
    let inputs = || (w1.clone(), w2.clone(), x.clone(), y.clone());
    // The table's slots name the entries: `HandLoop` is the dedicated split, `Value` matgrad's.
    let case = Case::new("mlp", "d=64 h=128 o=10")
        .with(Impl::Hand, {
            let (w1, w2, x, y) = inputs();
            move || mlp::mlp_hand(bb(&w1), bb(&w2), bb(&x), bb(&y))
        })
        .with(Impl::Matgrad, {
            let (w1, w2, x, y) = inputs();
            move || mlp::mlp_grad(bb(&w1), bb(&w2), bb(&x), bb(&y))
        })
        .with(Impl::Value, {
            let (w1, w2, x, y) = inputs();
            move || mlp_split(bb(&w1), bb(&w2), bb(&x), bb(&y))
        })
        .with(Impl::HandLoop, move || {
            dedicated.grad(bb(&w1), bb(&w2), bb(&x), bb(&y))
        });
    let ns = time_case(&case, &Timing::default());
    println!(
        "mlp 64-128-10, matgrad on {} threads: expert {:.0} ns; matgrad {:.0} ns ({:.2}×); \
         split by hidden units through matgrad's split {:.0} ns ({:.2}×), \
         through a dedicated spinning thread {:.0} ns ({:.2}×)",
        matgrad::threads(),
        ns[0],
        ns[1],
        ns[1] / ns[0],
        ns[2],
        ns[2] / ns[0],
        ns[3],
        ns[3] / ns[0]
    );
}
