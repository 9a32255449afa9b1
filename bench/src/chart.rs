//! The table's chart: time relative to the expert baseline, on a log scale, one group of bars
//! per case and size, and a marker on the first bar for a second figure of its series (matgrad
//! on every core), written as SVG by hand (no plotting dependency).

use std::fmt::Write;

/// One group of bars: a case at one size, and each series' time ÷ the baseline's (`None`: not
/// run at this size).
pub struct Group {
    pub label: String,
    pub ratios: Vec<Option<f64>>,
    /// The marker's time ÷ the baseline's, drawn on the first bar.
    pub marker: Option<f64>,
}

/// Colour-blind-safe colours (Okabe–Ito), one per series in order.
const COLOURS: [&str; 6] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
];

const BAR: f64 = 11.0;
const GAP: f64 = 16.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 56.0;
const PLOT_H: f64 = 380.0;
/// Approximate width of a character of the 12-pixel labels.
const CHAR_W: f64 = 6.6;

/// Half the width of the marker, a diamond.
const MARK: f64 = 5.0;
/// Approximate length of a ratio written on a bar (`1.23` in 9-pixel type).
const LABEL: f64 = 24.0;

/// The chart as an SVG document: `series` names the bars of each group, in order, and `marker`
/// the groups' markers; every bar starts at the 1× line, so a bar going down is faster than the
/// baseline.
pub fn svg(title: &str, series: &[&str], marker: Option<&str>, groups: &[Group]) -> String {
    let ratios = groups
        .iter()
        .flat_map(|g| g.ratios.iter().chain([&g.marker]).flatten());
    let (lo, hi) = ratios.fold((1.0f64, 1.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    // Whole decades around every ratio, at least 0.1× … 10×.
    let (lo, hi) = (lo.log10().floor().min(-1.0), hi.log10().ceil().max(1.0));
    let y = |r: f64| TOP + PLOT_H * (hi - r.log10()) / (hi - lo);
    let group_w = series.len() as f64 * BAR + GAP;
    let plot_w = groups.len() as f64 * group_w;
    let width = LEFT + plot_w + 20.0;
    // Room for the longest group label, written at 60° below the plot.
    let longest = groups
        .iter()
        .map(|g| g.label.chars().count())
        .max()
        .unwrap_or(0);
    let height = TOP + PLOT_H + 40.0 + longest as f64 * CHAR_W * 0.87;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="20" font-size="15" font-weight="bold">{}</text>"#,
        escape(title)
    );

    // Legend, on one line under the title.
    let mut x = LEFT;
    for (name, colour) in series.iter().zip(COLOURS) {
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="30" width="12" height="12" fill="{colour}"/><text x="{}" y="40">{}</text>"#,
            x + 16.0,
            escape(name)
        );
        x += 30.0 + CHAR_W * name.chars().count() as f64;
    }
    if let Some(name) = marker {
        let _ = writeln!(
            s,
            r#"{}<text x="{}" y="40">{}</text>"#,
            diamond(x + 6.0, 36.0, ""),
            x + 16.0,
            escape(name)
        );
        x += 30.0 + CHAR_W * name.chars().count() as f64;
    }
    let _ = writeln!(
        s,
        r#"<line x1="{x}" y1="36" x2="{}" y2="36" stroke="black" stroke-width="1.5" stroke-dasharray="5,3"/><text x="{}" y="40">1× = expert hand-written gradient</text>"#,
        x + 24.0,
        x + 28.0
    );

    // Axis: a tick and a grid line at 1, 2 and 5 of every decade, labelled at 1 (and 2, 5 when
    // there are few decades).
    let decades = (hi - lo) as i32;
    for e in lo as i32..=hi as i32 {
        for m in [1.0, 2.0, 5.0] {
            let r = m * 10f64.powi(e);
            if r.log10() > hi + 1e-9 {
                break;
            }
            let yy = y(r);
            let major = m == 1.0;
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{}" stroke-width="1"/>"##,
                LEFT + plot_w,
                if major { "#d0d0d0" } else { "#eeeeee" }
            );
            if major || decades <= 3 {
                let _ = writeln!(
                    s,
                    r#"<line x1="{:.1}" y1="{yy:.1}" x2="{LEFT}" y2="{yy:.1}" stroke="black"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}×</text>"#,
                    LEFT - 5.0,
                    LEFT - 8.0,
                    yy + 4.0,
                    fmt_ratio(r)
                );
            }
        }
    }
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="black"/>"#,
        TOP + PLOT_H
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">time ÷ expert baseline (log scale)</text>"#,
        TOP + PLOT_H / 2.0
    );

    // The bars, from the 1× line, and the group labels.
    let one = y(1.0);
    for (k, group) in groups.iter().enumerate() {
        let x0 = LEFT + k as f64 * group_w + GAP / 2.0;
        if k > 0 {
            let _ = writeln!(
                s,
                r##"<line x1="{:.1}" y1="{TOP}" x2="{:.1}" y2="{:.1}" stroke="#f4f4f4"/>"##,
                x0 - GAP / 2.0,
                x0 - GAP / 2.0,
                TOP + PLOT_H
            );
        }
        for (i, (r, colour)) in group.ratios.iter().zip(COLOURS).enumerate() {
            let Some(r) = *r else { continue };
            let x = x0 + i as f64 * BAR;
            let (top, bottom) = if r >= 1.0 { (y(r), one) } else { (one, y(r)) };
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}: {} {:.2}×</title></rect>"#,
                BAR - 1.0,
                (bottom - top).max(1.0),
                escape(&group.label),
                escape(series[i]),
                r
            );
            // The first series' ratio written on its bar's end, past the marker if the marker
            // would cover it.
            if i == 0 {
                let my = group.marker.filter(|_| marker.is_some()).map(y);
                let (ty, anchor) = if r >= 1.0 {
                    let past = my.filter(|&my| my > top - LABEL - MARK && my < top + MARK);
                    (past.map_or(top, |my| my - MARK) - 3.0, "start")
                } else {
                    let past = my.filter(|&my| my > bottom - MARK && my < bottom + LABEL + MARK);
                    (past.map_or(bottom, |my| my + MARK) + 3.0, "end")
                };
                let _ = writeln!(
                    s,
                    r#"<text transform="translate({:.1} {ty:.1}) rotate(-90)" font-size="9" text-anchor="{anchor}">{r:.2}</text>"#,
                    x + BAR / 2.0 + 3.0
                );
            }
        }
        if let (Some(r), Some(name)) = (group.marker, marker) {
            let title = format!(
                "<title>{}: {} {r:.2}×</title>",
                escape(&group.label),
                escape(name)
            );
            let _ = writeln!(s, "{}", diamond(x0 + (BAR - 1.0) / 2.0, y(r), &title));
        }
        let cx = x0 + series.len() as f64 * BAR / 2.0;
        let _ = writeln!(
            s,
            r#"<text transform="translate({cx:.1} {:.1}) rotate(-60)" text-anchor="end">{}</text>"#,
            TOP + PLOT_H + 12.0,
            escape(&group.label)
        );
    }
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{one:.1}" x2="{:.1}" y2="{one:.1}" stroke="black" stroke-width="1.5" stroke-dasharray="5,3"/>"#,
        LEFT + plot_w
    );
    s.push_str("</svg>\n");
    s
}

/// A black diamond with a white edge centred on (`x`, `y`), visible on a bar and off it, with
/// `inner` (its tooltip) inside.
fn diamond(x: f64, y: f64, inner: &str) -> String {
    format!(
        r#"<polygon points="{:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1}" fill="black" stroke="white" stroke-width="1">{inner}</polygon>"#,
        x - MARK,
        y - MARK,
        x + MARK,
        y + MARK
    )
}

/// `0.1`, `0.5`, `1`, `20`, `1000`, `10⁴`.
fn fmt_ratio(r: f64) -> String {
    if r >= 1e4 {
        let e = r.log10().round() as i32;
        let sup: String = e
            .to_string()
            .chars()
            .map(|c| "⁰¹²³⁴⁵⁶⁷⁸⁹".chars().nth(c as usize - '0' as usize).unwrap())
            .collect();
        let m = r / 10f64.powi(e);
        if (m - 1.0).abs() < 1e-9 {
            format!("10{sup}")
        } else {
            format!("{m:.0}·10{sup}")
        }
    } else if r >= 1.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_bar_per_ratio_and_the_1x_line() {
        let groups = vec![
            Group {
                label: "lsq n=20".into(),
                ratios: vec![Some(1.2), None, Some(0.8)],
                marker: None,
            },
            Group {
                label: "a<b".into(),
                ratios: vec![Some(3000.0), Some(2.0), None],
                marker: None,
            },
        ];
        let out = svg("t", &["matgrad", "num-dual", "FD"], None, &groups);
        assert_eq!(out.matches("<title>").count(), 4);
        assert!(!out.contains("<polygon"));
        assert!(out.contains("a&lt;b"));
        assert!(out.contains("10⁴×"), "{out}");
        assert!(out.contains("0.1×"));
        assert!(out.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn draws_a_marker_per_figure_and_one_in_the_legend() {
        let groups = vec![
            Group {
                label: "lsq n=2000".into(),
                ratios: vec![Some(1.0), Some(100.0)],
                marker: Some(0.04),
            },
            Group {
                label: "lsq n=20".into(),
                ratios: vec![Some(1.1), Some(50.0)],
                marker: None,
            },
        ];
        let out = svg(
            "t",
            &["matgrad", "FD"],
            Some("matgrad, every core"),
            &groups,
        );
        assert_eq!(out.matches("<polygon").count(), 2, "{out}");
        assert!(out.contains("<title>lsq n=2000: matgrad, every core 0.04×</title></polygon>"));
        // The axis reaches down to the marker: 0.04× is below the bars' 1×.
        assert!(out.contains("0.01×"), "{out}");
    }
}
