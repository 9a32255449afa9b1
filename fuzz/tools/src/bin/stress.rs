//! Stable-Rust fuzz driver (no libFuzzer, no coverage feedback): mutates the
//! seed corpus with `matgrad_fuzz::mutate` and a seeded PRNG, runs every
//! mutant through `matgrad_fuzz::harness::check`, and keeps going for a given
//! time. A mutant whose outcome (the set of error messages it produces, or
//! "clean") was not seen before joins the corpus, a cheap stand-in for
//! coverage. Findings are saved, one file per signature, in OUT/findings.
//!
//! ```text
//! stress [--seconds N] [--seed S] [--seeds DIR] [--out DIR]   run (default 60 s, seeds/, runs/stress)
//! stress --replay PATH...                                     run files / directories once, print verdicts
//! stress --minimize FILE                                      shrink a finding, keeping its signature
//! ```
//!
//! The run is supervised: the work happens in a child process (`--worker`),
//! which writes every input to OUT/current before running it, so an abort
//! (stack overflow, out of memory) is saved as a finding and the run goes on.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use matgrad_fuzz::harness::{check, Finding, Input, Options, Verdict};
use matgrad_fuzz::mutate::{self, from_stream, to_stream, Pool, Tok};
use matgrad_fuzz::rng::Rng;
use proc_macro2::TokenStream;

struct Args {
    seconds: u64,
    seed: u64,
    seeds: PathBuf,
    out: PathBuf,
    worker: bool,
    replay: Vec<PathBuf>,
    minimize: Option<PathBuf>,
}

fn args() -> Args {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut a = Args {
        seconds: 60,
        seed: 1,
        seeds: here.join("seeds"),
        out: here.join("runs/stress"),
        worker: false,
        replay: Vec::new(),
        minimize: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--seconds" => a.seconds = it.next().and_then(|s| s.parse().ok()).expect("--seconds N"),
            "--seed" => a.seed = it.next().and_then(|s| s.parse().ok()).expect("--seed S"),
            "--seeds" => a.seeds = it.next().expect("--seeds DIR").into(),
            "--out" => a.out = it.next().expect("--out DIR").into(),
            "--worker" => a.worker = true,
            "--replay" => a.replay.extend(it.by_ref().map(PathBuf::from)),
            "--minimize" => a.minimize = Some(it.next().expect("--minimize FILE").into()),
            other => {
                eprintln!("unknown argument {other}; see the source's header");
                std::process::exit(2);
            }
        }
    }
    a
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// The outcome class used as feedback: the error messages in the output.
fn outcome_key(input: &Input) -> Option<u64> {
    let attr = input.attr.parse::<TokenStream>().ok()?;
    let item = input.item.parse::<TokenStream>().ok()?;
    let out = matgrad_fuzz::harness::expand(input.kind, attr, item).to_string();
    let msgs: Vec<&str> = out
        .match_indices("compile_error")
        .filter_map(|(i, _)| {
            let rest = &out[i..];
            let a = rest.find('"')?;
            let b = rest[a + 1..].find('"')?;
            Some(&rest[a + 1..a + 1 + b])
        })
        .collect();
    // The message's shape, not its names: drop `quoted` parts and digits.
    let mut msgs: Vec<String> = msgs
        .iter()
        .map(|m| {
            let mut out = String::new();
            for (k, part) in m.split('`').enumerate() {
                if k % 2 == 0 {
                    out.extend(part.chars().filter(|c| !c.is_ascii_digit()));
                } else {
                    out.push('_');
                }
            }
            out
        })
        .collect();
    msgs.sort();
    msgs.dedup();
    Some(fnv(format!("{:?}{}", input.kind, msgs.join("|")).as_bytes()))
}

#[derive(Default)]
struct Stats {
    execs: u64,
    skipped: BTreeMap<&'static str, u64>,
    ok_clean: u64,
    ok_errors: u64,
    findings: BTreeMap<String, (u64, PathBuf)>,
    slowest: (Duration, String),
    total_time: Duration,
}

fn save_finding(out: &Path, f: &Finding, input: &Input) -> PathBuf {
    let dir = out.join("findings");
    fs::create_dir_all(&dir).unwrap();
    let name = format!("{:016x}", fnv(f.signature().as_bytes()));
    let path = dir.join(&name);
    fs::write(&path, input.encode()).unwrap();
    fs::write(dir.join(format!("{name}.txt")), format!("{}\n\n{}\n", f, input.display())).unwrap();
    path
}

fn worker(a: &Args) {
    let seeds: Vec<Input> = mutate::load_dir(&a.seeds).into_iter().map(|(_, i)| i).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", a.seeds.display());
    let pool = Pool::new(&seeds);
    fs::create_dir_all(&a.out).unwrap();
    let mut current = File::create(a.out.join("current")).unwrap();
    let mut corpus = seeds.clone();
    let mut keys: HashSet<u64> = seeds.iter().filter_map(outcome_key).collect();
    let mut rng = Rng::new(a.seed);
    let mut st = Stats::default();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(a.seconds);
    let mut last_report = start;
    let opts = Options { catch: true, determinism: false };
    while Instant::now() < deadline {
        for _ in 0..64 {
            let parent = &corpus[rng.below(corpus.len())];
            let other = &corpus[rng.below(corpus.len())];
            let input = mutate::mutate(parent, Some(other), &pool, &mut rng);
            let bytes = input.encode();
            current.seek(SeekFrom::Start(0)).unwrap();
            current.set_len(0).unwrap();
            current.write_all(&bytes).unwrap();
            let determinism = st.execs % 32 == 0;
            let t = Instant::now();
            let verdict = check(&input, Options { determinism, ..opts });
            let dt = t.elapsed();
            st.execs += 1;
            st.total_time += dt;
            if dt > st.slowest.0 {
                st.slowest = (dt, input.display());
            }
            match verdict {
                Verdict::Skipped(why) => *st.skipped.entry(why).or_default() += 1,
                Verdict::Ok { errors } => {
                    if errors {
                        st.ok_errors += 1
                    } else {
                        st.ok_clean += 1
                    }
                    if corpus.len() < 5_000 {
                        if let Some(k) = outcome_key(&input) {
                            if keys.insert(k) {
                                corpus.push(input);
                            }
                        }
                    }
                }
                Verdict::Finding(f) => {
                    let sig = f.signature();
                    if !st.findings.contains_key(&sig) {
                        let p = save_finding(&a.out, &f, &input);
                        eprintln!("NEW FINDING {sig}\n{f}\n--- input:\n{}\n--- saved {}", input.display(), p.display());
                        st.findings.insert(sig.clone(), (0, p));
                    }
                    st.findings.get_mut(&sig).unwrap().0 += 1;
                }
            }
        }
        if last_report.elapsed() > Duration::from_secs(10) || Instant::now() >= deadline {
            last_report = Instant::now();
            report(&st, start.elapsed(), corpus.len(), &a.out);
        }
    }
    report(&st, start.elapsed(), corpus.len(), &a.out);
}

fn report(st: &Stats, elapsed: Duration, corpus: usize, out: &Path) {
    let secs = elapsed.as_secs_f64();
    let skipped: u64 = st.skipped.values().sum();
    let line = format!(
        "t={:.0}s execs={} ({:.0}/s) expanded={} (clean={}, with errors={}) skipped={} {:?} corpus={} findings={} slowest={:.1}ms",
        secs,
        st.execs,
        st.execs as f64 / secs,
        st.ok_clean + st.ok_errors + st.findings.values().map(|v| v.0).sum::<u64>(),
        st.ok_clean,
        st.ok_errors,
        skipped,
        st.skipped,
        corpus,
        st.findings.len(),
        st.slowest.0.as_secs_f64() * 1e3,
    );
    eprintln!("{line}");
    let mut f = File::options().create(true).append(true).open(out.join("stats.log")).unwrap();
    writeln!(f, "pid={} {line}", std::process::id()).unwrap();
    for (sig, (n, p)) in &st.findings {
        writeln!(f, "  finding x{n}: {sig} -> {}", p.display()).unwrap();
    }
    if st.slowest.0 > Duration::from_millis(500) {
        writeln!(f, "  slowest input ({:.1} ms):\n{}", st.slowest.0.as_secs_f64() * 1e3, st.slowest.1).unwrap();
    }
}

/// A worker whose current input has run this long is killed, and the input
/// saved as a timeout.
const HANG: Duration = Duration::from_secs(10);
/// Address-space limit of a worker, in KiB (`ulimit -v`): an input that
/// makes the expansion allocate without bound aborts the worker instead of
/// filling the machine.
const MEMORY_KIB: u64 = 3 * 1024 * 1024;

fn supervise(a: &Args) {
    fs::create_dir_all(&a.out).unwrap();
    let exe = std::env::current_exe().unwrap();
    let end = Instant::now() + Duration::from_secs(a.seconds);
    let current = a.out.join("current");
    let mut restarts = 0u64;
    loop {
        let left = end.saturating_duration_since(Instant::now()).as_secs();
        if left == 0 {
            break;
        }
        let _ = fs::remove_file(&current);
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
            .arg(&exe)
            .args(["--worker", "--seconds", &left.to_string()])
            .args(["--seed", &(a.seed + restarts * 1_000_003).to_string()])
            .arg("--seeds")
            .arg(&a.seeds)
            .arg("--out")
            .arg(&a.out)
            .spawn()
            .expect("spawn worker");
        let mut hung = false;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            std::thread::sleep(Duration::from_millis(250));
            let stale = fs::metadata(&current)
                .and_then(|m| m.modified())
                .map(|t| t.elapsed().unwrap_or_default() > HANG)
                .unwrap_or(false);
            if stale {
                hung = true;
                let _ = child.kill();
                break child.wait().unwrap();
            }
        };
        if status.success() && !hung {
            break;
        }
        restarts += 1;
        let what = if hung { "timeout" } else { "crash" };
        let saved = a.out.join("findings").join(format!("{what}-{restarts}"));
        fs::create_dir_all(saved.parent().unwrap()).unwrap();
        let _ = fs::copy(&current, &saved);
        let how = if hung { format!("no progress for {} s", HANG.as_secs()) } else { status.to_string() };
        eprintln!("WORKER STOPPED ({how}); its last input saved as {}", saved.display());
        let mut log = File::options().create(true).append(true).open(a.out.join("stats.log")).unwrap();
        writeln!(log, "worker stopped ({how}); last input -> {}", saved.display()).unwrap();
    }
}

/// An expansion slower than this (twice, in `--replay`) is reported.
const SLOW: Duration = Duration::from_secs(5);

fn replay(paths: &[PathBuf]) -> bool {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<_> = fs::read_dir(p).unwrap().filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.retain(|p| p.extension().is_none_or(|e| e != "txt"));
            v.sort();
            files.extend(v);
        } else {
            files.push(p.clone());
        }
    }
    let mut bad = 0;
    let (mut clean, mut errors, mut skipped) = (0, 0, 0);
    // signature -> (count, smallest input's size, its path, the finding)
    let mut by_sig: BTreeMap<String, (usize, usize, PathBuf, String)> = BTreeMap::new();
    for f in &files {
        let Some(input) = fs::read(f).ok().and_then(|b| Input::decode(&b)) else {
            continue;
        };
        let t = Instant::now();
        let verdict = check(&input, Options { catch: true, determinism: true });
        let dt = t.elapsed();
        if dt > SLOW {
            bad += 1;
            println!("SLOW {}: {:.1} s (two expansions)", f.display(), dt.as_secs_f64());
            let e = by_sig.entry("Slow".into()).or_insert((0, usize::MAX, f.clone(), String::new()));
            e.0 += 1;
            let size = input.encode().len();
            if size < e.1 {
                (e.1, e.2, e.3) = (size, f.clone(), format!("{:.1} s", dt.as_secs_f64()));
            }
        }
        match verdict {
            Verdict::Finding(x) => {
                bad += 1;
                let short = x.to_string().lines().next().unwrap_or_default().to_owned();
                println!("FINDING {}: {short}", f.display());
                let size = input.encode().len();
                let e = by_sig.entry(x.signature()).or_insert((0, usize::MAX, f.clone(), String::new()));
                e.0 += 1;
                if size < e.1 {
                    (e.1, e.2, e.3) = (size, f.clone(), short);
                }
            }
            Verdict::Ok { errors: true } => errors += 1,
            Verdict::Ok { errors: false } => clean += 1,
            Verdict::Skipped(why) => {
                skipped += 1;
                println!("skipped {}: {why}", f.display());
            }
        }
    }
    if !by_sig.is_empty() {
        println!("distinct findings:");
        for (sig, (n, size, path, msg)) in &by_sig {
            println!("  {sig}: {n} inputs, smallest {size} bytes {}\n    {msg}", path.display());
        }
    }
    println!("{} inputs: {clean} clean, {errors} with compile errors, {skipped} skipped, {bad} findings", files.len());
    bad == 0
}

/// Greedy token-level shrinking that keeps the finding's signature.
fn minimize(path: &Path) {
    let input = Input::decode(&fs::read(path).unwrap()).expect("decodable input");
    let opts = Options { catch: true, determinism: true };
    let Verdict::Finding(f0) = check(&input, opts) else {
        println!("no finding for this input");
        return;
    };
    let sig = f0.signature();
    let keeps = |i: &Input| matches!(check(i, opts), Verdict::Finding(f) if f.signature() == sig);
    let mut best = input.clone();
    // candidate edits: remove one tree / unwrap a group / empty a group, anywhere
    fn variants(toks: &[Tok]) -> Vec<Vec<Tok>> {
        let mut out = Vec::new();
        for i in 0..toks.len() {
            let mut v = toks.to_vec();
            v.remove(i);
            out.push(v);
            if let Tok::Group(d, inner) = &toks[i] {
                let mut v = toks.to_vec();
                v.splice(i..i + 1, inner.clone());
                out.push(v);
                if !inner.is_empty() {
                    let mut v = toks.to_vec();
                    v[i] = Tok::Group(*d, Vec::new());
                    out.push(v);
                }
                for sub in variants(inner) {
                    let mut v = toks.to_vec();
                    v[i] = Tok::Group(*d, sub);
                    out.push(v);
                }
            }
        }
        out
    }
    loop {
        let mut improved = false;
        for part in 0..2 {
            let text = if part == 0 { &best.attr } else { &best.item };
            let Ok(ts) = text.parse::<TokenStream>() else { continue };
            let toks = from_stream(ts);
            for v in variants(&toks) {
                let mut cand = best.clone();
                let s = to_stream(&v).to_string();
                if part == 0 {
                    cand.attr = s;
                } else {
                    cand.item = s;
                }
                if cand.encode().len() < best.encode().len() && keeps(&cand) {
                    best = cand;
                    improved = true;
                    break;
                }
            }
        }
        if !improved {
            break;
        }
    }
    let Verdict::Finding(f) = check(&best, opts) else { unreachable!() };
    let out = path.with_extension("min");
    fs::write(&out, best.encode()).unwrap();
    println!("{f}\n--- minimised input ({} bytes, saved {}):\n{}", best.encode().len(), out.display(), best.display());
}

fn main() {
    let a = args();
    if let Some(p) = &a.minimize {
        minimize(p);
    } else if !a.replay.is_empty() {
        if !replay(&a.replay) {
            std::process::exit(1);
        }
    } else if a.worker {
        worker(&a);
    } else {
        supervise(&a);
    }
}
