//! The table program end to end on one case, briefly timed: its rows, its goal lines and, with
//! the `parallel` feature, the every-core columns measured in turn with the single-threaded ones.

use std::process::Command;

#[test]
fn the_table_prints_its_rows_and_goal_lines() {
    let out = Command::new(env!("CARGO_BIN_EXE_table"))
        .args(["--quick", "lsq"])
        .output()
        .expect("the table runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let threads = cfg!(feature = "parallel");
    // The header, its rule and one row per size of lsq, all with the same number of columns.
    let columns = lines[0].matches('|').count();
    assert_eq!(lines[1].matches('|').count(), columns, "{stdout}");
    let rows: Vec<&&str> = lines.iter().filter(|l| l.starts_with("| lsq |")).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for row in &rows {
        assert_eq!(row.matches('|').count(), columns, "{row}");
    }
    assert_eq!(
        lines[0].contains("| matgrad, every core ÷ expert (1 thread) |"),
        threads,
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[0].ends_with("| matgrad, every core ÷ 1 thread |"),
        threads
    );
    assert!(stdout.contains("\nevery row ≤ 1.10× its expert baseline: "));
    assert_eq!(
        stdout.contains(
            "\nlsq and logreg at 2000×200, mf 200×150 and mlp 64-128-10 on every core ≤ 0.60× \
             the single-threaded expert: "
        ),
        threads
    );
    assert_eq!(
        stdout.contains("(1 of its 4 rows in this run)"),
        threads,
        "{stdout}"
    );
    assert_eq!(
        stdout.contains("\n(one large product, split by blocks of rows: "),
        threads
    );
}
