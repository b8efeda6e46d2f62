//! Charts as data in, SVG or PNG bytes out (plotters).
//!
//! A [`Chart`] holds only the numbers to draw; [`svg`] renders it for the
//! panel (scales to any size) and [`png`] for export. Text in PNGs is drawn
//! with the DejaVu Sans font compiled into this crate from `assets/fonts`,
//! so rendering needs no system fonts; SVGs name the `sans-serif` family and
//! the viewer's font draws them.
//!
//! ```
//! use tablero_core::charts::{self, Chart, Series};
//! let roc = Chart::Roc {
//!     curves: vec![Series { name: "v1".into(), points: vec![(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)] }],
//! };
//! let svg = charts::svg(&roc).unwrap();
//! assert!(svg.starts_with("<svg") && svg.contains("v1"));
//! assert!(charts::png(&roc).unwrap().starts_with(b"\x89PNG"));
//! ```

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use serde::{Deserialize, Serialize};

use crate::drift::{DRIFT, WATCH};
use crate::error::{Error, Result};
use crate::train::metrics::Confusion;

/// Width and height of every chart, in SVG user units and PNG pixels.
pub const SIZE: (u32, u32) = (720, 420);

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register() {
    REGISTER.call_once(|| {
        // A failure leaves text undrawn in PNGs, never a crash.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A named line of (x, y) points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// Latency percentiles of one metrics window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyPoint {
    /// Window start, seconds since the Unix epoch.
    pub t: i64,
    /// Median, ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
}

/// Traffic of one metrics window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatePoint {
    /// Window start, seconds since the Unix epoch.
    pub t: i64,
    /// Requests in the window.
    pub requests: u64,
    /// Requests answered with an error.
    pub errors: u64,
}

/// Something to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Chart {
    /// ROC curves overlaid (one per model version), with the chance line.
    Roc {
        /// One curve per version: (false positive rate, true positive rate).
        curves: Vec<Series>,
    },
    /// Grouped bars: one group per candidate or version, one bar per metric.
    MetricBars {
        /// Title.
        title: String,
        /// Group names (candidates or versions).
        groups: Vec<String>,
        /// Metric name and its value for each group, in `groups` order.
        metrics: Vec<(String, Vec<f64>)>,
    },
    /// A 2×2 confusion matrix.
    Confusion {
        /// Title.
        title: String,
        /// The counts.
        matrix: Confusion,
    },
    /// Horizontal bars of feature importance, largest first.
    Importance {
        /// Title.
        title: String,
        /// Feature and importance.
        features: Vec<(String, f64)>,
    },
    /// Latency percentiles over time.
    Latency {
        /// One point per metrics window.
        points: Vec<LatencyPoint>,
    },
    /// Requests and errors per second over time.
    Requests {
        /// One point per metrics window.
        points: Vec<RatePoint>,
        /// Length of a window, seconds.
        interval_seconds: u32,
    },
    /// Score distribution: live traffic against the training baseline.
    Score {
        /// Bin edges (`bins + 1` values).
        edges: Vec<f64>,
        /// Share of live scores per bin.
        live: Vec<f64>,
        /// Share of training scores per bin.
        baseline: Vec<f64>,
    },
    /// Lines over time, one per series (x: seconds since the Unix epoch).
    TimeLines {
        /// Title.
        title: String,
        /// The lines.
        series: Vec<Series>,
    },
    /// PSI per feature (rows) and time window (columns).
    DriftHeatmap {
        /// Feature names.
        features: Vec<String>,
        /// Window starts, seconds since the Unix epoch.
        windows: Vec<i64>,
        /// `psi[feature][window]`; NaN where there was no traffic.
        psi: Vec<Vec<f64>>,
    },
}

/// Renders a chart as an SVG document.
pub fn svg(chart: &Chart) -> Result<String> {
    register();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(chart, &root)?;
        root.present().map_err(fail)?;
    }
    Ok(out)
}

/// Renders a chart as a PNG image (`scale` × [`SIZE`] pixels, 1–4).
pub fn png_scaled(chart: &Chart, scale: u32) -> Result<Vec<u8>> {
    register();
    let scale = scale.clamp(1, 4);
    let (w, h) = (SIZE.0 * scale, SIZE.1 * scale);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_scaled(chart, &root, scale)?;
        root.present().map_err(fail)?;
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc
            .write_header()
            .map_err(|e| Error::Chart(e.to_string()))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| Error::Chart(e.to_string()))?;
    }
    Ok(bytes)
}

/// Renders a chart as a PNG image at twice [`SIZE`] (crisp on high-density
/// screens and in documents).
pub fn png(chart: &Chart) -> Result<Vec<u8>> {
    png_scaled(chart, 2)
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::Chart(e.to_string())
}

const INK: RGBColor = RGBColor(40, 44, 52);
const GRID: RGBColor = RGBColor(225, 228, 232);
const OK: RGBColor = RGBColor(46, 160, 67);
const WARN: RGBColor = RGBColor(219, 171, 9);
const BAD: RGBColor = RGBColor(207, 34, 46);
const NONE: RGBColor = RGBColor(240, 240, 240);

/// A palette readable on white and distinguishable for common colour
/// blindness (Okabe–Ito).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
];

/// Reads one number out of a point (a series' value).
type Pick<T, V> = fn(&T) -> V;

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn draw<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Result<()> {
    draw_scaled(chart, root, 1)
}

/// Formats a Unix time for an axis spanning `span` seconds.
fn time_label(t: f64, span: f64) -> String {
    let Some(dt) = chrono::DateTime::from_timestamp(t as i64, 0) else {
        return String::new();
    };
    if span <= 600.0 {
        // Ticks closer than a minute apart would repeat "%H:%M".
        dt.format("%H:%M:%S").to_string()
    } else if span <= 2.0 * 86_400.0 {
        dt.format("%H:%M").to_string()
    } else {
        dt.format("%m-%d %H:%M").to_string()
    }
}

/// The x range of a time chart; a single instant is centred in a minute.
fn time_range(ts: impl Iterator<Item = i64> + Clone) -> (f64, f64) {
    let lo = ts.clone().min().unwrap_or(0) as f64;
    let hi = ts.max().unwrap_or(0) as f64;
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 30.0, lo + 30.0)
    }
}

/// Up to this many points a time series also marks each point, so that a
/// single window (or a gap between windows) stays visible.
const MARKED_POINTS: usize = 60;

fn nice_max(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v * 1.1
    } else {
        1.0
    }
}

fn psi_colour(psi: f64) -> RGBColor {
    if !psi.is_finite() {
        NONE
    } else if psi >= DRIFT {
        BAD
    } else if psi >= WATCH {
        WARN
    } else {
        OK
    }
}

/// Named lines over time (x: Unix seconds), legend upper left.
type TimeSeries<'a> = Vec<(&'a str, RGBColor, Vec<(f64, f64)>)>;

fn time_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scale: u32,
    caption: &str,
    times: impl Iterator<Item = i64> + Clone,
    series: TimeSeries<'_>,
) -> Result<()> {
    let s = scale as f64;
    let font = |size: f64| ("sans-serif", size * s).into_font();
    let (lo, hi) = time_range(times);
    let top = series
        .iter()
        .flat_map(|(_, _, pts)| pts.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let mut c = ChartBuilder::on(root)
        .caption(caption, font(18.0))
        .margin(12 * scale)
        .x_label_area_size(40 * scale)
        .y_label_area_size(60 * scale)
        .build_cartesian_2d(lo..hi, 0f64..nice_max(top))
        .map_err(fail)?;
    c.configure_mesh()
        .light_line_style(GRID)
        .x_label_formatter(&|t| time_label(*t, hi - lo))
        .label_style(font(12.0))
        .draw()
        .map_err(fail)?;
    for (name, col, pts) in series {
        if pts.len() <= MARKED_POINTS {
            c.draw_series(
                pts.iter()
                    .map(|&p| Circle::new(p, 3 * scale, ShapeStyle::from(&col).filled())),
            )
            .map_err(fail)?;
        }
        c.draw_series(LineSeries::new(
            pts,
            ShapeStyle::from(&col).stroke_width(2 * scale),
        ))
        .map_err(fail)?
        .label(name)
        .legend(move |(x, y)| {
            PathElement::new(
                vec![(x, y), (x + 20, y)],
                ShapeStyle::from(&col).stroke_width(2),
            )
        });
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(font(13.0))
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .draw()
        .map_err(fail)?;
    Ok(())
}

fn draw_scaled<DB: DrawingBackend>(
    chart: &Chart,
    root: &DrawingArea<DB, Shift>,
    scale: u32,
) -> Result<()> {
    let s = scale as f64;
    let px = |v: u32| v * scale;
    let font = |size: f64| ("sans-serif", size * s).into_font();
    root.fill(&WHITE).map_err(fail)?;
    match chart {
        Chart::Roc { curves } => {
            let mut c = ChartBuilder::on(root)
                .caption("ROC curve (test part)", font(18.0))
                .margin(px(12))
                .x_label_area_size(px(40))
                .y_label_area_size(px(50))
                .build_cartesian_2d(0f64..1f64, 0f64..1f64)
                .map_err(fail)?;
            c.configure_mesh()
                .light_line_style(GRID)
                .x_desc("false positive rate")
                .y_desc("true positive rate")
                .label_style(font(12.0))
                .axis_desc_style(font(13.0))
                .draw()
                .map_err(fail)?;
            c.draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                ShapeStyle::from(&RGBColor(160, 160, 160)).stroke_width(scale),
            ))
            .map_err(fail)?;
            for (i, curve) in curves.iter().enumerate() {
                let col = colour(i);
                c.draw_series(LineSeries::new(
                    curve.points.iter().copied(),
                    ShapeStyle::from(&col).stroke_width(2 * scale),
                ))
                .map_err(fail)?
                .label(curve.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(
                        vec![(x, y), (x + 20, y)],
                        ShapeStyle::from(&col).stroke_width(2),
                    )
                });
            }
            if !curves.is_empty() {
                c.configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .label_font(font(13.0))
                    .background_style(WHITE.mix(0.9))
                    .border_style(GRID)
                    .draw()
                    .map_err(fail)?;
            }
        }
        Chart::MetricBars {
            title,
            groups,
            metrics,
        } => {
            let n = groups.len().max(1) as f64;
            let m = metrics.len().max(1) as f64;
            let top = metrics
                .iter()
                .flat_map(|(_, v)| v.iter().copied())
                .fold(0.0f64, f64::max);
            let ymax = if top <= 1.0 { 1.0 } else { nice_max(top) };
            let names = groups.clone();
            let mut c = ChartBuilder::on(root)
                .caption(title, font(18.0))
                .margin(px(12))
                .x_label_area_size(px(40))
                .y_label_area_size(px(50))
                .build_cartesian_2d(0f64..n, 0f64..ymax)
                .map_err(fail)?;
            c.configure_mesh()
                .disable_x_mesh()
                .light_line_style(GRID)
                .x_labels(groups.len().max(1) * 2 + 1)
                .x_label_formatter(&|x| band_label(*x, &names, Order::FirstAtZero))
                .label_style(font(12.0))
                .draw()
                .map_err(fail)?;
            let width = 0.8 / m;
            for (j, (metric, values)) in metrics.iter().enumerate() {
                let col = colour(j);
                c.draw_series(values.iter().enumerate().map(|(g, &v)| {
                    let x0 = g as f64 + 0.1 + j as f64 * width;
                    Rectangle::new(
                        [
                            (x0, 0.0),
                            (x0 + width * 0.9, if v.is_finite() { v } else { 0.0 }),
                        ],
                        col.filled(),
                    )
                }))
                .map_err(fail)?
                .label(metric.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], col.filled()));
            }
            if !metrics.is_empty() {
                c.configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .label_font(font(13.0))
                    .background_style(WHITE.mix(0.9))
                    .border_style(GRID)
                    .draw()
                    .map_err(fail)?;
            }
        }
        Chart::Confusion { title, matrix } => {
            let cells = [
                (0, 0, "actual 0 · predicted 0", matrix.tn),
                (1, 0, "actual 0 · predicted 1", matrix.fp),
                (0, 1, "actual 1 · predicted 0", matrix.fn_),
                (1, 1, "actual 1 · predicted 1", matrix.tp),
            ];
            let max = cells.iter().map(|c| c.3).max().unwrap_or(0).max(1) as f64;
            let mut c = ChartBuilder::on(root)
                .caption(title, font(18.0))
                .margin(px(12))
                .x_label_area_size(px(40))
                .y_label_area_size(px(70))
                .build_cartesian_2d(0f64..2f64, 0f64..2f64)
                .map_err(fail)?;
            c.configure_mesh()
                .disable_mesh()
                .x_labels(5)
                .y_labels(5)
                .x_label_formatter(&|x| match (x * 2.0).round() as i64 {
                    1 => "predicted 0".into(),
                    3 => "predicted 1".into(),
                    _ => String::new(),
                })
                .y_label_formatter(&|y| match (y * 2.0).round() as i64 {
                    3 => "actual 0".into(),
                    1 => "actual 1".into(),
                    _ => String::new(),
                })
                .label_style(font(13.0))
                .draw()
                .map_err(fail)?;
            for (x, y, _, n) in cells {
                // Actual 0 on top.
                let row = 1 - y;
                let shade = 0.15 + 0.75 * n as f64 / max;
                let (x, row) = (x as f64, row as f64);
                c.draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.02, row + 0.02), (x + 0.98, row + 0.98)],
                    PALETTE[0].mix(shade).filled(),
                )))
                .map_err(fail)?;
                c.draw_series(std::iter::once(Text::new(
                    n.to_string(),
                    (x + 0.45, row + 0.55),
                    font(22.0).color(&INK),
                )))
                .map_err(fail)?;
            }
        }
        Chart::Importance { title, features } => {
            let n = features.len().max(1);
            let top = features.iter().map(|f| f.1).fold(0.0f64, f64::max);
            let low = features.iter().map(|f| f.1).fold(0.0f64, f64::min);
            let names: Vec<String> = features.iter().map(|f| f.0.clone()).collect();
            let mut c = ChartBuilder::on(root)
                .caption(title, font(18.0))
                .margin(px(12))
                .x_label_area_size(px(40))
                .y_label_area_size(px(150))
                .build_cartesian_2d(low.min(0.0)..nice_max(top), 0f64..n as f64)
                .map_err(fail)?;
            c.configure_mesh()
                .disable_y_mesh()
                .light_line_style(GRID)
                .x_desc("drop in test AUC when shuffled")
                .y_labels(n * 2 + 1)
                // Largest at the top.
                .y_label_formatter(&|y| band_label(*y, &names, Order::FirstAtTop))
                .label_style(font(12.0))
                .axis_desc_style(font(13.0))
                .draw()
                .map_err(fail)?;
            c.draw_series(features.iter().enumerate().map(|(i, (_, v))| {
                let y = (n - 1 - i) as f64;
                Rectangle::new([(0.0, y + 0.15), (*v, y + 0.85)], PALETTE[0].filled())
            }))
            .map_err(fail)?;
        }
        Chart::Latency { points } => {
            let lines: [(&str, Pick<LatencyPoint, f64>); 3] =
                [("p50", |p| p.p50), ("p90", |p| p.p90), ("p99", |p| p.p99)];
            let series = lines
                .iter()
                .enumerate()
                .map(|(i, (name, get))| {
                    let pts = points.iter().map(|p| (p.t as f64, get(p))).collect();
                    (*name, colour(i), pts)
                })
                .collect();
            time_lines(
                root,
                scale,
                "Latency (ms)",
                points.iter().map(|p| p.t),
                series,
            )?;
        }
        Chart::Requests {
            points,
            interval_seconds,
        } => {
            let secs = f64::from((*interval_seconds).max(1));
            let lines: [(&str, RGBColor, Pick<RatePoint, u64>); 2] = [
                ("requests/s", PALETTE[0], |p| p.requests),
                ("errors/s", BAD, |p| p.errors),
            ];
            let series = lines
                .iter()
                .map(|(name, col, get)| {
                    let pts = points
                        .iter()
                        .map(|p| (p.t as f64, get(p) as f64 / secs))
                        .collect();
                    (*name, *col, pts)
                })
                .collect();
            time_lines(
                root,
                scale,
                "Requests and errors per second",
                points.iter().map(|p| p.t),
                series,
            )?;
        }
        Chart::TimeLines { title, series } => {
            let lines = series
                .iter()
                .enumerate()
                .map(|(i, l)| (l.name.as_str(), colour(i), l.points.clone()))
                .collect();
            time_lines(
                root,
                scale,
                title,
                series
                    .iter()
                    .flat_map(|l| l.points.iter().map(|p| p.0 as i64)),
                lines,
            )?;
        }
        Chart::Score {
            edges,
            live,
            baseline,
        } => {
            let bins = live.len().max(baseline.len()).max(1);
            let top = live.iter().chain(baseline).copied().fold(0.0f64, f64::max);
            let edges_fmt = edges.clone();
            let mut c = ChartBuilder::on(root)
                .caption("Score distribution: live vs training", font(18.0))
                .margin(px(12))
                .x_label_area_size(px(40))
                .y_label_area_size(px(50))
                .build_cartesian_2d(0f64..bins as f64, 0f64..nice_max(top))
                .map_err(fail)?;
            c.configure_mesh()
                .disable_x_mesh()
                .light_line_style(GRID)
                .x_labels(bins + 1)
                .x_label_formatter(&|x| {
                    edges_fmt
                        .get(x.round() as usize)
                        .map(|e| format!("{e:.2}"))
                        .unwrap_or_default()
                })
                .y_desc("share of scores")
                .label_style(font(12.0))
                .axis_desc_style(font(13.0))
                .draw()
                .map_err(fail)?;
            let sets: [(&str, RGBColor, &Vec<f64>, f64); 2] = [
                ("training", RGBColor(160, 160, 160), baseline, 0.05),
                ("live", PALETTE[0], live, 0.5),
            ];
            for (name, col, values, off) in sets {
                c.draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let x = i as f64 + off;
                    Rectangle::new([(x, 0.0), (x + 0.45, v)], col.filled())
                }))
                .map_err(fail)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], col.filled()));
            }
            c.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font(font(13.0))
                .background_style(WHITE.mix(0.9))
                .border_style(GRID)
                .draw()
                .map_err(fail)?;
        }
        Chart::DriftHeatmap {
            features,
            windows,
            psi,
        } => {
            let nf = features.len().max(1);
            let nw = windows.len().max(1);
            let span = (windows.last().copied().unwrap_or(0)
                - windows.first().copied().unwrap_or(0)) as f64;
            let wins: Vec<String> = windows
                .iter()
                .map(|&t| time_label(t as f64, span))
                .collect();
            let names = features.clone();
            let mut c = ChartBuilder::on(root)
                .caption("Drift (PSI) per feature and window", font(18.0))
                .margin(px(12))
                .x_label_area_size(px(40))
                .y_label_area_size(px(150))
                .build_cartesian_2d(0f64..nw as f64, 0f64..nf as f64)
                .map_err(fail)?;
            c.configure_mesh()
                .disable_mesh()
                .x_labels((nw * 2 + 1).min(13))
                .x_label_formatter(&|x| band_label(*x, &wins, Order::FirstAtZero))
                .y_labels(nf * 2 + 1)
                .y_label_formatter(&|y| band_label(*y, &names, Order::FirstAtTop))
                .label_style(font(12.0))
                .draw()
                .map_err(fail)?;
            let label_cells = nf * nw <= 120;
            for (i, row) in psi.iter().enumerate().take(nf) {
                let y = (nf - 1 - i) as f64;
                for (j, &v) in row.iter().enumerate().take(nw) {
                    let x = j as f64;
                    c.draw_series(std::iter::once(Rectangle::new(
                        [(x + 0.03, y + 0.05), (x + 0.97, y + 0.95)],
                        psi_colour(v)
                            .mix(if v.is_finite() { 0.85 } else { 1.0 })
                            .filled(),
                    )))
                    .map_err(fail)?;
                    if label_cells && v.is_finite() {
                        c.draw_series(std::iter::once(Text::new(
                            format!("{v:.2}"),
                            (x + 0.35, y + 0.6),
                            font(12.0).color(&INK),
                        )))
                        .map_err(fail)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The charts of one or more model versions: ROC curves overlaid, holdout
/// metrics per version, and each version's confusion matrix and feature
/// importance; with a single version also its training leaderboard.
/// Names are file stems (`roc`, `metrics`, `confusion_v3`, …).
pub fn for_versions(cards: &[&crate::train::model::ModelCard]) -> Vec<(String, Chart)> {
    let mut out = Vec::new();
    let label =
        |c: &crate::train::model::ModelCard| format!("v{} {}", c.version, c.evaluation.winner.id());
    out.push((
        "roc".to_string(),
        Chart::Roc {
            curves: cards
                .iter()
                .map(|c| Series {
                    name: label(c),
                    points: c.evaluation.roc.iter().map(|p| (p.fpr, p.tpr)).collect(),
                })
                .collect(),
        },
    ));
    let holdout: [(&str, Pick<crate::train::Holdout, f64>); 5] = [
        ("accuracy", |h| h.accuracy),
        ("AUC", |h| h.auc),
        ("recall", |h| h.recall),
        ("precision", |h| h.precision),
        ("F1", |h| h.f1),
    ];
    out.push((
        "metrics".to_string(),
        Chart::MetricBars {
            title: "Holdout metrics per version".into(),
            groups: cards.iter().map(|c| label(c)).collect(),
            metrics: holdout
                .iter()
                .map(|(n, get)| {
                    (
                        n.to_string(),
                        cards.iter().map(|c| get(&c.evaluation.holdout)).collect(),
                    )
                })
                .collect(),
        },
    ));
    if let [card] = cards {
        let board = &card.evaluation.leaderboard;
        out.push((
            "leaderboard".to_string(),
            Chart::MetricBars {
                title: "Candidates (mean over folds)".into(),
                groups: board.iter().map(|e| e.model.id().to_string()).collect(),
                metrics: vec![
                    (
                        "accuracy".into(),
                        board.iter().map(|e| e.accuracy.mean).collect(),
                    ),
                    ("AUC".into(), board.iter().map(|e| e.auc.mean).collect()),
                    ("F1".into(), board.iter().map(|e| e.f1.mean).collect()),
                ],
            },
        ));
    }
    for c in cards {
        out.push((
            format!("confusion_v{}", c.version),
            Chart::Confusion {
                title: format!(
                    "{} confusion matrix (threshold {:.2})",
                    label(c),
                    c.threshold
                ),
                matrix: c.evaluation.confusion,
            },
        ));
        out.push((
            format!("importance_v{}", c.version),
            Chart::Importance {
                title: format!("{} feature importance", label(c)),
                features: c
                    .evaluation
                    .importance
                    .iter()
                    .map(|i| (i.feature.clone(), i.importance))
                    .collect(),
            },
        ));
    }
    out
}

/// Which end of a category axis its first category sits at.
#[derive(Clone, Copy)]
enum Order {
    /// At 0 (the left of an x axis, the bottom of a y axis).
    FirstAtZero,
    /// At the far end (the top of a y axis: largest first).
    FirstAtTop,
}

/// The tick label of a category axis whose categories are bands of width 1
/// from 0: the category's label at the middle of its band, nothing between.
fn band_label(at: f64, labels: &[String], order: Order) -> String {
    if ((at - at.floor()) - 0.5).abs() >= 1e-6 || at < 0.0 {
        return String::new();
    }
    let band = at.floor() as usize;
    let i = match order {
        Order::FirstAtZero => Some(band),
        Order::FirstAtTop => labels.len().checked_sub(1 + band),
    };
    i.and_then(|i| labels.get(i)).cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_is_labelled_at_its_middle_only_from_either_end() {
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(band_label(0.5, &labels, Order::FirstAtZero), "a");
        assert_eq!(band_label(2.5, &labels, Order::FirstAtZero), "c");
        assert_eq!(band_label(0.5, &labels, Order::FirstAtTop), "c");
        assert_eq!(band_label(2.5, &labels, Order::FirstAtTop), "a");
        for between in [0.0, 1.0, 1.25, 3.0] {
            assert_eq!(band_label(between, &labels, Order::FirstAtZero), "");
        }
        assert_eq!(band_label(3.5, &labels, Order::FirstAtZero), "");
        assert_eq!(band_label(3.5, &labels, Order::FirstAtTop), "");
        assert_eq!(band_label(-0.5, &labels, Order::FirstAtTop), "");
    }
}
