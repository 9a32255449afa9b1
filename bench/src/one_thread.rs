//! The single-threaded half of the table built with the `parallel` feature: a copy of the table
//! program, started with `MATGRAD_THREADS=1 MATMUL_NUM_THREADS=1`, which times cases on request.
//!
//! Every single-threaded figure of the table comes from the copy, whose environment the table
//! sets itself, and the process the user started, with the user's thread settings, gives
//! matgrad's figure on every core: thread settings read once per process (matrixmultiply's
//! `MATMUL_NUM_THREADS`, should a dependency turn on its threads; the number of matgrad's worker
//! threads, started at the first split) cannot be changed between the two halves of one
//! process.
//!
//! The two take turns, batch by batch: for each case, each process warms up and calibrates
//! (as [`time_case`] does), then in every round the copy runs one batch of each entry of the
//! case on one thread, then this process one batch of each entry with its thread settings, of
//! which it keeps matgrad's. Only one of them runs at a time, so they do not compete for the
//! cores, and a slow drift of a shared machine hits both sides alike, as it hits the
//! implementations of a case within one process; both run the same work between two batches of
//! matgrad, which decides what the caches hold and where new matrices are allocated.
//!
//! The conversation, one line each way: the copy first checks its cases and writes `ready`;
//! then `case I` (an index into the list both processes build from the same arguments): it
//! calibrates that case's entries and answers `rounds N`; `round R`: it runs its round `R`
//! ([`Timer::round`]) and answers `done`; `medians`: it answers `case⇥size⇥ns⇥ns…`, the median
//! nanoseconds per call of each entry in order. It stops when its input closes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

#[cfg(doc)]
use crate::harness::time_case;
use crate::harness::{Case, Timer, Timing};

/// The argument that makes the table program the copy.
pub const FLAG: &str = "--one-thread";

/// The copy, started and ready.
pub struct OneThread {
    child: Child,
    /// `None` once closed.
    to: Option<ChildStdin>,
    from: BufReader<ChildStdout>,
}

impl OneThread {
    /// Starts this program again with [`FLAG`], then `args`, and one thread everywhere; returns
    /// once the copy has checked its cases and is ready, or `Err` if it stopped (its error
    /// messages go to this process's standard error).
    pub fn start(args: &[String]) -> Result<OneThread, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let mut child = Command::new(exe)
            .arg(FLAG)
            .args(args)
            .env("MATGRAD_THREADS", "1")
            .env("MATMUL_NUM_THREADS", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the single-threaded copy: {e}"))?;
        let to = child.stdin.take();
        let from = BufReader::new(child.stdout.take().expect("piped"));
        let mut copy = OneThread { child, to, from };
        match copy.line()?.as_str() {
            "ready" => Ok(copy),
            other => Err(format!("the single-threaded copy said {other:?}")),
        }
    }

    /// Times `case`, the `i`-th of the copy's list, in the copy, and `mine` here, round by
    /// round in turn; returns the copy's median nanoseconds per call of each entry of `case`
    /// (`mine` keeps its own).
    pub fn time_beside(
        &mut self,
        i: usize,
        case: &Case,
        mine: &mut Timer,
    ) -> Result<Vec<f64>, String> {
        let answer = self.ask(&format!("case {i}"))?;
        let rounds: usize = answer
            .strip_prefix("rounds ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("the single-threaded copy answered {answer:?} to case {i}"))?;
        for round in 0..rounds.max(mine.rounds()) {
            if round < rounds {
                let answer = self.ask(&format!("round {round}"))?;
                if answer != "done" {
                    return Err(format!("the single-threaded copy answered {answer:?}"));
                }
            }
            on_core_of(round);
            mine.round(round);
        }
        let line = self.ask("medians")?;
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 2 + case.entries.len() || fields[..2] != [case.case, &case.size] {
            return Err(format!(
                "the single-threaded copy answered {line:?} for {} {}",
                case.case, case.size
            ));
        }
        fields[2..]
            .iter()
            .map(|f| f.parse().map_err(|e| format!("{f:?} in {line:?}: {e}")))
            .collect()
    }

    /// Writes `request` to the copy and reads its answer.
    fn ask(&mut self, request: &str) -> Result<String, String> {
        let to = self.to.as_mut().expect("open until dropped");
        writeln!(to, "{request}")
            .and_then(|()| to.flush())
            .map_err(|e| format!("cannot write to the single-threaded copy: {e}"))?;
        self.line()
    }

    /// The copy's next line, without its end.
    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.from.read_line(&mut line) {
            Ok(0) => Err("the single-threaded copy stopped".into()),
            Ok(_) => Ok(line.trim_end().to_string()),
            Err(e) => Err(format!("cannot read the single-threaded copy: {e}")),
        }
    }
}

impl Drop for OneThread {
    /// Closes the copy's input, which ends it, and waits for it.
    fn drop(&mut self) {
        drop(self.to.take());
        let _ = self.child.wait();
    }
}

/// The copy's side: writes `ready`, then answers the table's requests on standard input until
/// it closes. `cases` must be the list the table builds from the same arguments.
pub fn serve(cases: &[Case], timing: &Timing) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    let mut say = |s: &str| {
        writeln!(out, "{s}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot answer the table: {e}"))
    };
    say("ready")?;
    // The case being timed and its timer.
    let mut timing_now: Option<(&Case, Timer)> = None;
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("cannot read the table's request: {e}"))?;
        let bad = || format!("cannot answer {line:?}");
        let (word, n) = match line.split_once(' ') {
            Some((word, n)) => (word, Some(n.parse::<usize>().map_err(|_| bad())?)),
            None => (line.as_str(), None),
        };
        match (word, n) {
            ("case", Some(i)) => {
                let case = cases.get(i).ok_or_else(bad)?;
                let timer = Timer::new(case.entries.iter().collect(), timing);
                say(&format!("rounds {}", timer.rounds()))?;
                timing_now = Some((case, timer));
            }
            ("round", Some(r)) => {
                on_core_of(r);
                timing_now.as_mut().ok_or_else(bad)?.1.round(r);
                say("done")?;
            }
            ("medians", None) => {
                let (case, timer) = timing_now.take().ok_or_else(bad)?;
                let mut answer = format!("{}\t{}", case.case, case.size);
                for ns in timer.medians() {
                    answer += &format!("\t{ns}");
                }
                say(&answer)?;
            }
            _ => return Err(bad()),
        }
    }
    Ok(())
}

/// Moves the calling thread to one of the cores this process may use, the next one each round.
///
/// On a virtual machine the cores need not be equally fast, and the scheduler keeps a busy
/// thread on the core it runs on: on the 2-core machine of the README, the two processes timing
/// the same code on one thread each disagreed by 1.2–1.4× when left to the scheduler, and by
/// at most 5% when both were held to the same core. Visiting every core in turn, round by
/// round, in both processes, gives each side the same mix of cores. (Only on Linux; elsewhere
/// the scheduler decides.)
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
