//! Monitoring: the endpoint's per-interval aggregates, alarms, and what is
//! computed from them — drift (PSI) over a time range against a model
//! card, drift of a candidate against the live sample, the endpoint's
//! charts, the promotion diff. Pure functions over data; the windows and
//! the sample come from the [`crate::ports::Monitor`] port.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::charts;
use crate::drift::{self, DriftLevel};
use crate::registry::ModelVersion;
use crate::train::dataset::Value;
use crate::train::model::{FeatureBaseline, ModelCard};

/// One interval of endpoint traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetricWindow {
    /// Endpoint name (`local`).
    pub endpoint: String,
    /// Model group served.
    pub group: String,
    /// Model version served.
    pub version: u32,
    /// Start of the window (RFC 3339, UTC).
    pub window_start: String,
    /// Length of the window in seconds.
    pub interval_s: f64,
    /// Prediction requests.
    pub requests: u64,
    /// Requests answered with an error (4xx other than 401/429, and 5xx).
    pub errors: u64,
    /// Latency percentiles, ms.
    pub p50_ms: Option<f64>,
    /// 90th percentile.
    pub p90_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Records scored.
    pub predictions: u64,
    /// Records predicted 1.
    pub positives: u64,
    /// Scores counted in the baseline's score bins.
    pub score_bins: Vec<u64>,
    /// Per feature: values counted in the baseline's bins (categorical: one
    /// extra last bin for unseen categories).
    pub feature_bins: BTreeMap<String, Vec<u64>>,
    /// Latencies (ms) as a distribution: value, how many requests took it
    /// (at most 100 values; see [`crate::emf::latency_distribution`]).
    /// Written by the endpoint for CloudWatch; not kept locally.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<(f64, f64)>>"))]
    pub latency_ms: Vec<(f64, u64)>,
}

/// PSI of one feature (or the score) over a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeatureDrift {
    /// Feature (or `score`).
    pub feature: String,
    /// Population stability index against the training baseline.
    pub psi: f64,
    /// `ok` (< 0.1), `watch` (< 0.25) or `drift`.
    pub level: DriftLevel,
    /// Values counted.
    pub n: u64,
}

/// An alarm's state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlarmChange {
    /// The rule.
    pub rule: AlarmRule,
    /// Its new state.
    pub state: AlarmStatus,
    /// The value that decided it.
    pub value: Option<f64>,
    /// What it means.
    pub message: String,
    /// When (RFC 3339, UTC).
    pub at: String,
}

/// The alarm rules (`[alarms]` in `tablero.toml` locally), evaluated over
/// the last `window_minutes` of metrics each time the endpoint writes a
/// window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct AlarmRules {
    /// Minutes of metrics each rule looks at.
    pub window_minutes: u64,
    /// Any feature's PSI at or above this raises `feature_drift`.
    pub feature_psi: f64,
    /// Error rate (errors / requests) above this raises `error_rate`.
    pub error_rate: f64,
    /// p99 latency above this (ms, worst window) raises `latency_p99`.
    pub p99_ms: f64,
}

impl Default for AlarmRules {
    fn default() -> Self {
        AlarmRules {
            window_minutes: 60,
            feature_psi: 0.25,
            error_rate: 0.01,
            p99_ms: 250.0,
        }
    }
}

/// An alarm rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AlarmRule {
    /// A feature's PSI at or above [`AlarmRules::feature_psi`].
    FeatureDrift,
    /// Errors per request above [`AlarmRules::error_rate`].
    ErrorRate,
    /// The worst p99 latency above [`AlarmRules::p99_ms`].
    LatencyP99,
}

impl AlarmRule {
    /// Every rule, in the order they are listed.
    pub const ALL: [AlarmRule; 3] = [
        AlarmRule::FeatureDrift,
        AlarmRule::ErrorRate,
        AlarmRule::LatencyP99,
    ];

    /// `feature_drift`, `error_rate` or `latency_p99`.
    pub fn name(self) -> &'static str {
        match self {
            AlarmRule::FeatureDrift => "feature_drift",
            AlarmRule::ErrorRate => "error_rate",
            AlarmRule::LatencyP99 => "latency_p99",
        }
    }
}

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "UPPERCASE")]
pub enum AlarmStatus {
    /// Within its threshold (or never evaluated).
    Ok,
    /// Past its threshold.
    Alarm,
}

impl AlarmStatus {
    /// `OK` or `ALARM`.
    pub fn name(self) -> &'static str {
        match self {
            AlarmStatus::Ok => "OK",
            AlarmStatus::Alarm => "ALARM",
        }
    }
}

impl std::fmt::Display for AlarmRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for AlarmStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One alarm rule's current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlarmState {
    /// The rule.
    pub rule: AlarmRule,
    /// Its state.
    pub state: AlarmStatus,
    /// Since when (RFC 3339), if it ever changed.
    pub since: Option<String>,
    /// The value that decided it.
    pub value: Option<f64>,
}

/// Each rule's current state from the history of changes (newest first):
/// its last change, or `OK` when it never changed.
pub fn alarm_states(history: &[AlarmChange]) -> Vec<AlarmState> {
    AlarmRule::ALL
        .into_iter()
        .map(|rule| {
            let last = history.iter().find(|c| c.rule == rule);
            AlarmState {
                rule,
                state: last.map_or(AlarmStatus::Ok, |c| c.state),
                since: last.map(|c| c.at.clone()),
                value: last.and_then(|c| c.value),
            }
        })
        .collect()
}

/// One metric of the platform around the endpoint over time, where the
/// backend has one (AWS: API Gateway's requests, errors and latency, the
/// ECS service's CPU and memory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ServiceSeries {
    /// Where it comes from (`AWS/ApiGateway`, `AWS/ECS`).
    pub source: String,
    /// The metric (`Count`, `5XXError`, `CPUUtilization`, …).
    pub metric: String,
    /// The statistic (`Sum`, `Average`, `p99`).
    pub stat: String,
    /// The unit, in words (`requests`, `ms`, `%`).
    pub unit: String,
    /// (period start RFC 3339, value), oldest first.
    pub points: Vec<(String, f64)>,
}

/// The service metrics as charts: one per unit (requests and errors,
/// latency, utilisation), each a line per series. Names are file stems:
/// `service-requests`, `service-ms`, `service-percent`.
pub fn service_charts(series: &[ServiceSeries]) -> Vec<(String, charts::Chart)> {
    let mut units: Vec<&str> = Vec::new();
    for s in series {
        if !units.contains(&s.unit.as_str()) {
            units.push(&s.unit);
        }
    }
    units
        .into_iter()
        .map(|unit| {
            let lines: Vec<charts::Series> = series
                .iter()
                .filter(|s| s.unit == unit)
                .map(|s| charts::Series {
                    name: format!(
                        "{} {} ({})",
                        s.source.trim_start_matches("AWS/"),
                        s.metric,
                        s.stat
                    ),
                    points: s.points.iter().map(|(t, v)| (unix(t) as f64, *v)).collect(),
                })
                .collect();
            let stem = match unit {
                "%" => "percent".to_string(),
                u => u.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            };
            (
                format!("service-{stem}"),
                charts::Chart::TimeLines {
                    title: format!("Gateway and service ({unit})"),
                    series: lines,
                },
            )
        })
        .collect()
}

/// One slot of the endpoint's live sample (a reservoir of its traffic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSlot {
    /// Slot in the reservoir.
    pub slot: usize,
    /// The record, as a JSON object of feature values.
    pub record: String,
    /// When it was seen (RFC 3339, UTC).
    pub seen_at: String,
}

/// Live records below which a drift comparison is shown but not trusted.
pub const MIN_LIVE_RECORDS: usize = 100;

/// A candidate's training distribution against the sample of live traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LiveDrift {
    /// Live records in the sample (within the time range).
    pub live_records: usize,
    /// Whether there are at least [`MIN_LIVE_RECORDS`]: PSI over fewer is
    /// dominated by empty bins and says little.
    pub enough: bool,
    /// PSI per feature of the candidate, largest first (features absent
    /// from the live records are left out).
    pub features: Vec<FeatureDrift>,
}

/// A candidate against the version in production, before promoting it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PromotionDiff {
    /// The candidate.
    pub candidate: ModelVersion,
    /// The version deployed now, if any.
    pub production: Option<ModelVersion>,
    /// Holdout and CV metrics: candidate, production, candidate − production.
    pub deltas: Vec<MetricDelta>,
    /// The candidate's training data against live traffic since `since`.
    pub drift: LiveDrift,
    /// Start of the live-traffic range (RFC 3339).
    pub since: String,
}

/// One metric of a promotion diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetricDelta {
    /// `holdout.auc`, `cv.accuracy`, …
    pub metric: String,
    /// The candidate's value.
    pub candidate: f64,
    /// The production version's value.
    pub production: Option<f64>,
    /// `candidate − production`.
    pub delta: Option<f64>,
}

/// Metric deltas of a candidate's card against the production one's.
pub fn metric_deltas(candidate: &ModelCard, production: Option<&ModelCard>) -> Vec<MetricDelta> {
    let mut cards = vec![candidate.clone()];
    cards.extend(production.cloned());
    crate::registry::compare(&cards)
        .metrics
        .iter()
        .map(|row| {
            let c = row.values.first().copied().unwrap_or(f64::NAN);
            let p = row.values.get(1).copied();
            MetricDelta {
                metric: row.metric.clone(),
                candidate: c,
                production: p,
                delta: p.map(|p| c - p),
            }
        })
        .collect()
}

fn add_counts(total: &mut Vec<u64>, counts: &[u64]) {
    if total.len() < counts.len() {
        total.resize(counts.len(), 0);
    }
    for (t, v) in total.iter_mut().zip(counts) {
        *t += v;
    }
}

/// The largest PSI of any input feature in one window against `baseline`
/// (what the endpoint reports as `MaxFeaturePSI`), or `None` when no
/// feature has counts.
pub fn max_feature_psi(
    baseline: &crate::train::model::Baseline,
    window: &MetricWindow,
) -> Option<f64> {
    baseline
        .features
        .iter()
        .filter_map(|b| {
            let counts = window.feature_bins.get(b.name())?;
            drift::psi_of_counts(b, counts)
        })
        .max_by(f64::total_cmp)
}

/// PSI per feature and of the score over `windows` of `card`'s version
/// (windows of other versions are left out), against its baseline.
/// Largest first.
pub fn drift(card: &ModelCard, windows: &[MetricWindow]) -> Vec<FeatureDrift> {
    let mine: Vec<&MetricWindow> = windows
        .iter()
        .filter(|w| w.group == card.group && w.version == card.version)
        .collect();
    let mut out = Vec::new();
    let mut add = |name: &str, baseline: &FeatureBaseline, counts: Vec<u64>| {
        if let Some(psi) = drift::psi_of_counts(baseline, &counts) {
            out.push(FeatureDrift {
                feature: name.to_string(),
                psi,
                level: drift::level(psi),
                n: counts.iter().sum(),
            });
        }
    };
    for b in &card.baseline.features {
        let name = b.name();
        let mut counts = Vec::new();
        for w in &mine {
            if let Some(c) = w.feature_bins.get(name) {
                add_counts(&mut counts, c);
            }
        }
        add(name, b, counts);
    }
    let mut counts = Vec::new();
    for w in &mine {
        add_counts(&mut counts, &w.score_bins);
    }
    add("score", &card.baseline.score, counts);
    out.sort_by(|a, b| b.psi.total_cmp(&a.psi));
    out
}

/// PSI of each feature of `card` between its training data (the baseline)
/// and live records (JSON objects of feature values).
pub fn live_drift(
    card: &ModelCard,
    records: &[serde_json::Map<String, serde_json::Value>],
) -> LiveDrift {
    let mut features = Vec::new();
    for b in &card.baseline.features {
        let name = b.name();
        let values: Vec<&serde_json::Value> = records.iter().filter_map(|r| r.get(name)).collect();
        if values.is_empty() {
            continue;
        }
        let values: Vec<Value> = values
            .iter()
            .map(|v| match v.as_f64() {
                Some(x) => Value::Num(x),
                None => Value::Text(v.as_str().map(String::from)),
            })
            .collect();
        let counts = drift::bin_counts(b, &values);
        if let Some(psi) = drift::psi_of_counts(b, &counts) {
            features.push(FeatureDrift {
                feature: name.to_string(),
                psi,
                level: drift::level(psi),
                n: counts.iter().sum(),
            });
        }
    }
    features.sort_by(|a, b| b.psi.total_cmp(&a.psi));
    LiveDrift {
        enough: records.len() >= MIN_LIVE_RECORDS,
        live_records: records.len(),
        features,
    }
}

/// At most this many columns in the drift heatmap: windows are grouped.
const HEATMAP_COLUMNS: usize = 24;

fn unix(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// The endpoint's charts over `windows`: requests and errors, latency
/// percentiles, and — for the version served last, whose card is `card` —
/// score distribution live vs training and the drift heatmap (feature ×
/// time). Names are file stems: `requests`, `latency`, `score`, `drift`.
pub fn endpoint_charts(
    windows: &[MetricWindow],
    card: Option<&ModelCard>,
) -> Vec<(String, charts::Chart)> {
    let mut out = vec![
        (
            "requests".to_string(),
            charts::Chart::Requests {
                points: windows
                    .iter()
                    .map(|w| charts::RatePoint {
                        t: unix(&w.window_start),
                        requests: w.requests,
                        errors: w.errors,
                    })
                    .collect(),
                interval_seconds: windows
                    .first()
                    .map_or(60, |w| w.interval_s.round().max(1.0) as u32),
            },
        ),
        (
            "latency".to_string(),
            charts::Chart::Latency {
                points: windows
                    .iter()
                    .filter_map(|w| {
                        Some(charts::LatencyPoint {
                            t: unix(&w.window_start),
                            p50: w.p50_ms?,
                            p90: w.p90_ms?,
                            p99: w.p99_ms?,
                        })
                    })
                    .collect(),
            },
        ),
    ];
    let Some(card) = card else {
        out.push(("score".into(), empty_score()));
        out.push(("drift".into(), empty_heatmap()));
        return out;
    };
    let mine: Vec<&MetricWindow> = windows
        .iter()
        .filter(|w| w.group == card.group && w.version == card.version)
        .collect();

    // Score: live shares per bin against the training shares.
    let mut live = vec![0u64; card.baseline.score.counted_bins()];
    for w in &mine {
        for (t, v) in live.iter_mut().zip(&w.score_bins) {
            *t += v;
        }
    }
    let total = live.iter().sum::<u64>().max(1) as f64;
    let (edges, baseline) = match &card.baseline.score {
        FeatureBaseline::Numeric {
            edges, proportions, ..
        } => {
            let mut e = vec![0.0];
            e.extend(edges.iter().copied());
            e.push(1.0);
            (e, proportions.clone())
        }
        FeatureBaseline::Categorical { proportions, .. } => (
            (0..=proportions.len()).map(|i| i as f64).collect(),
            proportions.clone(),
        ),
    };
    out.push((
        "score".into(),
        charts::Chart::Score {
            edges,
            live: live.iter().map(|&c| c as f64 / total).collect(),
            baseline,
        },
    ));

    // Drift heatmap: windows grouped into at most HEATMAP_COLUMNS columns.
    let per = mine.len().div_ceil(HEATMAP_COLUMNS).max(1);
    let columns: Vec<&[&MetricWindow]> = mine.chunks(per).collect();
    let mut features = Vec::new();
    let mut psi = Vec::new();
    for b in &card.baseline.features {
        let name = b.name().to_string();
        let row: Vec<f64> = columns
            .iter()
            .map(|col| {
                let mut counts: Vec<u64> = Vec::new();
                for w in col.iter() {
                    if let Some(c) = w.feature_bins.get(&name) {
                        add_counts(&mut counts, c);
                    }
                }
                drift::psi_of_counts(b, &counts).unwrap_or(f64::NAN)
            })
            .collect();
        features.push(name);
        psi.push(row);
    }
    out.push((
        "drift".into(),
        charts::Chart::DriftHeatmap {
            features,
            windows: columns
                .iter()
                .map(|c| c.first().map_or(0, |w| unix(&w.window_start)))
                .collect(),
            psi,
        },
    ));
    out
}

fn empty_score() -> charts::Chart {
    charts::Chart::Score {
        edges: vec![0.0, 1.0],
        live: vec![0.0],
        baseline: vec![0.0],
    }
}

fn empty_heatmap() -> charts::Chart {
    charts::Chart::DriftHeatmap {
        features: Vec::new(),
        windows: Vec::new(),
        psi: Vec::new(),
    }
}

/// One alarm rule evaluated over recent windows.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEvaluation {
    /// The rule.
    pub rule: AlarmRule,
    /// Whether it fires.
    pub firing: bool,
    /// The value that decided it.
    pub value: Option<f64>,
    /// What it compares.
    pub message: String,
}

impl AlarmEvaluation {
    /// `ALARM` or `OK`.
    pub fn state(&self) -> AlarmStatus {
        if self.firing {
            AlarmStatus::Alarm
        } else {
            AlarmStatus::Ok
        }
    }
}

/// The alarm rules over `windows` (the last `rules.window_minutes` of
/// traffic): error rate above the threshold, worst p99 latency above it,
/// and the largest feature PSI of the deployed version (`deployed`, its
/// card) at or above it. The thresholds are defined once, in
/// [`AlarmRules`], so a cloud alarm can be checked against them.
pub fn evaluate_alarms(
    rules: &AlarmRules,
    windows: &[MetricWindow],
    deployed: Option<&ModelCard>,
) -> Vec<AlarmEvaluation> {
    let requests: u64 = windows.iter().map(|w| w.requests).sum();
    let errors: u64 = windows.iter().map(|w| w.errors).sum();
    let p99 = windows
        .iter()
        .filter_map(|w| w.p99_ms)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let rate = (requests > 0).then(|| errors as f64 / requests as f64);
    let mut worst: Option<(String, f64)> = None;
    if let Some(card) = deployed {
        for f in drift(card, windows)
            .into_iter()
            .filter(|f| f.feature != "score")
        {
            if worst.as_ref().is_none_or(|(_, p)| f.psi > *p) {
                worst = Some((f.feature, f.psi));
            }
        }
    }
    vec![
        AlarmEvaluation {
            rule: AlarmRule::ErrorRate,
            firing: rate.is_some_and(|r| r > rules.error_rate),
            value: rate,
            message: format!(
                "error rate over {} min vs {}",
                rules.window_minutes, rules.error_rate
            ),
        },
        AlarmEvaluation {
            rule: AlarmRule::LatencyP99,
            firing: p99.is_some_and(|p| p > rules.p99_ms),
            value: p99,
            message: format!(
                "worst p99 latency (ms) over {} min vs {}",
                rules.window_minutes, rules.p99_ms
            ),
        },
        AlarmEvaluation {
            rule: AlarmRule::FeatureDrift,
            firing: worst.as_ref().is_some_and(|(_, p)| *p >= rules.feature_psi),
            value: worst.as_ref().map(|(_, p)| *p),
            message: match &worst {
                Some((f, _)) => format!(
                    "largest feature PSI ({f}) over {} min vs {}",
                    rules.window_minutes, rules.feature_psi
                ),
                None => "no traffic".into(),
            },
        },
    ]
}
