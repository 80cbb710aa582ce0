//! Line charts as standalone SVG files, written without any plotting or XML library.
//!
//! A [`Chart`] is one panel: axes with ticks and labels, a legend, and one polyline per
//! [`Series`]. A [`Figure`] stacks several panels in one file (for example the training loss
//! above the test accuracy). The output is a pure function of the input: every number is
//! printed with a fixed precision and the logarithms are computed here with IEEE basic
//! operations only, so the same chart gives the same bytes on every platform.
//!
//! Writing never replaces a file silently: [`write_svg`] and [`write_figure_svg`] refuse an
//! existing target (an [`io::ErrorKind::AlreadyExists`] error); [`save`] with
//! `overwrite = true` replaces it. Either way the text goes to a temporary file in the same
//! folder first and takes the target's name only when complete, so a failed write never
//! leaves a half-written plot behind.

use crate::train::EpochStats;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// `(x, y)` in drawing order. Non-finite points are left out (and counted in a note).
    pub points: Vec<(f64, f64)>,
}

/// One panel: a title, labelled axes, a legend and its series.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Logarithmic y axis (decades). Values ≤ 0 have no logarithm: they are drawn on a row
    /// of their own, labelled "≤ 0", below the lowest decade, and a note says so.
    pub log_y: bool,
    pub series: Vec<Series>,
}

/// Several charts stacked vertically in one file, under a common title.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// Empty for none.
    pub title: String,
    pub panels: Vec<Chart>,
}

/// Distinct colours (colour-blind-safe where possible); series beyond them repeat the
/// colours with dashes.
const COLOURS: [&str; 8] = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#999999"];
const DASHES: [&str; 3] = ["", "6 3", "2 3"];

const WIDTH: f64 = 800.0;
const PLOT_LEFT: f64 = 90.0;
const PLOT_WIDTH: f64 = 510.0;
const LEGEND_LEFT: f64 = 620.0;
const PANEL_TITLE_HEIGHT: f64 = 40.0;
const PLOT_HEIGHT: f64 = 240.0;
const PANEL_BOTTOM: f64 = 56.0;
const PANEL_HEIGHT: f64 = PANEL_TITLE_HEIGHT + PLOT_HEIGHT + PANEL_BOTTOM;
const FIGURE_TITLE_HEIGHT: f64 = 36.0;
/// The row for values ≤ 0 under a logarithmic axis.
const ZERO_ROW: f64 = 30.0;
/// Series with at most this many drawn points also get a dot on each point.
const MAX_MARKED_POINTS: usize = 60;
/// Legend names longer than this many characters are cut.
const MAX_NAME_CHARS: usize = 32;
/// Values beyond this magnitude are not drawn (their differences would overflow).
const MAX_MAGNITUDE: f64 = 1e300;

/// The chart as a standalone SVG document.
pub fn render_svg(chart: &Chart) -> String {
    render("", std::slice::from_ref(chart))
}

/// The figure as a standalone SVG document, its panels stacked top to bottom.
pub fn render_figure_svg(figure: &Figure) -> String {
    render(&figure.title, &figure.panels)
}

/// Writes the chart to `path`; refuses (AlreadyExists) if `path` exists.
pub fn write_svg(path: &Path, chart: &Chart) -> io::Result<()> {
    save(path, &render_svg(chart), false)
}

/// Writes the figure to `path`; refuses (AlreadyExists) if `path` exists.
pub fn write_figure_svg(path: &Path, figure: &Figure) -> io::Result<()> {
    save(path, &render_figure_svg(figure), false)
}

/// Writes `text` to `path` through a temporary file in the same folder. Without `overwrite`
/// an existing `path` is refused with [`io::ErrorKind::AlreadyExists`] and left untouched.
pub fn save(path: &Path, text: &str, overwrite: bool) -> io::Result<()> {
    if !overwrite && fs::symlink_metadata(path).is_ok() {
        return Err(already_exists());
    }
    let file_name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (tmp, mut file) = temporary_file(&dir, &file_name.to_string_lossy())?;
    let written = file.write_all(text.as_bytes()).and_then(|()| file.sync_all());
    drop(file);
    let placed = written.and_then(|()| if overwrite { fs::rename(&tmp, path) } else { link_new(&tmp, path) });
    // After a rename the temporary name is gone; after a link or a failure it must go.
    let _ = fs::remove_file(&tmp);
    placed
}

/// Gives `tmp` the name `path` only if nothing has that name. A hard link does this in one
/// step; where the file system has no hard links, a check and a rename do it.
fn link_new(tmp: &Path, path: &Path) -> io::Result<()> {
    match fs::hard_link(tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(already_exists()),
        Err(_) if fs::symlink_metadata(path).is_ok() => Err(already_exists()),
        Err(_) => fs::rename(tmp, path),
    }
}

/// One line for the command line about a [`save`] that failed: an existing file is named as
/// kept, with the flag that would replace it.
pub fn save_error(path: &Path, e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::AlreadyExists {
        format!("{} already exists and was left as it was (pass --overwrite to replace it)", path.display())
    } else {
        format!("cannot write {}: {e}", path.display())
    }
}

fn already_exists() -> io::Error {
    io::Error::new(io::ErrorKind::AlreadyExists, "the file already exists")
}

/// A new file `.NAME.N.tmp` in `dir`, for the first N not taken.
fn temporary_file(dir: &Path, name: &str) -> io::Result<(PathBuf, fs::File)> {
    let mut n = 0u32;
    loop {
        let tmp = dir.join(format!(".{name}.{n}.tmp"));
        match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The two panels `samebits train --plot` draws: mean training loss and test accuracy (in
/// percent) per epoch.
pub fn training_figure(title: &str, epochs: &[EpochStats]) -> Figure {
    let series = |name: &str, y: &dyn Fn(&EpochStats) -> f64| Series {
        name: name.to_string(),
        points: epochs.iter().map(|e| (f64::from(e.epoch), y(e))).collect(),
    };
    Figure {
        title: title.to_string(),
        panels: vec![
            Chart {
                title: "Training loss per epoch".to_string(),
                x_label: "epoch".to_string(),
                y_label: "mean batch loss".to_string(),
                log_y: false,
                series: vec![series("training loss", &|e| e.train_loss)],
            },
            Chart {
                title: "Test accuracy per epoch".to_string(),
                x_label: "epoch".to_string(),
                y_label: "test accuracy (%)".to_string(),
                log_y: false,
                series: vec![series("test accuracy", &|e| 100.0 * e.test_accuracy)],
            },
        ],
    }
}

fn render(title: &str, panels: &[Chart]) -> String {
    let top = if title.is_empty() { 0.0 } else { FIGURE_TITLE_HEIGHT };
    let height = top + PANEL_HEIGHT * panels.len().max(1) as f64;
    let mut svg = String::new();
    svg.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">",
        w = num(WIDTH),
        h = num(height)
    );
    let doc_title = if title.is_empty() { panels.first().map_or("", |c| c.title.as_str()) } else { title };
    let _ = writeln!(svg, "<title>{}</title>", escape(doc_title));
    svg.push_str("<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    if !title.is_empty() {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{}</text>",
            num(WIDTH / 2.0),
            escape(title)
        );
    }
    for (i, chart) in panels.iter().enumerate() {
        panel(&mut svg, chart, top + PANEL_HEIGHT * i as f64);
    }
    svg.push_str("</svg>\n");
    svg
}

/// A number as SVG coordinates print it: two decimals, never "-0.00" or a non-finite value.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v.clamp(-1e6, 1e6) } else { 0.0 };
    let s = format!("{v:.2}");
    let s = if s == "-0.00" { "0.00".to_string() } else { s };
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Text for XML content and attribute values. Characters XML 1.0 does not allow become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// How a value maps to a position along one axis, and where its ticks go.
struct Axis {
    /// Ticks as (value, label).
    ticks: Vec<(f64, String)>,
    log: bool,
    /// Linear: the value range; logarithmic: the decade range (powers of ten).
    lo: f64,
    hi: f64,
}

impl Axis {
    /// Fraction 0..1 along the axis; `None` for a value ≤ 0 on a logarithmic axis.
    fn fraction(&self, v: f64) -> Option<f64> {
        if self.log {
            (v > 0.0).then(|| (log10(v) - self.lo) / (self.hi - self.lo))
        } else {
            Some((v - self.lo) / (self.hi - self.lo))
        }
    }
}

/// 10^k, exactly for k ≥ 0 up to 22 and correctly rounded below; without a platform `powi`.
fn pow10(k: i32) -> f64 {
    let mut p = 1.0f64;
    for _ in 0..k.unsigned_abs().min(400) {
        p *= 10.0;
    }
    if k < 0 {
        1.0 / p
    } else {
        p
    }
}

/// The largest k with 10^k ≤ x (x > 0).
fn decade_floor(x: f64) -> i32 {
    let mut k = 0;
    while k > -330 && pow10(k) > x {
        k -= 1;
    }
    while k < 310 && pow10(k + 1) <= x {
        k += 1;
    }
    k
}

/// log10 from IEEE basic operations only, so that positions are the same on every platform
/// (a C library's `log10` may differ in the last bit). Accurate to a few ulp; `x` > 0.
fn log10(x: f64) -> f64 {
    const LN_2: f64 = std::f64::consts::LN_2;
    const LN_10: f64 = std::f64::consts::LN_10;
    let (x, mut e) = if x < f64::MIN_POSITIVE { (x * 18014398509481984.0, -54) } else { (x, 0) };
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln m = 2 atanh(s), |s| ≤ 0.172, so 12 odd terms reach below 1e-18.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    for j in 0..12 {
        sum += term / f64::from(2 * j + 1);
        term *= s2;
    }
    (f64::from(e) * LN_2 + 2.0 * sum) / LN_10
}

/// `n`·10^`k` written out exactly: plain decimals for moderate `k`, otherwise scientific.
fn decimal_label(n: i64, k: i32) -> String {
    if n == 0 {
        // Zero with as many decimals as its neighbours: 0.0, 0.5, 1.0.
        return if (-5..0).contains(&k) { format!("0.{}", "0".repeat(-k as usize)) } else { "0".to_string() };
    }
    let sign = if n < 0 { "-" } else { "" };
    let digits = n.unsigned_abs().to_string();
    let exponent = k + digits.len() as i32 - 1;
    if (-5..=6).contains(&exponent) {
        if k >= 0 {
            format!("{sign}{digits}{}", "0".repeat(k as usize))
        } else {
            let point = -k as usize;
            let padded = format!("{}{digits}", "0".repeat((point + 1).saturating_sub(digits.len())));
            let (int, frac) = padded.split_at(padded.len() - point);
            format!("{sign}{int}.{frac}")
        }
    } else {
        let mantissa = digits.trim_end_matches('0');
        let (first, rest) = mantissa.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        format!("{sign}{first}{dot}{rest}e{exponent}")
    }
}

/// A linear axis over `lo..=hi` extended to round tick values about a fifth of the range apart.
fn linear_axis(lo: f64, hi: f64) -> Axis {
    let (mut lo, mut hi) = (lo, hi);
    let scale = lo.abs().max(hi.abs());
    if hi - lo <= scale * 1e-9 {
        let mid = lo / 2.0 + hi / 2.0;
        let pad = if mid == 0.0 { 1.0 } else { mid.abs() / 10.0 };
        (lo, hi) = (mid - pad, mid + pad);
    }
    let raw = (hi - lo) / 5.0;
    let mut k = decade_floor(raw);
    let base = pow10(k);
    let m: i64 = if raw <= base {
        1
    } else if raw <= 2.0 * base {
        2
    } else if raw <= 5.0 * base {
        5
    } else {
        k += 1;
        1
    };
    let at = |i: i64| if k >= 0 { (i * m) as f64 * pow10(k) } else { (i * m) as f64 / pow10(-k) };
    let step = if k >= 0 { m as f64 * pow10(k) } else { m as f64 / pow10(-k) };
    // The tolerance keeps a bound that is a tick value, like 0.6 / 0.2 = 2.9999999999999996,
    // from gaining a tick beyond it.
    let first = (lo / step + 1e-9).floor() as i64;
    let last = ((hi / step - 1e-9).ceil() as i64).max(first + 1).min(first + 50);
    let ticks = (first..=last).map(|i| (at(i), decimal_label(i * m, k))).collect();
    Axis { ticks, log: false, lo: at(first), hi: at(last) }
}

/// A logarithmic axis over whole decades covering the positive values `lo..=hi`.
fn log_axis(lo: f64, hi: f64) -> Axis {
    let first = decade_floor(lo);
    let mut last = decade_floor(hi);
    if pow10(last) < hi || last == first {
        last += 1;
    }
    let every = ((last - first) as usize).div_ceil(10).max(1);
    // One style for the whole axis: 0.001 … 10000, or 1e-5 … 1e7.
    let plain = first >= -3 && last <= 4;
    let label = |k: i32| if plain { decimal_label(1, k) } else { format!("1e{k}") };
    let ticks = (first..=last).step_by(every).map(|k| (pow10(k), label(k))).collect();
    Axis { ticks, log: true, lo: f64::from(first), hi: f64::from(last) }
}

fn drawable(v: f64) -> bool {
    v.is_finite() && v.abs() <= MAX_MAGNITUDE
}

fn panel(svg: &mut String, chart: &Chart, top: f64) {
    let plot_top = top + PANEL_TITLE_HEIGHT;
    let plot_bottom = plot_top + PLOT_HEIGHT;
    let plot_right = PLOT_LEFT + PLOT_WIDTH;
    let points: Vec<(f64, f64)> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|&(x, y)| drawable(x) && drawable(y))
        .collect();
    let skipped = chart.series.iter().map(|s| s.points.len()).sum::<usize>() - points.len();
    let min_max = |vs: &mut dyn Iterator<Item = f64>| {
        vs.fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
    };
    let (x_lo, x_hi) = min_max(&mut points.iter().map(|p| p.0)).unwrap_or((0.0, 1.0));
    let x_axis = linear_axis(x_lo, x_hi);
    let non_positive = chart.log_y && points.iter().any(|p| p.1 <= 0.0);
    let y_axis = if chart.log_y {
        let (lo, hi) = min_max(&mut points.iter().map(|p| p.1).filter(|&y| y > 0.0)).unwrap_or((1.0, 10.0));
        log_axis(lo, hi)
    } else {
        let (lo, hi) = min_max(&mut points.iter().map(|p| p.1)).unwrap_or((0.0, 1.0));
        linear_axis(lo, hi)
    };
    // Under a log axis, values ≤ 0 get the bottom row and the decades the space above it.
    let decades_bottom = if non_positive { plot_bottom - ZERO_ROW } else { plot_bottom };
    let px = |x: f64| PLOT_LEFT + x_axis.fraction(x).unwrap_or(0.0) * PLOT_WIDTH;
    let py = |y: f64| match y_axis.fraction(y) {
        Some(f) => decades_bottom - f * (decades_bottom - plot_top),
        None => plot_bottom - ZERO_ROW / 2.0,
    };

    let _ = writeln!(svg, "<g>");
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        num(PLOT_LEFT + PLOT_WIDTH / 2.0),
        num(top + 18.0),
        escape(&chart.title)
    );
    let mut notes = Vec::new();
    if non_positive {
        notes.push("values ≤ 0 (no logarithm) are drawn on the bottom row, marked ≤ 0".to_string());
    }
    if skipped > 0 {
        notes.push(format!("{skipped} non-finite or out-of-range points not drawn"));
    }
    if !notes.is_empty() {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555555\">{}</text>",
            num(PLOT_LEFT + PLOT_WIDTH / 2.0),
            num(top + 34.0),
            escape(&notes.join("; "))
        );
    }
    // Grid lines and tick labels.
    for (value, label) in &x_axis.ticks {
        let x = num(px(*value));
        let _ = writeln!(
            svg,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#e0e0e0\"/>",
            num(plot_top),
            num(plot_bottom)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            num(plot_bottom + 16.0),
            escape(label)
        );
    }
    let mut y_ticks: Vec<(f64, String)> = y_axis.ticks.iter().map(|(v, l)| (py(*v), l.clone())).collect();
    if non_positive {
        y_ticks.push((py(0.0), "≤ 0".to_string()));
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#999999\" stroke-dasharray=\"4 3\"/>",
            num(PLOT_LEFT),
            num(plot_right),
            y = num(decades_bottom)
        );
    }
    for (y, label) in &y_ticks {
        let y = num(*y);
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#e0e0e0\"/>",
            num(PLOT_LEFT),
            num(plot_right)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
            num(PLOT_LEFT - 6.0),
            escape(label)
        );
    }
    let _ = writeln!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333333\"/>",
        num(PLOT_LEFT),
        num(plot_top),
        num(PLOT_WIDTH),
        num(PLOT_HEIGHT)
    );
    // Axis labels.
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        num(PLOT_LEFT + PLOT_WIDTH / 2.0),
        num(plot_bottom + 38.0),
        escape(&chart.x_label)
    );
    let (lx, ly) = (num(20.0), num(plot_top + PLOT_HEIGHT / 2.0));
    let _ = writeln!(
        svg,
        "<text x=\"{lx}\" y=\"{ly}\" text-anchor=\"middle\" transform=\"rotate(-90 {lx} {ly})\">{}</text>",
        escape(&chart.y_label)
    );
    // Series and legend.
    for (i, series) in chart.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let dash = DASHES[(i / COLOURS.len()) % DASHES.len()];
        let dash_attr = if dash.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{dash}\"") };
        let drawn: Vec<(String, String)> = series
            .points
            .iter()
            .filter(|&&(x, y)| drawable(x) && drawable(y))
            .map(|&(x, y)| (num(px(x)), num(py(y))))
            .collect();
        let coords: Vec<String> = drawn.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash_attr} points=\"{}\"><title>{}</title></polyline>",
            coords.join(" "),
            escape(&series.name)
        );
        if drawn.len() <= MAX_MARKED_POINTS {
            for (x, y) in &drawn {
                let _ = writeln!(svg, "<circle cx=\"{x}\" cy=\"{y}\" r=\"2.5\" fill=\"{colour}\"/>");
            }
        }
        let ly = plot_top + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"2\"{dash_attr}/>",
            num(LEGEND_LEFT),
            num(LEGEND_LEFT + 24.0),
            y = num(ly)
        );
        let mut name: String = series.name.chars().take(MAX_NAME_CHARS).collect();
        if series.name.chars().count() > MAX_NAME_CHARS {
            name.push('…');
        }
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" dominant-baseline=\"middle\">{}</text>",
            num(LEGEND_LEFT + 30.0),
            num(ly),
            escape(&name)
        );
    }
    let _ = writeln!(svg, "</g>");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks what this module's output must be: one root element, balanced tags, quoted
    /// attributes without duplicates, known entities only, no markup characters in text.
    /// Stricter than XML (no comments, CDATA or processing instructions after the prolog).
    pub(crate) fn well_formed(doc: &str) -> Result<(), String> {
        let mut rest = doc.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").ok_or("no XML declaration")?;
        let mut open: Vec<&str> = Vec::new();
        let mut roots = 0;
        while let Some(lt) = rest.find('<') {
            let text = &rest[..lt];
            if open.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root element: {text:?}"));
            }
            check_text(text)?;
            let gt = rest[lt..].find('>').ok_or("unterminated tag")? + lt;
            let tag = &rest[lt + 1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(top) if top == name => {}
                    top => return Err(format!("</{name}> closes {top:?}")),
                }
                continue;
            }
            if open.is_empty() {
                roots += 1;
            }
            let (body, empty) = match tag.strip_suffix('/') {
                Some(body) => (body, true),
                None => (tag, false),
            };
            let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
            let name = &body[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':') {
                return Err(format!("bad element name in <{tag}>"));
            }
            check_attributes(&body[name_end..])?;
            if !empty {
                open.push(name);
            }
        }
        if !rest.trim().is_empty() {
            return Err(format!("text after the root element: {rest:?}"));
        }
        match (open.last(), roots) {
            (Some(name), _) => Err(format!("<{name}> is never closed")),
            (None, 1) => Ok(()),
            (None, n) => Err(format!("{n} root elements")),
        }
    }

    fn check_attributes(mut s: &str) -> Result<(), String> {
        let mut seen = Vec::new();
        loop {
            s = s.trim_start();
            if s.is_empty() {
                return Ok(());
            }
            let eq = s.find('=').ok_or_else(|| format!("attribute without a value: {s:?}"))?;
            let name = &s[..eq];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':') {
                return Err(format!("bad attribute name {name:?}"));
            }
            if seen.contains(&name) {
                return Err(format!("duplicate attribute {name}"));
            }
            seen.push(name);
            let value = s[eq + 1..].strip_prefix('"').ok_or_else(|| format!("unquoted attribute {name}"))?;
            let end = value.find('"').ok_or_else(|| format!("unterminated attribute {name}"))?;
            check_text(&value[..end])?;
            s = &value[end + 1..];
            if !s.is_empty() && !s.starts_with(char::is_whitespace) {
                return Err(format!("no space after attribute {name}"));
            }
        }
    }

    fn check_text(text: &str) -> Result<(), String> {
        if text.contains('<') || text.contains('>') || text.contains('"') {
            return Err(format!("unescaped markup character in {text:?}"));
        }
        if let Some(c) = text.chars().find(|&c| (c as u32) < 0x20 && c != '\n') {
            return Err(format!("control character {:?} in {text:?}", c));
        }
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            let known = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| entity.starts_with(e));
            if !known {
                return Err(format!("unknown entity in {text:?}"));
            }
        }
        Ok(())
    }

    fn series(name: &str, points: &[(f64, f64)]) -> Series {
        Series { name: name.to_string(), points: points.to_vec() }
    }

    fn chart(log_y: bool, series: Vec<Series>) -> Chart {
        Chart { title: "t".to_string(), x_label: "x".to_string(), y_label: "y".to_string(), log_y, series }
    }

    /// The `points` attribute of each polyline, split into coordinate pairs.
    fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
        svg.lines()
            .filter(|l| l.starts_with("<polyline"))
            .map(|l| {
                let start = l.find("points=\"").unwrap() + 8;
                let end = start + l[start..].find('"').unwrap();
                l[start..end]
                    .split_whitespace()
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_checker_rejects_malformed_documents() {
        let ok =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg a=\"1\"><g><line/></g><text>x &amp; y</text></svg>\n";
        assert_eq!(well_formed(ok), Ok(()));
        for bad in [
            "<svg><g></svg>",
            "<svg></g>",
            "<svg a=1></svg>",
            "<svg a=\"1\" a=\"2\"></svg>",
            "<svg>x & y</svg>",
            "<svg>x < y</svg>",
            "<svg></svg><svg></svg>",
            "<svg><text>a\u{1}</text></svg>",
            "<svg>",
        ] {
            let doc = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{bad}\n");
            assert!(well_formed(&doc).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_figure_is_well_formed_with_both_panels() {
        let epochs: Vec<EpochStats> = (1..=3)
            .map(|e| EpochStats {
                epoch: e,
                train_loss: 1.0 / f64::from(e),
                test_accuracy: 0.8 + 0.01 * f64::from(e),
                saturations: 0,
            })
            .collect();
        let figure = training_figure("run", &epochs);
        let svg = render_figure_svg(&figure);
        well_formed(&svg).unwrap();
        assert!(svg.contains(">Training loss per epoch</text>"), "{svg}");
        assert!(svg.contains(">Test accuracy per epoch</text>"), "{svg}");
        let lines = polylines(&svg);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() == 3));
        // The loss falls, so its line rises on the page (y grows downwards).
        assert!(lines[0][0].1 < lines[0][2].1, "{:?}", lines[0]);
        assert!(lines[1][0].1 > lines[1][2].1, "{:?}", lines[1]);
    }

    #[test]
    fn points_land_where_the_axes_say() {
        let svg = render_svg(&chart(false, vec![series("a", &[(0.0, 0.0), (10.0, 100.0)])]));
        let (left, right) = (PLOT_LEFT, PLOT_LEFT + PLOT_WIDTH);
        let (top, bottom) = (PANEL_TITLE_HEIGHT, PANEL_TITLE_HEIGHT + PLOT_HEIGHT);
        assert_eq!(polylines(&svg), vec![vec![(left, bottom), (right, top)]]);
        for label in ["0", "20", "40", "60", "80", "100", "2", "4", "6", "8", "10"] {
            assert!(svg.contains(&format!(">{label}</text>")), "tick {label}: {svg}");
        }
    }

    #[test]
    fn ticks_are_round_values() {
        let labels = |a: Axis| a.ticks.into_iter().map(|t| t.1).collect::<Vec<_>>();
        assert_eq!(labels(linear_axis(1.0, 2.0)), ["1.0", "1.2", "1.4", "1.6", "1.8", "2.0"]);
        assert_eq!(labels(linear_axis(1.0, 20.0)), ["0", "5", "10", "15", "20"]);
        assert_eq!(labels(linear_axis(0.03, 0.97)), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(labels(linear_axis(-3.0, 3.0)), ["-4", "-2", "0", "2", "4"]);
        // A constant gets a range around it.
        assert_eq!(labels(linear_axis(5.0, 5.0)), ["4.4", "4.6", "4.8", "5.0", "5.2", "5.4", "5.6"]);
        assert_eq!(labels(linear_axis(0.0, 0.0)), ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        assert_eq!(labels(linear_axis(0.2, 0.6)), ["0.2", "0.3", "0.4", "0.5", "0.6"]);
        assert_eq!(labels(log_axis(3.0, 2000.0)), ["1", "10", "100", "1000", "10000"]);
        assert_eq!(labels(log_axis(1.0, 1.0)), ["1", "10"]);
        assert_eq!(labels(log_axis(0.5, 2e6)), ["1e-1", "1e0", "1e1", "1e2", "1e3", "1e4", "1e5", "1e6", "1e7"]);
        assert_eq!(labels(log_axis(1e-30, 1.0)).len(), 11);
    }

    #[test]
    fn labels_are_exact_decimals() {
        assert_eq!(decimal_label(15, -1), "1.5");
        assert_eq!(decimal_label(-5, -2), "-0.05");
        assert_eq!(decimal_label(3, 2), "300");
        assert_eq!(decimal_label(25, -9), "2.5e-8");
        assert_eq!(decimal_label(1, 7), "1e7");
        assert_eq!(decimal_label(0, -2), "0.00");
        assert_eq!(decimal_label(0, 3), "0");
    }

    #[test]
    fn log10_matches_the_library_closely() {
        for x in [1e-310, 1e-300, 0.001, 0.5, 1.0, 2.0, 3.0, 7.5, 10.0, 1234.5, 1e100, f64::MAX] {
            let (ours, theirs) = (log10(x), x.log10());
            assert!((ours - theirs).abs() <= 1e-14 * theirs.abs().max(1.0), "{x}: {ours} vs {theirs}");
        }
        for k in -300..=300 {
            assert_eq!(decade_floor(pow10(k)), k, "10^{k}");
        }
    }

    #[test]
    fn a_log_axis_draws_zeros_on_their_own_row() {
        let svg =
            render_svg(&chart(true, vec![series("max ulp", &[(1.0, 0.0), (2.0, 3.0), (3.0, 1000.0), (4.0, -1.0)])]));
        well_formed(&svg).unwrap();
        assert!(svg.contains(">≤ 0</text>"), "{svg}");
        assert!(svg.contains("values ≤ 0 (no logarithm) are drawn on the bottom row"), "{svg}");
        let line = &polylines(&svg)[0];
        assert_eq!(line.len(), 4);
        let zero_row = PANEL_TITLE_HEIGHT + PLOT_HEIGHT - ZERO_ROW / 2.0;
        assert_eq!((line[0].1, line[3].1), (zero_row, zero_row));
        // 3 and 1000 are above the row, on the decades 1..1000.
        assert!(line[1].1 < zero_row - ZERO_ROW / 2.0 && line[2].1 < line[1].1, "{line:?}");
        assert_eq!(line[2].1, PANEL_TITLE_HEIGHT);
        for label in ["1", "10", "100", "1000"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{svg}");
        }
        // Only zeros: still an axis, still a row for them.
        let svg = render_svg(&chart(true, vec![series("max ulp", &[(1.0, 0.0), (2.0, 0.0)])]));
        well_formed(&svg).unwrap();
        assert_eq!(polylines(&svg)[0], vec![(PLOT_LEFT, zero_row), (PLOT_LEFT + PLOT_WIDTH, zero_row)]);
        // Without zeros there is no such row.
        let svg = render_svg(&chart(true, vec![series("max ulp", &[(1.0, 1.0), (2.0, 10.0)])]));
        assert!(!svg.contains("≤ 0"), "{svg}");
    }

    #[test]
    fn text_is_escaped() {
        let mut c = chart(false, vec![series("<b>\"a\" & 'b'</b>\u{7}", &[(0.0, 1.0), (1.0, 2.0)])]);
        c.title = "loss < 1 & \"x\"".to_string();
        c.y_label = "</text><script>".to_string();
        let svg = render_figure_svg(&Figure { title: "a&b".to_string(), panels: vec![c] });
        well_formed(&svg).unwrap();
        assert!(svg.contains("&lt;b&gt;&quot;a&quot; &amp; &apos;b&apos;&lt;/b&gt;\u{fffd}"), "{svg}");
        assert!(svg.contains("loss &lt; 1 &amp; &quot;x&quot;"), "{svg}");
        assert!(svg.contains("&lt;/text&gt;&lt;script&gt;"), "{svg}");
        assert!(!svg.contains("<script>"), "{svg}");
    }

    #[test]
    fn output_is_deterministic_and_skips_non_finite_points() {
        let make = || {
            chart(
                false,
                (0..10)
                    .map(|i| {
                        let pts: Vec<(f64, f64)> =
                            (0..5).map(|j| (f64::from(j), f64::from(i * j) / 3.0)).chain([(5.0, f64::NAN)]).collect();
                        series(&format!("s{i}"), &pts)
                    })
                    .collect(),
            )
        };
        let (a, b) = (render_svg(&make()), render_svg(&make()));
        assert_eq!(a, b);
        well_formed(&a).unwrap();
        let lines = polylines(&a);
        assert_eq!(lines.len(), 10);
        assert!(lines.iter().all(|l| l.len() == 5));
        assert!(a.contains("10 non-finite or out-of-range points not drawn"), "{a}");
        // Ten series: the colours repeat, dashed.
        assert!(a.contains("stroke-dasharray=\"6 3\""), "{a}");
        assert!(!a.contains("NaN") && !a.contains("inf"), "{a}");
        // Empty charts and series still make valid documents.
        well_formed(&render_svg(&chart(false, vec![]))).unwrap();
        well_formed(&render_svg(&chart(true, vec![series("none", &[])]))).unwrap();
        well_formed(&render_figure_svg(&Figure { title: String::new(), panels: vec![] })).unwrap();
    }

    #[test]
    fn saving_refuses_an_existing_file_unless_told() {
        let dir = std::env::temp_dir().join(format!("samebits-plot-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.svg");
        let c = chart(false, vec![series("a", &[(0.0, 1.0)])]);
        write_svg(&path, &c).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), render_svg(&c));
        let e = write_svg(&path, &c).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        fs::write(&path, "mine").unwrap();
        assert!(write_figure_svg(&path, &Figure { title: String::new(), panels: vec![c.clone()] }).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "mine");
        save(&path, "new", true).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert!(write_svg(&dir.join("no-such-dir").join("b.svg"), &c).is_err());
        // Nothing but the plot is left behind.
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["a.svg"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
