//! The per-interval aggregates: requests, errors, latency percentiles and
//! the scored records on the model card's baseline bins.

use std::time::Instant;

use serde_json::Value as Json;
use tablero_core::monitor::MetricWindow;
use tablero_core::train::dataset::{FeatureSpec, Value};
use tablero_core::train::model::{FeatureBaseline, Model, Prediction};

use crate::Served;

pub(crate) fn db_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A record as JSON, feature name → value, in the model's feature order.
pub(crate) fn record_json(features: &[FeatureSpec], record: &[Value]) -> String {
    let mut map = serde_json::Map::with_capacity(features.len());
    for (f, v) in features.iter().zip(record) {
        let value = match v {
            Value::Num(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
            Value::Text(t) => t.clone().map_or(Json::Null, Json::String),
        };
        map.insert(f.name().to_string(), value);
    }
    Json::Object(map).to_string()
}

/// Traffic of the current interval, for the per-interval aggregates.
pub(crate) struct Window {
    start: chrono::DateTime<chrono::Utc>,
    started: Instant,
    pub(crate) served: Option<(String, u32)>,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) latencies_ms: Vec<f64>,
    pub(crate) tally: Tally,
    names: Vec<String>,
}

/// What the scored records of a window (or of a batch) look like on the
/// model card's baseline bins: the input of PSI and of the score chart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Records scored.
    pub predictions: u64,
    /// Records predicted 1.
    pub positives: u64,
    /// Scores per baseline score bin.
    pub score_bins: Vec<u64>,
    /// Per feature (the baseline's order), records per bin; for a
    /// categorical feature the last bin counts unseen categories.
    pub feature_bins: Vec<Vec<u64>>,
}

impl Tally {
    /// Empty counts on the model's baseline bins.
    pub fn new(model: &Model) -> Tally {
        Tally {
            predictions: 0,
            positives: 0,
            score_bins: vec![0; model.baseline.score.counted_bins()],
            feature_bins: model
                .baseline
                .features
                .iter()
                .map(|b| vec![0; b.counted_bins()])
                .collect(),
        }
    }

    /// Counts scored records (the model's feature order) and their predictions.
    pub fn add(&mut self, model: &Model, records: &[Vec<Value>], preds: &[Prediction]) {
        let baseline = &model.baseline;
        for (record, p) in records.iter().zip(preds) {
            self.predictions += 1;
            self.positives += u64::from(p.label);
            if let FeatureBaseline::Numeric { edges, .. } = &baseline.score {
                let b = FeatureBaseline::bin_of(edges, p.score);
                if let Some(c) = self.score_bins.get_mut(b) {
                    *c += 1;
                }
            }
            for (k, (b, v)) in baseline.features.iter().zip(record).enumerate() {
                if let Some(c) = b
                    .bin_of_value(v)
                    .and_then(|bin| self.feature_bins.get_mut(k).and_then(|f| f.get_mut(bin)))
                {
                    *c += 1;
                }
            }
        }
    }

    /// Adds another tally on the same bins.
    pub fn merge(&mut self, other: &Tally) {
        self.predictions += other.predictions;
        self.positives += other.positives;
        for (a, b) in self.score_bins.iter_mut().zip(&other.score_bins) {
            *a += b;
        }
        for (fa, fb) in self.feature_bins.iter_mut().zip(&other.feature_bins) {
            for (a, b) in fa.iter_mut().zip(fb) {
                *a += b;
            }
        }
    }
}

impl Window {
    pub(crate) fn new(served: Option<&Served>) -> Window {
        let (names, tally) = match served {
            Some(s) => (
                s.model
                    .baseline
                    .features
                    .iter()
                    .map(|b| b.name().to_string())
                    .collect(),
                Tally::new(&s.model),
            ),
            None => (Vec::new(), Tally::default()),
        };
        Window {
            start: chrono::Utc::now(),
            started: Instant::now(),
            served: served.map(|s| (s.group.clone(), s.version)),
            requests: 0,
            errors: 0,
            latencies_ms: Vec::new(),
            tally,
            names,
        }
    }

    /// The window as stored, or `None` when nothing happened in it.
    pub(crate) fn finish(mut self, endpoint: &str) -> Option<MetricWindow> {
        let (group, version) = self.served.clone()?;
        if self.requests == 0 {
            return None;
        }
        self.latencies_ms.sort_by(f64::total_cmp);
        let pct = |q: f64| -> Option<f64> {
            (!self.latencies_ms.is_empty())
                .then(|| tablero_core::stats::quantile_sorted(&self.latencies_ms, q))
        };
        let latency_ms = tablero_core::emf::latency_distribution(&self.latencies_ms);
        Some(MetricWindow {
            endpoint: endpoint.to_string(),
            group,
            version,
            window_start: self
                .start
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            interval_s: self.started.elapsed().as_secs_f64(),
            requests: self.requests,
            errors: self.errors,
            p50_ms: pct(0.5),
            p90_ms: pct(0.9),
            p99_ms: pct(0.99),
            predictions: self.tally.predictions,
            positives: self.tally.positives,
            score_bins: self.tally.score_bins,
            feature_bins: self
                .names
                .into_iter()
                .zip(self.tally.feature_bins)
                .collect(),
            latency_ms,
        })
    }
}
