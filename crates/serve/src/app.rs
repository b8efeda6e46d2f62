//! The server's shared state: the served model behind an atomic pointer,
//! the keys, the counters, the current metrics window, the live sample and
//! the scored batches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use axum::http::StatusCode;
use tablero_core::monitor::MetricWindow;
use tablero_core::ports::{BackendError, Serving};
use tablero_core::train::dataset::Value;
use tablero_core::train::model::{Model, Prediction};

use crate::auth::Keys;
use crate::metrics::Metrics;
use crate::reservoir::Reservoir;
use crate::routes::counts_as_error;
use crate::source::Sources;
use crate::window::{record_json, Tally, Window};
use crate::REQUEST_TIMEOUT;

/// Scored CSVs kept at most (oldest dropped first).
pub(crate) const MAX_PREDICTIONS: usize = 32;

/// The model being served.
pub struct Served {
    /// Model group.
    pub group: String,
    /// Version.
    pub version: u32,
    /// The model.
    pub model: Model,
}

/// A scored batch: id, when, the CSV.
pub(crate) type StoredPredictions = (String, Instant, Arc<Vec<u8>>);

/// A scored request: the model, the records, the predictions.
pub(crate) type Scored = (Arc<Served>, Vec<Vec<Value>>, Vec<Prediction>);

/// The server's shared state.
pub struct App {
    pub(crate) sources: Sources,
    pub(crate) served: ArcSwapOption<Served>,
    pub(crate) keys: Keys,
    pub(crate) metrics: Metrics,
    admin_token: String,
    pub(crate) started: Instant,
    pub(crate) shutdown: tokio::sync::Notify,
    pub(crate) predictions: Mutex<Vec<StoredPredictions>>,
    window: Mutex<Window>,
    finished: Mutex<Vec<MetricWindow>>,
    pub(crate) sample: Mutex<Reservoir>,
    timeout_ms: AtomicU64,
}

impl App {
    /// The server over its three seams: loads the model to serve (if any)
    /// and the keys, and continues the stored live sample.
    pub fn new(sources: Sources) -> Result<Arc<App>, BackendError> {
        let sample = Reservoir::new(
            sources.metrics.sample_capacity(),
            sources.metrics.stored_sample()?,
        );
        let mut token = [0u8; 24];
        getrandom::fill(&mut token)
            .map_err(|e| BackendError::refused(format!("no randomness: {e}")))?;
        let keys = Keys::new(sources.keys.trusts_gateway());
        let app = Arc::new(App {
            sources,
            served: ArcSwapOption::empty(),
            keys,
            metrics: Metrics::new(),
            admin_token: token.iter().map(|b| format!("{b:02x}")).collect(),
            started: Instant::now(),
            shutdown: tokio::sync::Notify::new(),
            predictions: Mutex::new(Vec::new()),
            window: Mutex::new(Window::new(None)),
            finished: Mutex::new(Vec::new()),
            sample: Mutex::new(sample),
            timeout_ms: AtomicU64::new(REQUEST_TIMEOUT.as_millis() as u64),
        });
        app.reload_keys()?;
        app.reload_model()?;
        Ok(app)
    }

    /// How long a request may take before it is answered 503.
    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(Ordering::Relaxed))
    }

    /// Sets how long a request may take before it is answered 503
    /// (default [`REQUEST_TIMEOUT`]).
    pub fn set_request_timeout(&self, timeout: Duration) {
        self.timeout_ms
            .store(timeout.as_millis().max(1) as u64, Ordering::Relaxed);
    }

    /// The token the admin routes require (`x-admin-token`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The version being served.
    pub fn serving(&self) -> Option<(String, u32)> {
        self.served
            .load()
            .as_ref()
            .map(|s| (s.group.clone(), s.version))
    }

    /// Re-reads the active API keys.
    pub fn reload_keys(&self) -> Result<(), BackendError> {
        self.keys.replace(self.sources.keys.keys()?);
        Ok(())
    }

    /// Loads the version to serve and swaps it in (nothing changes on error).
    pub fn reload_model(&self) -> Result<Option<(String, u32)>, BackendError> {
        if let Some(wanted) = self.sources.model.wanted()? {
            if self.serving() != Some((wanted.group.clone(), wanted.version)) {
                let model = self.sources.model.load(&wanted)?;
                let Serving { group, version } = wanted;
                tracing::info!(group = %group, version, "serving model");
                self.served.store(Some(Arc::new(Served {
                    group,
                    version,
                    model,
                })));
            }
        }
        Ok(self.serving())
    }

    /// The current window, rolled over when the served version changed.
    fn current_window(&self) -> Option<std::sync::MutexGuard<'_, Window>> {
        let mut w = self.window.lock().ok()?;
        let current = self.served.load_full();
        let key = current.as_ref().map(|s| (s.group.clone(), s.version));
        if w.served != key {
            let old = std::mem::replace(&mut *w, Window::new(current.as_deref()));
            if let (Some(done), Ok(mut f)) =
                (old.finish(&self.sources.endpoint), self.finished.lock())
            {
                f.push(done);
            }
        }
        Some(w)
    }

    /// Adds an online prediction request (`/v1/predict`) to the current window.
    pub(crate) fn observe(&self, status: StatusCode, latency_ms: f64, scored: Option<&Scored>) {
        let Some(mut w) = self.current_window() else {
            return;
        };
        w.requests += 1;
        if counts_as_error(status) {
            w.errors += 1;
        }
        w.latencies_ms.push(latency_ms);
        let Some((served, records, preds)) = scored else {
            return;
        };
        if w.served != Some((served.group.clone(), served.version)) {
            return;
        }
        if let Ok(mut sample) = self.sample.lock() {
            for record in records {
                sample.offer(|| record_json(&served.model.encoder.features, record));
            }
        }
        w.tally.add(&served.model, records, preds);
    }

    /// Adds a batch request (`/predict`) to the current window: it counts as
    /// a request (or an error) and its rows in the score and feature bins,
    /// but not in the latency percentiles, which describe online requests
    /// (a 100,000-row batch is not a slow request).
    pub(crate) fn observe_batch(&self, status: StatusCode, scored: Option<(&Served, &Tally)>) {
        let Some(mut w) = self.current_window() else {
            return;
        };
        w.requests += 1;
        if counts_as_error(status) {
            w.errors += 1;
        }
        if let Some((served, tally)) = scored {
            if w.served == Some((served.group.clone(), served.version)) {
                w.tally.merge(tally);
            }
        }
    }

    /// Closes the current window and writes every finished one, with the
    /// changed slots of the live sample, to the metrics sink.
    pub fn flush_metrics(&self) -> Result<usize, BackendError> {
        let mut done: Vec<MetricWindow> = self
            .finished
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        if let Ok(mut w) = self.window.lock() {
            let current = self.served.load_full();
            let old = std::mem::replace(&mut *w, Window::new(current.as_deref()));
            done.extend(old.finish(&self.sources.endpoint));
        }
        let n = done.len();
        let sampled = self
            .sample
            .lock()
            .map(|mut s| s.take_dirty())
            .unwrap_or_default();
        for change in self.sources.metrics.write(&done, &sampled)? {
            tracing::warn!(rule = %change.rule, state = %change.state, value = ?change.value, "alarm");
        }
        Ok(n)
    }
}
