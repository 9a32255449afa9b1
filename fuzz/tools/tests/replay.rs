//! Replays the committed inputs through the harness: the seed corpus (under
//! all three attributes) and the minimised inputs of every bug the fuzzing
//! found (`regressions/`). Each must expand without a panic, to valid output,
//! and identically every time. `cargo test` in `fuzz/`.

use std::path::Path;

use matgrad_fuzz::harness::{check, expand, Input, Kind, Options, Verdict};
use matgrad_fuzz::mutate::load_dir;
use proc_macro2::TokenStream;

fn dir(name: &str) -> Vec<(String, Input)> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join(name);
    let inputs = load_dir(&d);
    assert!(!inputs.is_empty(), "no inputs in {}", d.display());
    inputs
}

const CATCH: Options = Options { catch: true, determinism: false };

/// The findings among `inputs`, as `name: finding` lines.
fn findings(inputs: &[(String, Input)]) -> Vec<String> {
    inputs
        .iter()
        .filter_map(|(name, input)| match check(input, CATCH) {
            Verdict::Finding(f) => Some(format!("{name} [{}]: {f}", input.kind.name())),
            Verdict::Skipped(why) => Some(format!("{name}: skipped ({why}), a useless input")),
            Verdict::Ok { .. } => None,
        })
        .collect()
}

/// The inputs whose expansion differs between runs (tried `runs` times).
fn nondeterministic(inputs: &[(String, Input)], runs: usize) -> Vec<String> {
    inputs
        .iter()
        .filter_map(|(name, input)| {
            let attr: TokenStream = input.attr.parse().ok()?;
            let item: TokenStream = input.item.parse().ok()?;
            let once = || std::panic::catch_unwind(|| expand(input.kind, attr.clone(), item.clone()).to_string()).ok();
            let first = once()?;
            (0..runs).any(|_| once().is_some_and(|o| o != first)).then(|| name.clone())
        })
        .collect()
}

fn report(what: &str, bad: Vec<String>) {
    assert!(bad.is_empty(), "{} {what}:\n{}", bad.len(), bad.join("\n\n"));
}

#[test]
fn seeds_expand_to_valid_output_under_every_attribute() {
    let seeds = dir("seeds");
    let all: Vec<(String, Input)> = seeds
        .iter()
        .flat_map(|(name, input)| {
            Kind::ALL.iter().map(move |&kind| (name.clone(), Input { kind, ..input.clone() }))
        })
        .collect();
    report("seed expansions with a finding", findings(&all));
}

#[test]
fn seeds_expand_deterministically() {
    report("seeds expand differently from run to run", nondeterministic(&dir("seeds"), 8));
}

/// Each regression input in its own `stress --replay` process (an input that
/// overflows the stack aborts that process, not the test), with a time limit.
#[test]
fn regressions_expand_validly_deterministically_and_in_time() {
    use std::process::Command;
    use std::time::{Duration, Instant};
    let exe = env!("CARGO_BIN_EXE_stress");
    let mut bad = Vec::new();
    for (name, _) in dir("regressions") {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("regressions").join(&name);
        let mut child = Command::new(exe)
            .arg("--replay")
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run stress");
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if start.elapsed() > Duration::from_secs(60) {
                child.kill().unwrap();
                child.wait().unwrap();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        match status {
            Some(s) if s.success() => {}
            Some(s) => bad.push(format!("{name}: {s}\n{}", text.trim())),
            None => bad.push(format!("{name}: still running after 60 s")),
        }
    }
    report("regression inputs still fail", bad);
}
