//! A small hand-written SVG writer: line charts over categories (throughput vs concurrency)
//! and grouped bar charts (latency percentiles), linear or log10 y axis. No plotting crate:
//! the charts need axes, ticks, a legend and two mark types, nothing more.

use std::fmt::Write as _;

const W: f64 = 820.0;
const H: f64 = 460.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 210.0;
const TOP: f64 = 46.0;
const BOTTOM: f64 = 56.0;
const COLORS: [&str; 8] =
    ["#d62728", "#ff7f0e", "#1f77b4", "#17becf", "#2ca02c", "#7f7f7f", "#9467bd", "#8c564b"];

/// One named series: a value per category (missing values are skipped), with an optional
/// min–max range per category drawn as a whisker.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub ranges: Vec<Option<(f64, f64)>>,
}

/// Labels and scale of a chart.
#[derive(Debug, Clone)]
pub struct Axes<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub categories: &'a [String],
    pub log_y: bool,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Maps values to the plot's y coordinate.
struct YScale {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
}

impl YScale {
    fn new(values: impl Iterator<Item = f64>, log: bool) -> YScale {
        let vals: Vec<f64> = values.filter(|v| v.is_finite() && (!log || *v > 0.0)).collect();
        let max = vals.iter().copied().fold(f64::MIN, f64::max);
        let min = vals.iter().copied().fold(f64::MAX, f64::min);
        if vals.is_empty() {
            return YScale { lo: 0.0, hi: 1.0, log: false, ticks: vec![0.0, 1.0] };
        }
        if log {
            let lo = 10f64.powf(min.log10().floor());
            let mut hi = 10f64.powf(max.log10().ceil());
            if hi <= lo {
                hi = lo * 10.0;
            }
            let mut ticks = Vec::new();
            let mut t = lo;
            while t <= hi * 1.0001 {
                ticks.push(t);
                t *= 10.0;
            }
            return YScale { lo, hi, log, ticks };
        }
        let raw = if max > 0.0 { max / 5.0 } else { 1.0 };
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(mag * 10.0);
        let hi = (max / step).ceil().max(1.0) * step;
        let ticks = (0..=((hi / step).round() as usize)).map(|i| i as f64 * step).collect();
        YScale { lo: 0.0, hi, log, ticks }
    }

    fn y(&self, v: f64) -> f64 {
        let f = if self.log {
            (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        TOP + (H - TOP - BOTTOM) * (1.0 - f.clamp(0.0, 1.0))
    }
}

/// Axis-tick text: 1.2M, 350k, 12, 0.5.
fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// The frame, title, axes, grid and legend shared by both chart kinds.
fn frame(out: &mut String, axes: &Axes<'_>, scale: &YScale, series: &[Series]) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">{}</text>\n",
        (LEFT + W - RIGHT) / 2.0,
        esc(axes.title)
    );
    for &t in &scale.ticks {
        let y = scale.y(t);
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            short(t)
        );
    }
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let _ = writeln!(
        out,
        "<polyline points=\"{x0},{y0} {x0},{y1} {x1},{y1}\" fill=\"none\" stroke=\"#333\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n\
         <text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}{}</text>",
        (x0 + x1) / 2.0,
        H - 14.0,
        esc(axes.x_label),
        (y0 + y1) / 2.0,
        esc(axes.y_label),
        if scale.log { " (log scale)" } else { "" }
    );
    for (i, s) in series.iter().enumerate() {
        let y = TOP + 10.0 + i as f64 * 20.0;
        let x = W - RIGHT + 16.0;
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"14\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{:.1}\">{}</text>",
            y - 9.0,
            COLORS[i % COLORS.len()],
            x + 20.0,
            y,
            esc(&s.name)
        );
    }
}

fn category_x(i: usize, n: usize) -> f64 {
    let width = W - LEFT - RIGHT;
    LEFT + width * (i as f64 + 0.5) / n.max(1) as f64
}

/// The name of category `i` of `n` under the x axis.
fn category_label(out: &mut String, i: usize, n: usize, name: &str) {
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        category_x(i, n),
        H - BOTTOM + 18.0,
        esc(name)
    );
}

/// A line per series over the categories, with min–max whiskers.
pub fn line_chart(axes: &Axes<'_>, series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| {
        s.values.iter().flatten().copied().chain(s.ranges.iter().flatten().flat_map(|r| [r.0, r.1]))
    });
    let scale = YScale::new(all, axes.log_y);
    let mut out = String::new();
    frame(&mut out, axes, &scale, series);
    let n = axes.categories.len();
    for (i, c) in axes.categories.iter().enumerate() {
        category_label(&mut out, i, n, c);
    }
    for (k, s) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let pts: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", category_x(i, n), scale.y(v))))
            .collect();
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
            pts.join(" ")
        );
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let x = category_x(i, n);
            if let Some(Some((lo, hi))) = s.ranges.get(i) {
                let _ = writeln!(
                    out,
                    "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{color}\"/>",
                    scale.y(*lo),
                    scale.y(*hi)
                );
            }
            let _ = writeln!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"><title>{}: {}</title></circle>",
                scale.y(*v),
                esc(&s.name),
                short(*v)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Grouped bars: one group per category, one bar per series.
pub fn bar_chart(axes: &Axes<'_>, series: &[Series]) -> String {
    let scale =
        YScale::new(series.iter().flat_map(|s| s.values.iter().flatten().copied()), axes.log_y);
    let mut out = String::new();
    frame(&mut out, axes, &scale, series);
    let n = axes.categories.len();
    let group_w = (W - LEFT - RIGHT) / n.max(1) as f64;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    let base = scale.y(scale.lo);
    for (i, c) in axes.categories.iter().enumerate() {
        let gx = LEFT + group_w * i as f64 + group_w * 0.1;
        category_label(&mut out, i, n, c);
        for (k, s) in series.iter().enumerate() {
            let Some(Some(v)) = s.values.get(i) else { continue };
            let y = scale.y(*v);
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\">\
                 <title>{} {}: {}</title></rect>",
                gx + bar_w * k as f64,
                (bar_w - 1.0).max(1.0),
                (base - y).max(0.5),
                COLORS[k % COLORS.len()],
                esc(&s.name),
                esc(c),
                short(*v)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Vec<Series> {
        vec![Series {
            name: "a<b".into(),
            values: vec![Some(10.0), None, Some(2500.0)],
            ranges: vec![Some((8.0, 12.0)), None, None],
        }]
    }

    #[test]
    fn charts_are_well_formed() {
        let cats: Vec<String> = ["1", "8", "64"].iter().map(|s| s.to_string()).collect();
        for log_y in [false, true] {
            let axes = Axes { title: "t", x_label: "x", y_label: "y", categories: &cats, log_y };
            for svg in [line_chart(&axes, &series()), bar_chart(&axes, &series())] {
                assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
                assert!(svg.contains("a&lt;b"), "text is escaped");
                assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
            }
        }
    }

    #[test]
    fn linear_ticks_cover_the_maximum() {
        let s = YScale::new([3.0, 1234.0].into_iter(), false);
        assert!(s.hi >= 1234.0 && s.ticks.len() <= 7, "{:?}", s.ticks);
        let l = YScale::new([3.0, 1234.0].into_iter(), true);
        assert_eq!((l.lo, l.hi), (1.0, 10000.0));
    }
}
