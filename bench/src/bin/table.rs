//! Prints the benchmark table.
//!
//! ```text
//! cargo run --release -p matgrad-bench --features peers,parallel --bin table [-- [--quick] [--svg FILE] [CASE ...]]
//! ```
//!
//! Without the `peers` feature the num-dual and ad_trait columns are left out.
//!
//! Every implementation of every case is first checked against the hand-written gradient (the
//! run stops before timing anything if one is wrong); then each case is timed (warm-up, then
//! rounds of batches over its implementations in turn, median batch per implementation) and one
//! markdown table is printed: nanoseconds per call, the ratio to the hand-written gradient, and
//! matgrad's value+gradient / value-only ratio; then one line per target, met or not. With
//! `--svg FILE`, the times relative to the baseline are also drawn as a chart in `FILE`.
//!
//! With the `parallel` feature, every figure above is timed on one thread
//! (`matgrad::set_threads(1)`), and matgrad again with the thread count the process started
//! with (`MATGRAD_THREADS`, by default one thread per core), round by round in turn in this
//! process (see [`matgrad_bench::threads`]): the table gains the columns "matgrad, every core ÷
//! expert (1 thread)" and "matgrad, every core ÷ 1 thread", the goal lines of the `parallel`
//! feature, a line on matgrad's split of one large product (on every core ÷ on one thread), and
//! the chart a marker for matgrad on every core.

use std::hint::black_box as bb;
use std::time::Duration;

use matgrad_bench::chart::{self, Group};
use matgrad_bench::goals::{self, Row};
use matgrad_bench::harness::{time_case, Timing};
use matgrad_bench::threads;
use matgrad_bench::{all_cases, data, Case, Impl, Sizes};

/// The command line.
struct Args {
    timing: Timing,
    quick: bool,
    svg_path: Option<String>,
    only: Vec<String>,
}

fn args() -> Args {
    let mut a = Args {
        timing: Timing::default(),
        quick: false,
        svg_path: None,
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--svg" => match args.next() {
                Some(path) => a.svg_path = Some(path),
                None => exit("--svg needs a file name", 2),
            },
            "--quick" => {
                a.quick = true;
                a.timing = Timing {
                    warm_up: Duration::from_millis(10),
                    batch: Duration::from_millis(1),
                    batches: 11,
                    budget: Duration::from_millis(300),
                }
            }
            "-h" | "--help" => {
                println!("usage: table [--quick] [--svg FILE] [CASE ...]   (cases: lsq logreg quadform gauss_nll mf mlp logreg_loop huber_loop rnn softmax_ce gp_nlml)");
                std::process::exit(0);
            }
            name => a.only.push(name.to_string()),
        }
    }
    a
}

fn exit(message: &str, code: i32) -> ! {
    eprintln!("{message}");
    std::process::exit(code)
}

/// Checks every implementation of every case; exits if one disagrees. `on` says on how many
/// threads, for the messages (empty in a table without threads).
fn check(cases: &[Case], on: &str) {
    eprintln!(
        "checking {} case sizes against the hand-written gradients{on}…",
        cases.len()
    );
    let mut failed = false;
    for case in cases {
        if let Err(e) = case.check() {
            eprintln!("CHECK FAILED{on}: {e}");
            failed = true;
        }
    }
    if failed {
        exit(
            "not timing anything: an implementation disagrees with the hand-written gradient",
            1,
        );
    }
    eprintln!(
        "all implementations agree{on} (≤ 1e-6 relative, finite differences ≤ 1e-5); timing…"
    );
}

/// A large product as generated gradients compute it (`__private::mul`, split by blocks of
/// rows with the `parallel` feature), timed as a case of its own (value only, not checked)
/// to show what threads give on this machine at this moment.
fn large_product() -> Case {
    let (a, b) = (
        data::dmatrix(2000, 200, 1.0, 1),
        data::dmatrix(200, 200, 1.0, 2),
    );
    Case::new("gemm", "2000×200 · 200×200").with(Impl::Value, move || {
        matgrad::__private::mul(bb(&a), bb(&b))[0]
    })
}

fn main() {
    let args = args();
    let cases: Vec<_> = all_cases(Sizes::All)
        .into_iter()
        .filter(|c| args.only.is_empty() || args.only.iter().any(|o| o == c.case))
        .collect();
    if cases.is_empty() {
        exit(&format!("no case matches {:?}", args.only), 2);
    }
    let parallel = cfg!(feature = "parallel");
    let every = matgrad::threads();
    if parallel {
        check(&cases, &format!(" on every core ({every} threads)"));
        matgrad::set_threads(1);
        check(&cases, " on one thread");
        matgrad::set_threads(every);
        threads::start_workers();
    } else {
        check(&cases, "");
    }

    // The peer AD crates' columns only when they are built (feature `peers`).
    let shown: Vec<Impl> = [
        Impl::Hand,
        Impl::HandLoop,
        Impl::Matgrad,
        Impl::NumDual,
        Impl::AdTrait,
        Impl::FiniteDiff,
    ]
    .into_iter()
    .filter(|imp| imp.is_built())
    .collect();
    let mut header = String::from("| case | size |");
    for &imp in &shown {
        header += match imp {
            Impl::FiniteDiff => " FD (ns) |".to_string(),
            _ => format!(" {} (ns) |", imp.name()),
        }
        .as_str();
        if parallel && imp == Impl::Matgrad {
            header += " matgrad, every core ÷ expert (1 thread) |";
        }
    }
    header += " value only (ns) | matgrad ÷ value | matgrad ÷ hand, as written |";
    if parallel {
        header += " matgrad, every core ÷ 1 thread |";
    }
    println!("{header}");
    let every_core_columns = if parallel { 2 } else { 0 };
    println!(
        "|---|---|{}---:|---:|---:|",
        "---:|".repeat(shown.len() + every_core_columns)
    );
    // The chart's bars: matgrad and the other ways of getting the gradient.
    let charted: Vec<Impl> = [
        Impl::Matgrad,
        Impl::NumDual,
        Impl::AdTrait,
        Impl::FiniteDiff,
    ]
    .into_iter()
    .filter(|imp| imp.is_built())
    .collect();
    let mut groups = Vec::new();
    let mut rows = Vec::new();
    // Nanoseconds per call of every entry of a case (on one thread), and with threads of its
    // entry `imp` on every core. Every entry is timed on every core too, so that both halves run
    // the same work between batches of `imp` (what ran before decides what is in the caches and
    // where the allocator puts new matrices): timing `imp` alone on every core, matgrad's
    // product loops read 0.63–0.64× the expert for mlp 64-128-10 on every core and 0.70–0.71×
    // on one thread, where no product is split.
    let measure = |case: &Case, imp: Impl| -> (Vec<f64>, Option<f64>) {
        if !parallel {
            return (time_case(case, &args.timing), None);
        }
        let at = case
            .entries
            .iter()
            .position(|e| e.imp == imp)
            .expect("the entry timed on every core");
        let (one, all) = threads::one_and_every(case, &args.timing, every);
        (one, Some(all[at]))
    };
    for case in &cases {
        let (ns, every_core) = measure(case, Impl::Matgrad);
        let get = |imp: Impl| {
            case.entries
                .iter()
                .position(|e| e.imp == imp)
                .map(|i| ns[i])
        };
        let hand = get(Impl::Hand).expect("every case has a hand-written gradient");
        let value = get(Impl::Value).expect("every case has the plain loss");
        let mg = get(Impl::Matgrad).expect("every case has matgrad");
        let mut row = format!("| {} | {} |", case.case, case.size);
        for &imp in &shown {
            match get(imp) {
                Some(t) if imp == Impl::Hand => row += &format!(" {} |", fmt_ns(t)),
                Some(t) => row += &format!(" {} ({:.2}×) |", fmt_ns(t), t / hand),
                // (Only the losses written as loops have one.)
                None if imp == Impl::HandLoop => row += " — |",
                None => {
                    let why = case
                        .skipped
                        .iter()
                        .find(|(i, _)| *i == imp)
                        .map_or("—", |(_, w)| w);
                    row += &format!(" skipped: {why} |");
                }
            }
            if let (Some(t), Impl::Matgrad) = (every_core, imp) {
                row += &format!(" {:.2}× ({} ns) |", t / hand, fmt_ns(t));
            }
        }
        row += &format!(" {} | {:.2}× |", fmt_ns(value), mg / value);
        // The loop cases: against the gradient of the same loops, written by hand.
        row += &match get(Impl::HandLoop) {
            Some(t) => format!(" {:.2}× |", mg / t),
            None => " — |".to_string(),
        };
        if let Some(t) = every_core {
            row += &format!(" {:.2}× |", t / mg);
        }
        println!("{row}");
        groups.push(Group {
            label: format!("{} {}", case.case, case.size),
            ratios: charted
                .iter()
                .map(|&imp| get(imp).map(|t| t / hand))
                .collect(),
            marker: every_core.map(|t| t / hand),
        });
        rows.push(Row {
            case: case.case,
            size: case.size.clone(),
            hand,
            matgrad: mg,
            value,
            every_core,
        });
    }
    let product = parallel.then(|| {
        let product = large_product();
        let (one, every) = measure(&product, Impl::Value);
        (
            product.size,
            every.expect("measured on every core") / one[0],
        )
    });
    println!();
    for line in goals::single_threaded(&rows) {
        println!("{line}");
    }
    if let Some((size, ratio)) = product {
        for line in goals::every_core(&rows) {
            println!("{line}");
        }
        println!(
            "(one large product, split by blocks of rows: {size} takes {ratio:.2}× its single-threaded time on every core)"
        );
    }
    if let Some(path) = args.svg_path {
        let names: Vec<&str> = charted
            .iter()
            .map(|&imp| match imp {
                Impl::FiniteDiff => "finite differences",
                _ => imp.name(),
            })
            .collect();
        let (title, marker) = if parallel {
            (
                "Value + gradient, time relative to the expert hand-written gradient on one thread",
                Some("matgrad, every core"),
            )
        } else {
            (
                "Value + gradient, time relative to the expert hand-written gradient",
                None,
            )
        };
        if let Err(e) = std::fs::write(&path, chart::svg(title, &names, marker, &groups)) {
            exit(&format!("cannot write {path}: {e}"), 1);
        }
        eprintln!("chart written to {path}");
    }
}

/// Nanoseconds with three significant digits and thin grouping: `23.4`, `1 234`, `12 345 678`.
fn fmt_ns(ns: f64) -> String {
    if ns < 100.0 {
        return format!("{ns:.1}");
    }
    let digits = format!("{:.0}", round3(ns));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

fn round3(x: f64) -> f64 {
    let e = x.log10().floor() as i32 - 2;
    let p = 10f64.powi(e.max(0));
    (x / p).round() * p
}
