//! The table's goal lines: one per target, met or not, with its figures.

/// One row of the table: a case at one size, in nanoseconds per call, every figure but
/// `every_core` measured on one thread.
pub struct Row {
    pub case: &'static str,
    pub size: String,
    /// The expert hand-written gradient.
    pub hand: f64,
    pub matgrad: f64,
    /// The plain loss, value only.
    pub value: f64,
    /// matgrad on every core (the `parallel` feature), if measured.
    pub every_core: Option<f64>,
}

impl Row {
    pub fn label(&self) -> String {
        format!("{} {}", self.case, self.size)
    }
}

/// The rows (case, size) that the `parallel` feature should bring to [`EVERY_CORE_GOAL`]× the
/// single-threaded expert: the large dynamic products.
pub const EVERY_CORE_ROWS: [(&str, &str); 4] = [
    ("lsq", "n=2000 d=200"),
    ("logreg", "n=2000 d=200"),
    ("mf", "200×150 r=10"),
    ("mlp", "d=64 h=128 o=10"),
];

/// matgrad on every core ÷ the single-threaded expert, in the rows of [`EVERY_CORE_ROWS`].
pub const EVERY_CORE_GOAL: f64 = 0.6;

/// matgrad on every core ÷ matgrad on one thread, in every other row: threads must not slow
/// down what they cannot speed up.
pub const EVERY_CORE_ELSEWHERE: f64 = 1.05;

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

/// The largest ratio and the label of its row.
fn worst(v: &[(f64, String)]) -> (f64, String) {
    v.iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or((f64::NAN, String::new()), |(r, l)| (*r, l.clone()))
}

/// The single-threaded targets: every row ≤ 1.10× the expert, the median ≤ 1.00×, value +
/// gradient ≤ 3× the value alone.
pub fn single_threaded(rows: &[Row]) -> [String; 3] {
    let ratios: Vec<(f64, String)> = rows
        .iter()
        .map(|r| (r.matgrad / r.hand, r.label()))
        .collect();
    let grad_value: Vec<(f64, String)> = rows
        .iter()
        .map(|r| (r.matgrad / r.value, r.label()))
        .collect();
    let mut sorted: Vec<f64> = ratios.iter().map(|r| r.0).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let (max, max_at) = worst(&ratios);
    let within = ratios.iter().filter(|r| r.0 <= 1.10).count();
    let (max_gv, max_gv_at) = worst(&grad_value);
    let within_gv = grad_value.iter().filter(|r| r.0 <= 3.0).count();
    [
        format!(
            "every row ≤ 1.10× its expert baseline: {} — {within} of {n} rows, worst {max:.3}× ({max_at})",
            met(within == n)
        ),
        format!(
            "median ≤ 1.00× the expert baseline: {} — median {median:.3}×",
            met(median <= 1.0)
        ),
        format!(
            "value + gradient ≤ 3× value alone: {} — {within_gv} of {n} rows, worst {max_gv:.2}× ({max_gv_at})",
            met(within_gv == n)
        ),
    ]
}

/// The targets of the `parallel` feature, over the rows with an every-core figure: those of
/// [`EVERY_CORE_ROWS`] ≤ [`EVERY_CORE_GOAL`]× the single-threaded expert, every other row
/// ≤ [`EVERY_CORE_ELSEWHERE`]× matgrad's single-threaded figure. A goal with none of its rows in
/// the run says so.
pub fn every_core(rows: &[Row]) -> [String; 2] {
    let is_goal_row = |r: &Row| EVERY_CORE_ROWS.contains(&(r.case, r.size.as_str()));
    let (mut goal, mut elsewhere) = (Vec::new(), Vec::new());
    for r in rows {
        let Some(t) = r.every_core else { continue };
        if is_goal_row(r) {
            goal.push((t / r.hand, r.label()));
        } else {
            elsewhere.push((t / r.matgrad, r.label()));
        }
    }
    let goal_line = {
        let name = format!(
            "lsq and logreg at 2000×200, mf 200×150 and mlp 64-128-10 on every core ≤ {EVERY_CORE_GOAL:.2}× the single-threaded expert"
        );
        if goal.is_empty() {
            format!("{name}: not measured — none of its rows in this run")
        } else {
            let ok = goal.iter().all(|g| g.0 <= EVERY_CORE_GOAL);
            let figures: Vec<String> = goal.iter().map(|(r, l)| format!("{l} {r:.2}×")).collect();
            let missing = if goal.len() < EVERY_CORE_ROWS.len() {
                format!(
                    " ({} of its {} rows in this run)",
                    goal.len(),
                    EVERY_CORE_ROWS.len()
                )
            } else {
                String::new()
            };
            format!("{name}: {} — {}{missing}", met(ok), figures.join(", "))
        }
    };
    let elsewhere_line = {
        let name = format!(
            "every other row on every core ≤ {EVERY_CORE_ELSEWHERE:.2}× its single-threaded figure"
        );
        if elsewhere.is_empty() {
            format!("{name}: not measured — no such row in this run")
        } else {
            let n = elsewhere.len();
            let within = elsewhere
                .iter()
                .filter(|r| r.0 <= EVERY_CORE_ELSEWHERE)
                .count();
            let (max, max_at) = worst(&elsewhere);
            format!(
                "{name}: {} — {within} of {n} rows, worst {max:.2}× ({max_at})",
                met(within == n)
            )
        }
    };
    [goal_line, elsewhere_line]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(case: &'static str, size: &str, every_core: Option<f64>) -> Row {
        Row {
            case,
            size: size.into(),
            hand: 100.0,
            matgrad: 110.0,
            value: 50.0,
            every_core,
        }
    }

    #[test]
    fn the_single_threaded_goals_read_the_single_threaded_figures() {
        let mut rows = [row("lsq", "n=20 d=5", Some(1.0)), row("a", "b", None)];
        rows[1].matgrad = 100.0;
        let [every, median, value] = single_threaded(&rows);
        assert_eq!(
            every,
            "every row ≤ 1.10× its expert baseline: met — 2 of 2 rows, worst 1.100× (lsq n=20 d=5)"
        );
        assert_eq!(
            median,
            "median ≤ 1.00× the expert baseline: NOT met — median 1.050×"
        );
        assert_eq!(
            value,
            "value + gradient ≤ 3× value alone: met — 2 of 2 rows, worst 2.20× (lsq n=20 d=5)"
        );
        rows[1].matgrad = 111.0;
        assert!(single_threaded(&rows)[0].contains("NOT met — 1 of 2 rows, worst 1.110× (a b)"));
    }

    #[test]
    fn the_goal_rows_are_against_the_expert_and_the_others_against_one_thread() {
        let rows = [
            row("lsq", "n=2000 d=200", Some(50.0)),
            row("mf", "200×150 r=10", Some(70.0)),
            row("lsq", "n=20 d=5", Some(115.0)),
            row("mlp", "d=4 h=8 o=2 (SMatrix)", Some(110.0)),
            row("quadform", "10", None),
        ];
        let [goal, elsewhere] = every_core(&rows);
        assert_eq!(
            goal,
            "lsq and logreg at 2000×200, mf 200×150 and mlp 64-128-10 on every core ≤ 0.60× the \
             single-threaded expert: NOT met — lsq n=2000 d=200 0.50×, mf 200×150 r=10 0.70× \
             (2 of its 4 rows in this run)"
        );
        assert_eq!(
            elsewhere,
            "every other row on every core ≤ 1.05× its single-threaded figure: met — 2 of 2 rows, \
             worst 1.05× (lsq n=20 d=5)"
        );
        let [goal, elsewhere] = every_core(&[row("lsq", "n=2000 d=200", Some(60.0))]);
        assert!(
            goal.contains(": met — lsq n=2000 d=200 0.60× (1 of its 4"),
            "{goal}"
        );
        assert!(elsewhere.ends_with("not measured — no such row in this run"));
        let [goal, _] = every_core(&[row("lsq", "n=2000 d=200", None)]);
        assert!(goal.ends_with("not measured — none of its rows in this run"));
    }

    #[test]
    fn the_goal_rows_are_rows_of_the_table() {
        let cases = crate::all_cases(crate::Sizes::All);
        for (case, size) in EVERY_CORE_ROWS {
            assert!(
                cases.iter().any(|c| c.case == case && c.size == size),
                "no row {case} {size}"
            );
        }
    }
}
