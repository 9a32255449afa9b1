//! Prints the benchmark table.
//!
//! ```text
//! cargo run --release -p matgrad-bench --features peers --bin table [-- [--quick] [--svg FILE] [CASE ...]]
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

use std::time::Duration;

use matgrad_bench::chart::{self, Group};
use matgrad_bench::harness::{time_case, Timing};
use matgrad_bench::{all_cases, Impl, Sizes};

fn main() {
    let mut timing = Timing::default();
    let mut only: Vec<String> = Vec::new();
    let mut svg_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--svg" => match args.next() {
                Some(path) => svg_path = Some(path),
                None => {
                    eprintln!("--svg needs a file name");
                    std::process::exit(2);
                }
            },
            "--quick" => {
                timing = Timing {
                    warm_up: Duration::from_millis(10),
                    batch: Duration::from_millis(1),
                    batches: 11,
                    budget: Duration::from_millis(300),
                }
            }
            "-h" | "--help" => {
                println!("usage: table [--quick] [--svg FILE] [CASE ...]   (cases: lsq logreg quadform gauss_nll mf mlp logreg_loop huber_loop rnn softmax_ce gp_nlml)");
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
        let label = format!("{} {}", case.case, case.size);
        groups.push(Group {
            label: label.clone(),
            ratios: charted
                .iter()
                .map(|&imp| get(imp).map(|t| t / hand))
                .collect(),
        });
        ratios.push((mg / hand, label.clone()));
        grad_value.push((mg / value, label));
    }
    println!();
    for line in summary(&ratios, &grad_value) {
        println!("{line}");
    }
    if let Some(path) = svg_path {
        let names: Vec<&str> = charted
            .iter()
            .map(|&imp| match imp {
                Impl::FiniteDiff => "finite differences",
                _ => imp.name(),
            })
            .collect();
        let title = "Value + gradient, time relative to the expert hand-written gradient";
        if let Err(e) = std::fs::write(&path, chart::svg(title, &names, &groups)) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
        eprintln!("chart written to {path}");
    }
}

/// One line per target: met or not, with the figure.
fn summary(ratios: &[(f64, String)], grad_value: &[(f64, String)]) -> [String; 3] {
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    let worst = |v: &[(f64, String)]| {
        v.iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or((f64::NAN, String::new()), |(r, l)| (*r, l.clone()))
    };
    let mut sorted: Vec<f64> = ratios.iter().map(|r| r.0).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let (max, max_at) = worst(ratios);
    let within = ratios.iter().filter(|r| r.0 <= 1.10).count();
    let (max_gv, max_gv_at) = worst(grad_value);
    let within_gv = grad_value.iter().filter(|r| r.0 <= 3.0).count();
    [
        format!(
            "every row ≤ 1.10× its expert baseline: {} — {within} of {n} rows, worst {max:.2}× ({max_at})",
            met(within == n)
        ),
        format!(
            "median ≤ 1.00× the expert baseline: {} — median {median:.2}×",
            met(median <= 1.0)
        ),
        format!(
            "value + gradient ≤ 3× value alone: {} — {within_gv} of {n} rows, worst {max_gv:.2}× ({max_gv_at})",
            met(within_gv == n)
        ),
    ]
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
