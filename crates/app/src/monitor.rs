//! What the endpoint saw, read through the ports: drift of a version over
//! a time range, a candidate against live traffic before promoting it, the
//! endpoint's charts, the alarms.

use serde::{Deserialize, Serialize};
use tablero_core::charts::Chart;
use tablero_core::monitor::{
    self, AlarmChange, AlarmRules, AlarmState, FeatureDrift, LiveDrift, MetricWindow,
    PromotionDiff, ServiceSeries,
};
use tablero_core::ports::{Backend, BackendError, Result};

/// PSI per feature and of the score over the windows since `since` of
/// `group` version `version`, against its model card's baseline. Largest
/// first.
pub fn drift_since(
    backend: &Backend,
    group: &str,
    version: u32,
    since: &str,
) -> Result<Vec<FeatureDrift>> {
    let card = backend.registry.card(group, version)?;
    let windows = backend.monitor.metric_windows(since)?;
    Ok(monitor::drift(&card, &windows))
}

/// PSI of each feature of `group` version `version` between its training
/// data and the live sample since `since`.
pub fn live_drift(backend: &Backend, group: &str, version: u32, since: &str) -> Result<LiveDrift> {
    let card = backend.registry.card(group, version)?;
    let records: Vec<serde_json::Map<String, serde_json::Value>> = backend
        .monitor
        .live_sample(Some(since))?
        .into_iter()
        .filter_map(|s| serde_json::from_str(&s.record).ok())
        .collect();
    Ok(monitor::live_drift(&card, &records))
}

/// What promoting `version` would change: metric deltas against the
/// deployed version and drift between the candidate's training data and
/// the live sample since `since` (RFC 3339). Reads only.
pub fn promotion_diff(
    backend: &Backend,
    group: &str,
    version: u32,
    since: &str,
) -> Result<PromotionDiff> {
    let registry = &backend.registry;
    let candidate = registry.version(group, version)?;
    let production = match backend.deployer.deployed()? {
        Some(d) => Some(registry.version(&d.group, d.version)?),
        None => None,
    };
    let candidate_card = registry.card(group, version)?;
    let production_card = match &production {
        Some(p) => Some(registry.card(&p.group, p.version)?),
        None => None,
    };
    Ok(PromotionDiff {
        candidate,
        production,
        deltas: monitor::metric_deltas(&candidate_card, production_card.as_ref()),
        drift: live_drift(backend, group, version, since)?,
        since: since.to_string(),
    })
}

/// The endpoint's charts over the windows since `since`: requests and
/// errors, latency percentiles, and for the version served last the score
/// distribution live vs training and the drift heatmap. Names are file
/// stems: `requests`, `latency`, `score`, `drift`.
pub fn endpoint_charts(backend: &Backend, since: &str) -> Result<Vec<(String, Chart)>> {
    let windows = backend.monitor.metric_windows(since)?;
    charts_over(backend, &windows)
}

/// [`endpoint_charts`] over windows already read.
fn charts_over(backend: &Backend, windows: &[MetricWindow]) -> Result<Vec<(String, Chart)>> {
    let card = match windows.last() {
        Some(w) => Some(backend.registry.card(&w.group, w.version)?),
        None => None,
    };
    Ok(monitor::endpoint_charts(windows, card.as_ref()))
}

/// The alarms: each rule's state, the history of changes, the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Alarms {
    /// Each rule's current state.
    pub alarms: Vec<AlarmState>,
    /// State changes, newest first.
    pub history: Vec<AlarmChange>,
    /// The rules.
    pub rules: AlarmRules,
}

/// The alarms' states, history and rules.
pub fn alarms(backend: &Backend) -> Result<Alarms> {
    let history = backend.monitor.alarm_history()?;
    Ok(Alarms {
        alarms: monitor::alarm_states(&history),
        history,
        rules: backend.monitor.alarm_rules(),
    })
}

/// Per-interval traffic over a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Metrics {
    /// The range's start (RFC 3339).
    pub since: String,
    /// Requests in the range.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub requests: u64,
    /// Errors in the range.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub errors: u64,
    /// The windows, oldest first.
    pub windows: Vec<MetricWindow>,
}

/// The platform's metrics around the endpoint since `since` (AWS: API
/// Gateway, ECS); none locally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Service {
    /// The range's start (RFC 3339).
    pub since: String,
    /// The series.
    pub series: Vec<ServiceSeries>,
}

/// [`Service`] since `since`.
pub fn service(backend: &Backend, since: &str) -> Result<Service> {
    Ok(Service {
        since: since.to_string(),
        series: backend.monitor.service_metrics(since)?,
    })
}

/// The windows of `endpoint` (by default the backend's first) since
/// `since`, refused for an endpoint the backend does not have.
pub fn metrics(backend: &Backend, since: &str, endpoint: Option<&str>) -> Result<Metrics> {
    let endpoints = backend.monitor.endpoints();
    let endpoint = match endpoint {
        Some(e) => e.to_string(),
        None => endpoints.first().cloned().unwrap_or_default(),
    };
    let endpoint = endpoint.as_str();
    if !endpoints.iter().any(|e| e == endpoint) {
        let names: Vec<String> = endpoints.iter().map(|e| format!("`{e}`")).collect();
        return Err(BackendError::refused(format!(
            "no endpoint named {endpoint:?}: the {} backend has {} {}",
            backend.kind,
            if names.len() == 1 {
                "one endpoint,"
            } else {
                "the endpoints"
            },
            names.join(", ")
        )));
    }
    let windows: Vec<MetricWindow> = backend
        .monitor
        .metric_windows(since)?
        .into_iter()
        .filter(|w| w.endpoint == endpoint)
        .collect();
    Ok(Metrics::of(since, windows))
}

impl Metrics {
    /// The windows since `since`, with their totals.
    pub fn of(since: &str, windows: Vec<MetricWindow>) -> Metrics {
        Metrics {
            since: since.to_string(),
            requests: windows.iter().map(|w| w.requests).sum(),
            errors: windows.iter().map(|w| w.errors).sum(),
            windows,
        }
    }
}

/// Drift of one version over a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DriftReport {
    /// The range's start (RFC 3339).
    pub since: String,
    /// The version's group.
    pub group: String,
    /// The version.
    pub version: u32,
    /// PSI per feature and of the score, largest first.
    pub features: Vec<FeatureDrift>,
}

/// Drift since `since` of `group` version `version`, by default the
/// deployed one (refused when nothing is deployed and no version is given).
pub fn drift(
    backend: &Backend,
    since: &str,
    group: Option<&str>,
    version: Option<u32>,
) -> Result<DriftReport> {
    let deployed = backend.deployer.deployed()?;
    let group = group
        .map(String::from)
        .or_else(|| deployed.as_ref().map(|d| d.group.clone()))
        .unwrap_or_else(|| "default".into());
    let version = version
        .or_else(|| deployed.as_ref().map(|d| d.version))
        .ok_or_else(|| BackendError::refused("nothing is deployed; give --version"))?;
    Ok(DriftReport {
        since: since.to_string(),
        features: drift_since(backend, &group, version, since)?,
        group,
        version,
    })
}

/// A candidate against production, with the ROC curves of both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PromotionDiffView {
    /// As `tablero deploy diff`.
    pub diff: PromotionDiff,
    /// ROC curves (candidate and production) as SVG.
    pub roc: String,
}

/// What promoting `version` would change, against the last 24 h of live
/// traffic, with both versions' ROC curves.
pub fn promotion_view(b: &Backend, group: &str, version: u32) -> Result<PromotionDiffView> {
    let diff = promotion_diff(b, group, version, &crate::time::TimeRange::LastDay.since())?;
    let mut cards = vec![b.registry.card(group, version)?];
    if let Some(p) = &diff.production {
        cards.push(b.registry.card(&p.group, p.version)?);
    }
    let refs: Vec<&_> = cards.iter().collect();
    let roc = tablero_core::charts::for_versions(&refs)
        .into_iter()
        .find(|(n, _)| n == "roc")
        .map(|(_, c)| tablero_core::charts::svg(&c))
        .transpose()?
        .unwrap_or_default();
    Ok(PromotionDiffView { diff, roc })
}

/// The endpoint's charts as SVG text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonitorCharts {
    /// Requests and errors per second.
    pub requests: String,
    /// Latency percentiles.
    pub latency: String,
    /// Score distribution live vs training.
    pub score: String,
    /// Drift heatmap.
    pub drift: String,
    /// The platform's metrics around the endpoint (AWS: API Gateway, ECS),
    /// one chart per unit; none locally.
    pub service: Vec<String>,
}

/// Traffic, drift and alarms over a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonitorView {
    /// The range's start, its totals and its per-interval aggregates.
    #[serde(flatten)]
    pub traffic: Metrics,
    /// PSI per feature of the deployed version over the range.
    pub drift: Vec<FeatureDrift>,
    /// Current alarm states.
    pub alarms: Vec<AlarmState>,
    /// Alarm state changes, newest first.
    pub alarm_history: Vec<AlarmChange>,
    /// The platform's metrics around the endpoint (AWS); empty locally.
    pub service: Vec<ServiceSeries>,
    /// Charts.
    pub charts: MonitorCharts,
}

/// What the Monitor view shows over `range`.
pub fn view(b: &Backend, range: crate::time::TimeRange) -> Result<MonitorView> {
    let since = range.since();
    let windows = b.monitor.metric_windows(&since)?;
    // One read of the windows for the totals, the drift and the charts.
    let drift = match b.deployer.deployed()? {
        Some(d) => monitor::drift(&b.registry.card(&d.group, d.version)?, &windows),
        None => Vec::new(),
    };
    let alarm_history = b.monitor.alarm_history()?;
    let service = b.monitor.service_metrics(&since)?;
    let mut charts = MonitorCharts::default();
    for (_, chart) in monitor::service_charts(&service) {
        charts.service.push(tablero_core::charts::svg(&chart)?);
    }
    for (name, chart) in charts_over(b, &windows)? {
        let svg = tablero_core::charts::svg(&chart)?;
        match name.as_str() {
            "requests" => charts.requests = svg,
            "latency" => charts.latency = svg,
            "score" => charts.score = svg,
            "drift" => charts.drift = svg,
            _ => {}
        }
    }
    Ok(MonitorView {
        traffic: Metrics::of(&since, windows),
        drift,
        alarms: monitor::alarm_states(&alarm_history),
        alarm_history,
        service,
        charts,
    })
}
