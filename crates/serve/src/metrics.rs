//! The Prometheus counters and histograms of `GET /metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use axum::http::StatusCode;

/// Request counters and histograms, rendered as Prometheus text.
pub(crate) struct Metrics {
    requests: Mutex<HashMap<(&'static str, u16), u64>>,
    /// Request latency (seconds).
    pub(crate) latency: Histogram,
    /// Predicted scores.
    pub(crate) score: Histogram,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            requests: Mutex::new(HashMap::new()),
            latency: Histogram::new(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            score: Histogram::new(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        }
    }

    /// Counts a reply of `route`.
    pub(crate) fn count(&self, route: &'static str, status: StatusCode) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, status.as_u16())).or_default() += 1;
        }
    }

    /// The Prometheus text: `tablero_requests_total{route,status}`,
    /// `tablero_request_duration_seconds`, `tablero_prediction_score`,
    /// `tablero_model_version` (of `serving`).
    pub(crate) fn render(&self, serving: Option<(String, u32)>) -> String {
        let mut out = String::new();
        out.push_str("# HELP tablero_requests_total Requests by route and status.\n# TYPE tablero_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            let mut rows: Vec<_> = m.iter().collect();
            rows.sort();
            for ((route, status), n) in rows {
                out.push_str(&format!(
                    "tablero_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n"
                ));
            }
        }
        out.push_str("# HELP tablero_request_duration_seconds Prediction request latency.\n# TYPE tablero_request_duration_seconds histogram\n");
        self.latency
            .render("tablero_request_duration_seconds", "", &mut out);
        out.push_str("# HELP tablero_prediction_score Predicted purchase probability.\n# TYPE tablero_prediction_score histogram\n");
        self.score.render("tablero_prediction_score", "", &mut out);
        out.push_str("# HELP tablero_model_version The model version being served.\n# TYPE tablero_model_version gauge\n");
        if let Some((group, v)) = serving {
            out.push_str(&format!("tablero_model_version{{group=\"{group}\"}} {v}\n"));
        }
        out
    }
}

pub(crate) struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micro: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micro: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub(crate) fn observe(&self, v: f64) {
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            if v <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micro
            .fetch_add((v * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, name: &str, labels: &str, out: &mut String) {
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            out.push_str(&format!(
                "{name}_bucket{{{labels}le=\"{b}\"}} {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        let n = self.count.load(Ordering::Relaxed);
        out.push_str(&format!("{name}_bucket{{{labels}le=\"+Inf\"}} {n}\n"));
        out.push_str(&format!(
            "{name}_sum{{{}}} {}\n",
            labels.trim_end_matches(','),
            self.sum_micro.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!(
            "{name}_count{{{}}} {n}\n",
            labels.trim_end_matches(',')
        ));
    }
}
