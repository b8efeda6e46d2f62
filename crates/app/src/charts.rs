//! Charts as files: of model versions (ROC, metrics, confusion matrices,
//! importance, leaderboard) or of the endpoint (requests, latency, score
//! distribution, drift heatmap), in SVG and PNG.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tablero_core::charts::{self, Chart};
use tablero_core::ports::{Backend, BackendError, ErrorKind, Result};

/// The endpoint's charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum EndpointChart {
    /// Requests and errors per second.
    Requests,
    /// Latency percentiles.
    Latency,
    /// Score distribution, live against training.
    Score,
    /// Drift heatmap, feature × time.
    Drift,
}

impl EndpointChart {
    /// Its name (the file stem).
    pub fn name(self) -> &'static str {
        match self {
            EndpointChart::Requests => "requests",
            EndpointChart::Latency => "latency",
            EndpointChart::Score => "score",
            EndpointChart::Drift => "drift",
        }
    }
}

/// What a report wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChartsWritten {
    /// `endpoint`, or the versions.
    pub target: String,
    /// The folder.
    pub out: String,
    /// The files, SVG and PNG of each chart.
    pub files: Vec<String>,
}

/// A file written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Written {
    /// Its path.
    pub path: String,
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| BackendError::refused(format!("cannot write {}: {e}", path.display())))
}

/// Writes each chart as `<name>.svg` and `<name>.png` into `out` (created
/// when missing); returns the files.
pub fn write_all(charts: &[(String, Chart)], out: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(out)
        .map_err(|e| BackendError::refused(format!("cannot create {}: {e}", out.display())))?;
    let mut files = Vec::new();
    for (name, chart) in charts {
        for (ext, bytes) in [
            ("svg", charts::svg(chart)?.into_bytes()),
            ("png", charts::png(chart)?),
        ] {
            let path = out.join(format!("{name}.{ext}"));
            write(&path, &bytes)?;
            files.push(path.display().to_string());
        }
    }
    Ok(files)
}

/// The charts of `target`: `endpoint` (traffic since `since`), or version
/// numbers of `group` (`3`, or `1,3` to overlay them). A target that is
/// neither is a `usage` error.
pub fn of_target(
    b: &Backend,
    target: &str,
    group: &str,
    since: &str,
) -> Result<Vec<(String, Chart)>> {
    if target == "endpoint" {
        // The endpoint's own, then the platform's around it (AWS).
        let mut charts = crate::monitor::endpoint_charts(b, since)?;
        charts.extend(tablero_core::monitor::service_charts(
            &b.monitor.service_metrics(since)?,
        ));
        return Ok(charts);
    }
    let mut versions = Vec::new();
    for v in target.split(',') {
        versions.push(v.trim().parse::<u32>().map_err(|_| {
            BackendError::new(
                ErrorKind::Usage,
                format!("{target:?}: give version numbers (e.g. 3 or 1,3) or `endpoint`"),
            )
        })?);
    }
    let cards = crate::models::cards(b, group, &versions)?;
    let refs: Vec<&_> = cards.iter().collect();
    Ok(charts::for_versions(&refs))
}

/// Writes the charts of `target` into `out`.
pub fn report(
    b: &Backend,
    target: &str,
    group: &str,
    since: &str,
    out: &Path,
) -> Result<ChartsWritten> {
    let charts = of_target(b, target, group, since)?;
    Ok(ChartsWritten {
        target: target.to_string(),
        out: out.display().to_string(),
        files: write_all(&charts, out)?,
    })
}

/// One of the endpoint's charts since `since`, as PNG, to `path`.
pub fn export_png(b: &Backend, chart: EndpointChart, since: &str, path: &Path) -> Result<Written> {
    let (_, found) = crate::monitor::endpoint_charts(b, since)?
        .into_iter()
        .find(|(n, _)| n == chart.name())
        .ok_or_else(|| BackendError::refused(format!("no chart {:?}", chart.name())))?;
    write(path, &charts::png(&found)?)?;
    Ok(Written {
        path: path.display().to_string(),
    })
}
