//! Prints the benchmark table.
//!
//! ```text
//! cargo run --release -p matgrad-bench --features peers --bin table [-- [--quick] [CASE ...]]
//! ```
//!
//! Without the `peers` feature the num-dual and ad_trait columns are left out.
//!
//! Every implementation of every case is first checked against the hand-written gradient (the
//! run stops before timing anything if one is wrong); then each case is timed (warm-up, then
//! rounds of batches over its implementations in turn, median batch per implementation) and one
//! markdown table is printed: nanoseconds per call, the ratio to the hand-written gradient, and
//! matgrad's value+gradient / value-only ratio.

use std::time::Duration;

use matgrad_bench::harness::{time_case, Timing};
use matgrad_bench::{all_cases, Impl, Sizes};

fn main() {
    let mut timing = Timing::default();
    let mut only: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => {
                timing = Timing {
                    warm_up: Duration::from_millis(10),
                    batch: Duration::from_millis(1),
                    batches: 11,
                    budget: Duration::from_millis(300),
                }
            }
            "-h" | "--help" => {
                println!("usage: table [--quick] [CASE ...]   (cases: lsq logreg quadform gauss_nll mf mlp logreg_loop huber_loop rnn softmax_ce gp_nlml)");
                return;
            }
            name => only.push(name.to_string()),
        }
    }

    let cases: Vec<_> = all_cases(Sizes::All)
        .into_iter()
        .filter(|c| only.is_empty() || only.iter().any(|o| o == c.case))
        .collect();
    if cases.is_empty() {
        eprintln!("no case matches {only:?}");
        std::process::exit(2);
    }

    eprintln!(
        "checking {} case sizes against the hand-written gradients…",
        cases.len()
    );
    let mut failed = false;
    for case in &cases {
        if let Err(e) = case.check() {
            eprintln!("CHECK FAILED: {e}");
            failed = true;
        }
    }
    if failed {
        eprintln!(
            "not timing anything: an implementation disagrees with the hand-written gradient"
        );
        std::process::exit(1);
    }
    eprintln!("all implementations agree (≤ 1e-6 relative, finite differences ≤ 1e-5); timing…");

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
    }
    println!("{header} value only (ns) | matgrad ÷ value | matgrad ÷ hand, as written |");
    println!("|---|---|{}---:|---:|---:|", "---:|".repeat(shown.len()));
    let mut ratios = Vec::new();
    let mut grad_value = Vec::new();
    for case in &cases {
        let ns = time_case(case, &timing);
        let get = |imp: Impl| {
            case.entries
                .iter()
                .position(|e| e.imp == imp)
                .map(|i| ns[i])
        };
        let hand = get(Impl::Hand).expect("every case has a hand-written gradient");
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
        }
        let value = get(Impl::Value).expect("every case has the plain loss");
        let mg = get(Impl::Matgrad).expect("every case has matgrad");
        row += &format!(" {} | {:.2}× |", fmt_ns(value), mg / value);
        // The loop cases: against the gradient of the same loops, written by hand.
        row += &match get(Impl::HandLoop) {
            Some(t) => format!(" {:.2}× |", mg / t),
            None => " — |".to_string(),
        };
        println!("{row}");
        ratios.push(mg / hand);
        grad_value.push(mg / value);
    }
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
    };
    let max = sorted.last().copied().unwrap_or(f64::NAN);
    let max_gv = grad_value.iter().copied().fold(f64::NAN, f64::max);
    println!();
    println!(
        "matgrad ÷ hand-written: median {median:.2}×, worst {max:.2}× (targets: median ≤ 1.00×, every case ≤ 1.10×); \
         matgrad ÷ value only: worst {max_gv:.2}× (target ≤ 3×)"
    );
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
