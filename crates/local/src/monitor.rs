//! Monitoring on SQLite: the per-interval aggregates the local endpoint
//! writes, and drift (PSI) over a time range against the model card.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use tablero_core::charts;
use tablero_core::drift;
use tablero_core::registry::Registry;
use tablero_core::train::model::FeatureBaseline;

use crate::error::{Error, Result};
use crate::workspace::Workspace;

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
    pub level: String,
    /// Values counted.
    pub n: u64,
}

/// An alarm's state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlarmChange {
    /// `feature_drift`, `error_rate` or `latency_p99`.
    pub rule: String,
    /// `ALARM` or `OK`.
    pub state: String,
    /// The value that decided it.
    pub value: Option<f64>,
    /// What it means.
    pub message: String,
    /// When (RFC 3339, UTC).
    pub at: String,
}

impl Workspace {
    /// Evaluates the alarm rules over the last window of metrics and stores
    /// the state changes; returns them.
    pub fn evaluate_alarms(&self) -> Result<Vec<AlarmChange>> {
        let rules = self.config().alarms.clone();
        let since = (chrono::Utc::now() - chrono::Duration::minutes(rules.window_minutes as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let windows = self.metrics_since(&since)?;
        let requests: u64 = windows.iter().map(|w| w.requests).sum();
        let errors: u64 = windows.iter().map(|w| w.errors).sum();
        let p99 = windows
            .iter()
            .filter_map(|w| w.p99_ms)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        let mut evaluated: Vec<(&str, bool, Option<f64>, String)> = Vec::new();
        let rate = (requests > 0).then(|| errors as f64 / requests as f64);
        evaluated.push((
            "error_rate",
            rate.is_some_and(|r| r > rules.error_rate),
            rate,
            format!(
                "error rate over {} min vs {}",
                rules.window_minutes, rules.error_rate
            ),
        ));
        evaluated.push((
            "latency_p99",
            p99.is_some_and(|p| p > rules.p99_ms),
            p99,
            format!(
                "worst p99 latency (ms) over {} min vs {}",
                rules.window_minutes, rules.p99_ms
            ),
        ));
        let mut worst: Option<(String, f64)> = None;
        if let Some(d) = self.deployed()? {
            for f in self
                .drift_since(&d.group, d.version, &since)?
                .into_iter()
                .filter(|f| f.feature != "score")
            {
                if worst.as_ref().is_none_or(|(_, p)| f.psi > *p) {
                    worst = Some((f.feature, f.psi));
                }
            }
        }
        evaluated.push((
            "feature_drift",
            worst.as_ref().is_some_and(|(_, p)| *p >= rules.feature_psi),
            worst.as_ref().map(|(_, p)| *p),
            match &worst {
                Some((f, _)) => format!(
                    "largest feature PSI ({f}) over {} min vs {}",
                    rules.window_minutes, rules.feature_psi
                ),
                None => "no traffic".into(),
            },
        ));
        let mut changes = Vec::new();
        for (rule, firing, value, message) in evaluated {
            let state = if firing { "ALARM" } else { "OK" };
            let last: Option<String> = self
                .db()
                .conn()
                .query_row(
                    "SELECT state FROM alarms WHERE rule = ?1 ORDER BY seq DESC LIMIT 1",
                    [rule],
                    |r| r.get(0),
                )
                .optional()?;
            if last.as_deref().unwrap_or("OK") != state {
                let change = AlarmChange {
                    rule: rule.into(),
                    state: state.into(),
                    value,
                    message,
                    at: crate::db::now(),
                };
                self.db().conn().execute(
                    "INSERT INTO alarms (rule, state, value, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![change.rule, change.state, change.value, change.message, change.at],
                )?;
                changes.push(change);
            }
        }
        Ok(changes)
    }

    /// Alarm state changes, newest first.
    pub fn alarm_history(&self) -> Result<Vec<AlarmChange>> {
        let conn = self.db().conn();
        let mut st =
            conn.prepare("SELECT rule, state, value, message, at FROM alarms ORDER BY seq DESC")?;
        let rows = st.query_map([], |r| {
            Ok(AlarmChange {
                rule: r.get(0)?,
                state: r.get(1)?,
                value: r.get(2)?,
                message: r.get(3)?,
                at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores one window (written by the endpoint).
    pub fn record_metrics(&self, w: &MetricWindow) -> Result<()> {
        let score_bins =
            serde_json::to_string(&w.score_bins).map_err(|e| Error::Refused(e.to_string()))?;
        let feature_bins =
            serde_json::to_string(&w.feature_bins).map_err(|e| Error::Refused(e.to_string()))?;
        self.db().conn().execute(
            "INSERT INTO metrics (endpoint, group_name, version, window_start, interval_s, requests, errors,
                 p50_ms, p90_ms, p99_ms, predictions, positives, score_bins, feature_bins)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                w.endpoint,
                w.group,
                w.version,
                w.window_start,
                w.interval_s,
                w.requests,
                w.errors,
                w.p50_ms,
                w.p90_ms,
                w.p99_ms,
                w.predictions,
                w.positives,
                score_bins,
                feature_bins
            ],
        )?;
        Ok(())
    }

    /// Windows starting at or after `since` (RFC 3339), oldest first.
    pub fn metrics_since(&self, since: &str) -> Result<Vec<MetricWindow>> {
        let conn = self.db().conn();
        let mut st = conn.prepare(
            "SELECT endpoint, group_name, version, window_start, interval_s, requests, errors, p50_ms, p90_ms, p99_ms,
                    predictions, positives, score_bins, feature_bins
             FROM metrics WHERE window_start >= ?1 ORDER BY window_start, seq",
        )?;
        let rows = st.query_map([since], |r| {
            let bad = |i: usize| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    "bad bins".into(),
                )
            };
            let score: String = r.get(12)?;
            let features: String = r.get(13)?;
            Ok(MetricWindow {
                endpoint: r.get(0)?,
                group: r.get(1)?,
                version: r.get(2)?,
                window_start: r.get(3)?,
                interval_s: r.get(4)?,
                requests: r.get(5)?,
                errors: r.get(6)?,
                p50_ms: r.get(7)?,
                p90_ms: r.get(8)?,
                p99_ms: r.get(9)?,
                predictions: r.get(10)?,
                positives: r.get(11)?,
                score_bins: serde_json::from_str(&score).map_err(|_| bad(12))?,
                feature_bins: serde_json::from_str(&features).map_err(|_| bad(13))?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// PSI per feature and of the score, over the windows since `since` of
    /// the given version, against its model card's baseline. Largest first.
    pub fn drift_since(&self, group: &str, version: u32, since: &str) -> Result<Vec<FeatureDrift>> {
        let card = self.card(group, version)?;
        let windows: Vec<MetricWindow> = self
            .metrics_since(since)?
            .into_iter()
            .filter(|w| w.group == group && w.version == version)
            .collect();
        let mut out = Vec::new();
        let mut add = |name: &str, baseline: &FeatureBaseline, counts: Vec<u64>| {
            if let Some(psi) = drift::psi_of_counts(baseline, &counts) {
                out.push(FeatureDrift {
                    feature: name.to_string(),
                    psi,
                    level: drift::level(psi).into(),
                    n: counts.iter().sum(),
                });
            }
        };
        let sum = |get: &dyn Fn(&MetricWindow) -> Option<Vec<u64>>| -> Vec<u64> {
            let mut total: Vec<u64> = Vec::new();
            for w in &windows {
                if let Some(c) = get(w) {
                    if total.len() < c.len() {
                        total.resize(c.len(), 0);
                    }
                    for (t, v) in total.iter_mut().zip(c) {
                        *t += v;
                    }
                }
            }
            total
        };
        for b in &card.baseline.features {
            let name = b.name().to_string();
            let counts = sum(&|w| w.feature_bins.get(&name).cloned());
            add(&name, b, counts);
        }
        let counts = sum(&|w| Some(w.score_bins.clone()));
        add("score", &card.baseline.score, counts);
        out.sort_by(|a, b| b.psi.total_cmp(&a.psi));
        Ok(out)
    }
}

/// At most this many columns in the drift heatmap: windows are grouped.
const HEATMAP_COLUMNS: usize = 24;

fn unix(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

impl Workspace {
    /// The endpoint's charts over the windows since `since`: requests and
    /// errors, latency percentiles, and — for the version served last in
    /// the range — score distribution live vs training and the drift
    /// heatmap (feature × time, PSI against its card). Names are file stems.
    pub fn endpoint_charts(&self, since: &str) -> Result<Vec<(String, charts::Chart)>> {
        let windows = self.metrics_since(since)?;
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
        let Some(last) = windows.last() else {
            out.push(("score".into(), empty_score()));
            out.push(("drift".into(), empty_heatmap()));
            return Ok(out);
        };
        let (group, version) = (last.group.clone(), last.version);
        let card = self.card(&group, version)?;
        let mine: Vec<&MetricWindow> = windows
            .iter()
            .filter(|w| w.group == group && w.version == version)
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
                            if counts.len() < c.len() {
                                counts.resize(c.len(), 0);
                            }
                            for (t, v) in counts.iter_mut().zip(c) {
                                *t += v;
                            }
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
        Ok(out)
    }
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

impl Workspace {
    /// Replaces slots of the endpoint's live sample (reservoir).
    pub fn store_live_sample(
        &self,
        endpoint: &str,
        slots: &[(usize, String, String)],
    ) -> Result<()> {
        if slots.is_empty() {
            return Ok(());
        }
        self.db().immediate(|conn| {
            let mut st = conn.prepare(
                "INSERT OR REPLACE INTO live_sample (slot, endpoint, record, seen_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (slot, record, at) in slots {
                st.execute(params![*slot as i64, endpoint, record, at])?;
            }
            Ok(())
        })
    }

    /// The live sample: `(slot, record JSON, seen_at)`, records seen since
    /// `since` (RFC 3339) when given.
    pub fn live_sample(&self, since: Option<&str>) -> Result<Vec<(usize, String, String)>> {
        let conn = self.db().conn();
        let mut st = conn.prepare(
            "SELECT slot, record, seen_at FROM live_sample WHERE seen_at >= ?1 ORDER BY slot",
        )?;
        let rows = st.query_map([since.unwrap_or("")], |r| {
            Ok((r.get::<_, i64>(0)? as usize, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// PSI of each feature of version `version` between its training data
    /// (the card's baseline) and the live sample since `since`.
    pub fn live_drift(&self, group: &str, version: u32, since: &str) -> Result<LiveDrift> {
        let card = self.card(group, version)?;
        let sample: Vec<serde_json::Map<String, serde_json::Value>> = self
            .live_sample(Some(since))?
            .into_iter()
            .filter_map(|(_, r, _)| serde_json::from_str(&r).ok())
            .collect();
        let mut features = Vec::new();
        for b in &card.baseline.features {
            let name = b.name();
            let values: Vec<&serde_json::Value> =
                sample.iter().filter_map(|r| r.get(name)).collect();
            if values.is_empty() {
                continue;
            }
            let numeric: Vec<f64> = values.iter().filter_map(|v| v.as_f64()).collect();
            let text: Vec<Option<&str>> = values.iter().map(|v| v.as_str()).collect();
            let counts = drift::bin_counts(b, &numeric, &text);
            if let Some(psi) = drift::psi_of_counts(b, &counts) {
                features.push(FeatureDrift {
                    feature: name.to_string(),
                    psi,
                    level: drift::level(psi).into(),
                    n: counts.iter().sum(),
                });
            }
        }
        features.sort_by(|a, b| b.psi.total_cmp(&a.psi));
        Ok(LiveDrift {
            enough: sample.len() >= MIN_LIVE_RECORDS,
            live_records: sample.len(),
            features,
        })
    }
}
