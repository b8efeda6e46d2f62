//! `tablero-serve`: the inference HTTP server.
//!
//! Routes: `POST /v1/predict`, `GET /healthz`, `GET /readyz`, `GET /health`,
//! `GET /metrics` (Prometheus text), `GET /openapi.json` (generated from the
//! handlers, see [`api`]), the batch routes `POST /predict` and
//! `GET /predictions/{id}`, `GET /models`, and the admin routes `POST
//! /admin/reload`, `GET /admin/status`, `POST /admin/shutdown`, which answer
//! only on loopback and only with the admin token. The served model lives
//! behind an atomic pointer: a promotion swaps it whole, so no request sees
//! a half-loaded model.

pub mod api;
pub mod source;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value as Json_};
use tablero_core::monitor::{LiveSlot, MetricWindow};
use tablero_core::ports::{key_hash, BackendError, Serving};
use tablero_core::train::dataset::{FeatureSpec, Value};
use tablero_core::train::model::{FeatureBaseline, Model, Prediction};

pub use source::{KeyInfo, Sources};

/// Body limit of the JSON routes.
pub const BODY_LIMIT: usize = 1 << 20;

/// Body limit of the batch CSV route.
pub const BATCH_LIMIT: usize = 64 << 20;

/// How long a batch's scored CSV can be fetched.
pub const PREDICTIONS_TTL: Duration = Duration::from_secs(3600);

/// Scored CSVs kept at most (oldest dropped first).
const MAX_PREDICTIONS: usize = 32;

/// The model being served.
pub struct Served {
    /// Model group.
    pub group: String,
    /// Version.
    pub version: u32,
    /// The model.
    pub model: Model,
}

struct TokenBucket {
    tokens: f64,
    last: Instant,
}

/// Request counters and histograms, rendered as Prometheus text.
struct Metrics {
    requests: Mutex<HashMap<(&'static str, u16), u64>>,
    latency: Histogram,
    score: Histogram,
}

struct Histogram {
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

    fn observe(&self, v: f64) {
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

/// A scored batch: id, when, the CSV.
type StoredPredictions = (String, Instant, Arc<Vec<u8>>);

/// A scored CSV: the bytes, counts of label 0 and 1, the output columns.
pub struct ScoredCsv {
    /// The CSV.
    pub bytes: Vec<u8>,
    /// Customers predicted 0 and 1.
    pub counts: [u64; 2],
    /// Output columns.
    pub columns: Vec<String>,
    /// The rows on the model card's baseline bins (for the metrics).
    pub tally: Tally,
    /// Candidates for the live sample (empty unless asked for).
    pub sample: BatchSample,
}

/// The server's shared state.
pub struct App {
    sources: Sources,
    served: ArcSwapOption<Served>,
    keys: ArcSwap<HashMap<String, KeyInfo>>,
    buckets: Mutex<HashMap<String, TokenBucket>>,
    metrics: Metrics,
    admin_token: String,
    started: Instant,
    shutdown: tokio::sync::Notify,
    predictions: Mutex<Vec<StoredPredictions>>,
    window: Mutex<Window>,
    finished: Mutex<Vec<MetricWindow>>,
    sample: Mutex<Reservoir>,
    timeout_ms: AtomicU64,
}

/// A uniform sample of the live records (algorithm R), kept so a
/// candidate's training data can be compared with real traffic before it is
/// promoted. Slots changed since the last flush are written to the metrics
/// sink.
struct Reservoir {
    capacity: usize,
    seen: u64,
    /// Record as JSON (feature → value) and when it was seen.
    slots: Vec<(String, String)>,
    dirty: Vec<usize>,
    rng: Rng,
}

impl Reservoir {
    fn new(capacity: usize, stored: Vec<LiveSlot>) -> Reservoir {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        let mut slots: Vec<(String, String)> = Vec::new();
        for s in stored.into_iter().take(capacity) {
            slots.push((s.record, s.seen_at));
        }
        Reservoir {
            capacity,
            seen: slots.len() as u64,
            slots,
            dirty: Vec::new(),
            rng: Rng::new(u64::from_le_bytes(seed)),
        }
    }

    fn next(&mut self) -> u64 {
        self.rng.next()
    }

    /// Offers a record; `encode` runs only when it is kept.
    fn offer(&mut self, encode: impl FnOnce() -> String) {
        if self.capacity == 0 {
            return;
        }
        let Some(slot) = self.take_slot() else {
            return;
        };
        self.slots[slot] = (encode(), db_now());
        self.dirty.push(slot);
    }

    /// Counts one more record and returns the slot algorithm R gives it (a
    /// new one, created empty, or one to replace), if any.
    fn take_slot(&mut self) -> Option<usize> {
        self.seen += 1;
        let slot = self
            .rng
            .reservoir_slot(self.seen, self.slots.len(), self.capacity)?;
        if slot == self.slots.len() {
            self.slots.push((String::new(), String::new()));
        }
        Some(slot)
    }

    /// Offers the `rows` rows of a batch at once, as if each had been
    /// offered in turn: which slots the batch takes depends only on the
    /// random draws, and the rows that land there are a uniform subset of
    /// the batch, drawn from the parts' own uniform samples (see
    /// [`BatchSample`]).
    fn offer_batch(&mut self, sample: BatchSample, encode: impl Fn(&[Value]) -> String) {
        let rows: u64 = sample.parts.iter().map(|(n, _)| n).sum();
        if self.capacity == 0 || rows == 0 {
            return;
        }
        // Algorithm R's slot choices for the batch; only the last row to land
        // in a slot stays there, so the batch fills `taken.len()` slots.
        let mut taken: Vec<usize> = Vec::new();
        let mut in_batch = vec![false; self.capacity];
        for _ in 0..rows {
            let Some(slot) = self.take_slot() else {
                continue;
            };
            if !in_batch[slot] {
                in_batch[slot] = true;
                taken.push(slot);
            }
        }
        // Which rows: a uniform `taken.len()`-subset of the batch (Floyd's
        // algorithm over row numbers), then each part gives that many rows
        // from its shuffled sample.
        let k = taken.len() as u64;
        let mut chosen = std::collections::BTreeSet::new();
        for j in rows - k..rows {
            let t = self.next() % (j + 1);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        let mut wanted = vec![0usize; sample.parts.len()];
        let mut bounds = sample.parts.iter().scan(0u64, |end, (n, _)| {
            *end += n;
            Some(*end)
        });
        let mut part = 0;
        let mut end = bounds.next().unwrap_or(0);
        for t in chosen {
            while t >= end {
                part += 1;
                end = bounds.next().unwrap_or(u64::MAX);
            }
            if let Some(w) = wanted.get_mut(part) {
                *w += 1;
            }
        }
        let at = db_now();
        let mut slots = taken.into_iter();
        for ((_, mut rows), want) in sample.parts.into_iter().zip(wanted) {
            // A uniform order, so the first `want` rows are a uniform subset.
            for i in (1..rows.len()).rev() {
                let j = (self.next() % (i as u64 + 1)) as usize;
                rows.swap(i, j);
            }
            for row in rows.iter().take(want) {
                if let Some(slot) = slots.next() {
                    self.slots[slot] = (encode(row), at.clone());
                    self.dirty.push(slot);
                }
            }
        }
    }

    fn take_dirty(&mut self) -> Vec<LiveSlot> {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        dirty
            .into_iter()
            .filter_map(|i| {
                self.slots.get(i).map(|(r, at)| LiveSlot {
                    slot: i,
                    record: r.clone(),
                    seen_at: at.clone(),
                })
            })
            .collect()
    }
}

/// The live-sample candidates of a batch: per part of the CSV, its row
/// count and a uniform sample of up to the reservoir's capacity of its rows
/// (algorithm R inside the part, model features only).
#[derive(Debug, Clone, Default)]
pub struct BatchSample {
    /// (rows in the part, sampled rows).
    pub parts: Vec<(u64, Vec<Vec<Value>>)>,
}

/// Algorithm R over one part's rows (xorshift64* from `seed`).
struct PartSampler {
    capacity: usize,
    seen: u64,
    rows: Vec<Vec<Value>>,
    rng: Rng,
}

impl PartSampler {
    fn new(capacity: usize, seed: u64) -> PartSampler {
        PartSampler {
            capacity,
            seen: 0,
            rows: Vec::new(),
            rng: Rng::new(seed),
        }
    }

    fn offer(&mut self, row: &[Value]) {
        if self.capacity == 0 {
            return;
        }
        self.seen += 1;
        match self
            .rng
            .reservoir_slot(self.seen, self.rows.len(), self.capacity)
        {
            Some(new) if new == self.rows.len() => self.rows.push(row.to_vec()),
            Some(old) => {
                if let Some(slot) = self.rows.get_mut(old) {
                    slot.clear();
                    slot.extend_from_slice(row);
                }
            }
            None => {}
        }
    }
}

/// xorshift64*: fast, and its quality is ample for sampling.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Algorithm R: where the `seen`-th record (counted from 1) goes when
    /// `len` of `capacity` slots are filled — the next free slot, a slot to
    /// replace, or nowhere.
    fn reservoir_slot(&mut self, seen: u64, len: usize, capacity: usize) -> Option<usize> {
        if len < capacity {
            return Some(len);
        }
        let j = self.next() % seen.max(1);
        (j < capacity as u64).then_some(j as usize)
    }
}

fn db_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A record as JSON, feature name → value, in the model's feature order.
fn record_json(features: &[FeatureSpec], record: &[Value]) -> String {
    let mut map = serde_json::Map::with_capacity(features.len());
    for (f, v) in features.iter().zip(record) {
        let value = match v {
            Value::Num(x) => serde_json::Number::from_f64(*x).map_or(Json_::Null, Json_::Number),
            Value::Text(t) => t.clone().map_or(Json_::Null, Json_::String),
        };
        map.insert(f.name().to_string(), value);
    }
    Json_::Object(map).to_string()
}

/// Traffic of the current interval, for the per-interval aggregates.
struct Window {
    start: chrono::DateTime<chrono::Utc>,
    started: Instant,
    served: Option<(String, u32)>,
    requests: u64,
    errors: u64,
    latencies_ms: Vec<f64>,
    tally: Tally,
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
    fn new(served: Option<&Served>) -> Window {
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
    fn finish(mut self, endpoint: &str) -> Option<MetricWindow> {
        let (group, version) = self.served.clone()?;
        if self.requests == 0 {
            return None;
        }
        self.latencies_ms.sort_by(f64::total_cmp);
        let pct = |q: f64| -> Option<f64> {
            (!self.latencies_ms.is_empty())
                .then(|| tablero_core::stats::quantile_sorted(&self.latencies_ms, q))
        };
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
        })
    }
}

/// Whether a reply counts as an error in the metrics: 4xx other than
/// 401/429 (the client's key or rate, not the endpoint), and 5xx.
fn counts_as_error(status: StatusCode) -> bool {
    let code = status.as_u16();
    code >= 400 && code != 401 && code != 429
}

/// A JSON error reply.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// A JSON error reply, boxed for `Result` error positions.
fn reject(status: StatusCode, message: impl Into<String>) -> Box<Response> {
    Box::new(error(status, message))
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
        let app = Arc::new(App {
            sources,
            served: ArcSwapOption::empty(),
            keys: ArcSwap::from_pointee(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            metrics: Metrics {
                requests: Mutex::new(HashMap::new()),
                latency: Histogram::new(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                ]),
                score: Histogram::new(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
            },
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
        let keys = self.sources.keys.keys()?;
        self.keys.store(Arc::new(keys));
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
    fn observe(&self, status: StatusCode, latency_ms: f64, scored: Option<&Scored>) {
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
    fn observe_batch(&self, status: StatusCode, scored: Option<(&Served, &Tally)>) {
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

    fn count(&self, route: &'static str, status: StatusCode) {
        if let Ok(mut m) = self.metrics.requests.lock() {
            *m.entry((route, status.as_u16())).or_default() += 1;
        }
    }

    /// Checks the key and the key's rate. Returns the key name.
    fn authorise(&self, headers: &HeaderMap) -> Result<String, Box<Response>> {
        let presented = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
            })
            .map(str::trim);
        let Some(key) = presented else {
            return Err(reject(
                StatusCode::UNAUTHORIZED,
                "missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
            ));
        };
        let hash = key_hash(key);
        let keys = self.keys.load();
        // Constant-time comparison against every active key's hash.
        let info = keys.iter().fold(None, |found, (h, info)| {
            if constant_time_eq(h.as_bytes(), hash.as_bytes()) {
                Some(info.clone())
            } else {
                found
            }
        });
        let Some(info) = info else {
            return Err(reject(
                StatusCode::UNAUTHORIZED,
                "unknown or revoked API key",
            ));
        };
        let mut buckets = self.buckets.lock().map_err(|_| {
            Box::new(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "rate limiter poisoned",
            ))
        })?;
        let now = Instant::now();
        let b = buckets.entry(info.name.clone()).or_insert(TokenBucket {
            tokens: info.rate,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * info.rate)
            .min(info.rate.max(1.0));
        b.last = now;
        if b.tokens < 1.0 {
            let wait = ((1.0 - b.tokens) / info.rate).ceil().max(1.0) as u64;
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "rate limit of {} requests/s exceeded for key {}",
                    info.rate, info.name
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            return Err(Box::new(r));
        }
        b.tokens -= 1.0;
        Ok(info.name)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Validates records against the model's features: values in feature order,
/// or the list of problems.
pub fn records(body: &Json_, features: &[FeatureSpec]) -> Result<Vec<Vec<Value>>, Vec<Json_>> {
    let problem = |index: Option<usize>, field: Option<&str>, reason: String| json!({"index": index, "field": field, "reason": reason});
    let Some(obj) = body.as_object() else {
        return Err(vec![problem(
            None,
            None,
            "the body must be a JSON object {\"records\": [...]}".into(),
        )]);
    };
    let Some(records) = obj.get("records") else {
        return Err(vec![problem(
            None,
            None,
            "wrap the record(s) in {\"records\": [ {...} ]}; a bare record is not accepted".into(),
        )]);
    };
    let Some(records) = records.as_array() else {
        return Err(vec![problem(
            None,
            Some("records"),
            "records must be an array of objects".into(),
        )]);
    };
    if records.is_empty() {
        return Err(vec![problem(
            None,
            Some("records"),
            "records is empty".into(),
        )]);
    }
    let mut out = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let Some(r) = r.as_object() else {
            errors.push(problem(
                Some(i),
                None,
                "a record must be a JSON object".into(),
            ));
            continue;
        };
        let mut values = Vec::with_capacity(features.len());
        for f in features {
            let v = r.get(f.name());
            match (f, v) {
                (_, None) => {
                    errors.push(problem(Some(i), Some(f.name()), "missing feature".into()))
                }
                (FeatureSpec::Numeric { .. }, Some(Json_::Number(n))) => match n.as_f64() {
                    Some(x) if x.is_finite() => values.push(Value::Num(x)),
                    _ => errors.push(problem(
                        Some(i),
                        Some(f.name()),
                        "not a finite number".into(),
                    )),
                },
                (FeatureSpec::Numeric { .. }, Some(Json_::Null)) => {
                    values.push(Value::Num(f64::NAN))
                }
                (FeatureSpec::Numeric { .. }, Some(other)) => errors.push(problem(
                    Some(i),
                    Some(f.name()),
                    format!("expected a number, got {}", kind(other)),
                )),
                (FeatureSpec::Categorical { .. }, Some(Json_::String(s))) => {
                    values.push(Value::Text(Some(s.clone())))
                }
                (FeatureSpec::Categorical { .. }, Some(Json_::Null)) => {
                    values.push(Value::Text(None))
                }
                (FeatureSpec::Categorical { .. }, Some(other)) => errors.push(problem(
                    Some(i),
                    Some(f.name()),
                    format!("expected a string, got {}", kind(other)),
                )),
            }
        }
        out.push(values);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn kind(v: &Json_) -> &'static str {
    match v {
        Json_::Null => "null",
        Json_::Bool(_) => "a boolean",
        Json_::Number(_) => "a number",
        Json_::String(_) => "a string",
        Json_::Array(_) => "an array",
        Json_::Object(_) => "an object",
    }
}

/// Scores one or more records with the deployed version.
#[utoipa::path(post, path = "/v1/predict", request_body = api::PredictRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Scores", body = api::PredictReply),
        (status = 401, description = "No or unknown API key", body = api::ErrorReply),
        (status = 413, description = "Body over 1 MB", body = api::ErrorReply),
        (status = 422, description = "Invalid records", body = api::ValidationErrors),
        (status = 429, description = "Rate limit of the key; see Retry-After", body = api::ErrorReply),
        (status = 503, description = "No model deployed, or the request timed out", body = api::ErrorReply),
    ))]
async fn predict(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    const ROUTE: &str = "/v1/predict";
    let start = Instant::now();
    let (response, key, version, scored) = predict_inner(&app, &headers, &body);
    let status = response.status();
    app.count(ROUTE, status);
    let elapsed = start.elapsed().as_secs_f64();
    app.metrics.latency.observe(elapsed);
    app.observe(status, elapsed * 1e3, scored.as_ref());
    tracing::info!(
        key = key.as_deref().unwrap_or("-"),
        route = ROUTE,
        status = status.as_u16(),
        latency_ms = elapsed * 1e3,
        model_version = version,
        "request"
    );
    response
}

/// A scored request: the model, the records, the predictions.
type Scored = (Arc<Served>, Vec<Vec<Value>>, Vec<Prediction>);

fn predict_inner(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> (Response, Option<String>, Option<u32>, Option<Scored>) {
    let key = match app.authorise(headers) {
        Ok(k) => k,
        Err(r) => return (*r, None, None, None),
    };
    // One load: the whole request uses one model, even across a swap.
    let Some(served) = app.served.load_full() else {
        return (
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "no model is deployed yet (tablero deploy promote VERSION)",
            ),
            Some(key),
            None,
            None,
        );
    };
    let parsed: Json_ = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let r = (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"errors": [{"index": null, "field": null, "reason": format!("invalid JSON: {e}")}]}),
                ),
            );
            return (r.into_response(), Some(key), Some(served.version), None);
        }
    };
    let recs = match records(&parsed, &served.model.encoder.features) {
        Ok(r) => r,
        Err(errors) => {
            return (
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({"errors": errors})),
                )
                    .into_response(),
                Some(key),
                Some(served.version),
                None,
            )
        }
    };
    let (preds, unknown) = served.model.predict(&recs);
    for p in &preds {
        app.metrics.score.observe(p.score);
    }
    let mut reply = json!({"model_version": served.version, "predictions": preds});
    if unknown > 0 {
        reply["warnings"] = json!([format!(
            "{unknown} unknown categor{} encoded as all zeros",
            if unknown == 1 { "y" } else { "ies" }
        )]);
    }
    let version = served.version;
    (
        (StatusCode::OK, Json(reply)).into_response(),
        Some(key),
        Some(version),
        Some((served, recs, preds)),
    )
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Alive")))]
async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
}

/// Readiness: 200 only with a model loaded.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "Serving", body = api::Ready),
    (status = 503, description = "No model loaded", body = api::Ready),
))]
async fn readyz(State(app): State<Arc<App>>) -> Response {
    match app.serving() {
        Some((group, version)) => (
            StatusCode::OK,
            Json(json!({"ready": true, "group": group, "model_version": version})),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "reason": "no model loaded"})),
        )
            .into_response(),
    }
}

/// Service health (the shape of the API Tablero replaces).
#[utoipa::path(get, path = "/health", responses((status = 200, description = "Healthy", body = api::Health)))]
async fn health() -> Response {
    (StatusCode::OK, Json(json!({"status": "healthy", "service": "tablero-serve", "version": env!("CARGO_PKG_VERSION")}))).into_response()
}

/// Prometheus metrics: `tablero_requests_total{route,status}`,
/// `tablero_request_duration_seconds`, `tablero_prediction_score`,
/// `tablero_model_version`.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text", content_type = "text/plain", body = String)))]
async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP tablero_requests_total Requests by route and status.\n# TYPE tablero_requests_total counter\n");
    if let Ok(m) = app.metrics.requests.lock() {
        let mut rows: Vec<_> = m.iter().collect();
        rows.sort();
        for ((route, status), n) in rows {
            out.push_str(&format!(
                "tablero_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n"
            ));
        }
    }
    out.push_str("# HELP tablero_request_duration_seconds Prediction request latency.\n# TYPE tablero_request_duration_seconds histogram\n");
    app.metrics
        .latency
        .render("tablero_request_duration_seconds", "", &mut out);
    out.push_str("# HELP tablero_prediction_score Predicted purchase probability.\n# TYPE tablero_prediction_score histogram\n");
    app.metrics
        .score
        .render("tablero_prediction_score", "", &mut out);
    out.push_str("# HELP tablero_model_version The model version being served.\n# TYPE tablero_model_version gauge\n");
    if let Some((group, v)) = app.serving() {
        out.push_str(&format!("tablero_model_version{{group=\"{group}\"}} {v}\n"));
    }
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}

fn admin_allowed(app: &App, peer: &SocketAddr, headers: &HeaderMap) -> Result<(), Box<Response>> {
    if !peer.ip().is_loopback() {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "admin routes answer only on loopback",
        ));
    }
    let token = headers
        .get("x-admin-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !constant_time_eq(token.as_bytes(), app.admin_token.as_bytes()) {
        return Err(Box::new(error(StatusCode::UNAUTHORIZED, "bad admin token")));
    }
    Ok(())
}

async fn admin_reload(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admin_allowed(&app, &peer, &headers) {
        return *r;
    }
    let app2 = app.clone();
    let result = tokio::task::spawn_blocking(move || {
        app2.reload_keys()?;
        app2.reload_model()
    })
    .await;
    match result {
        Ok(Ok(serving)) => (
            StatusCode::OK,
            Json(json!({"serving": serving.map(|(g, v)| json!({"group": g, "version": v}))})),
        )
            .into_response(),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reload failed, still serving the previous model: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn admin_status(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admin_allowed(&app, &peer, &headers) {
        return *r;
    }
    let serving = app
        .serving()
        .map(|(g, v)| json!({"group": g, "version": v}));
    Json(json!({"serving": serving, "uptime_seconds": app.started.elapsed().as_secs(), "pid": std::process::id()})).into_response()
}

async fn admin_shutdown(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admin_allowed(&app, &peer, &headers) {
        return *r;
    }
    app.shutdown.notify_one();
    Json(json!({"stopping": true})).into_response()
}

/// Scores a CSV of customer feature rows: the input columns plus
/// `prediction_label`, `prediction_score` (probability of the predicted
/// label), `purchase_probability` and `Prediction`.
///
/// Rows are parsed, scored and written in one pass; the file is split at
/// row boundaries (`tablero_core::ingest::split_at_rows`: quoted newlines
/// stay in their row) and scored on every core, the parts joined in order.
pub fn score_csv(model: &Model, bytes: &[u8]) -> Result<ScoredCsv, String> {
    score_csv_sampled(model, bytes, 0, 0)
}

/// [`score_csv`], also keeping a uniform sample of up to `sample` rows per
/// part for the live sample (`seed` seeds the parts' draws).
pub fn score_csv_sampled(
    model: &Model,
    bytes: &[u8],
    sample: usize,
    seed: u64,
) -> Result<ScoredCsv, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text (byte {}); send a CSV",
            e.valid_up_to()
        )
    })?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("not a CSV: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let body_start = usize::try_from(rdr.position().byte())
        .map_err(|_| "the file is too large".to_string())?
        .min(bytes.len());
    let body = &bytes[body_start..];
    let features = &model.encoder.features;
    let missing: Vec<&str> = features
        .iter()
        .map(|f| f.name())
        .filter(|n| !header.iter().any(|h| h == n))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not a CSV of customer features: missing columns {}",
            missing.join(", ")
        ));
    }
    let idx: Vec<usize> = features
        .iter()
        .map(|f| header.iter().position(|h| h == f.name()).unwrap_or(0))
        .collect();
    let mut columns = header.clone();
    columns.extend(
        [
            "prediction_label",
            "prediction_score",
            "purchase_probability",
            "Prediction",
        ]
        .map(String::from),
    );
    let mut out = csv::Writer::from_writer(Vec::with_capacity(bytes.len() * 2));
    out.write_record(&columns).map_err(|e| e.to_string())?;
    let mut out = out.into_inner().map_err(|e| e.to_string())?;

    // The one CSV reader's row splitter: quoted newlines stay inside a part.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let parts = tablero_core::ingest::split_at_rows(body, workers);
    let width = header.len();
    let results: Vec<Result<ScoredPart, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(i, &(start, end, first_line))| {
                let first_line = first_line as usize;
                let idx = &idx;
                let sampler = PartSampler::new(
                    sample,
                    seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                );
                s.spawn(move || {
                    score_part(model, &body[start..end], idx, first_line, width, sampler)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("scoring failed".into())))
            .collect()
    });
    let mut tally = Tally::new(model);
    let mut batch_sample = BatchSample::default();
    for r in results {
        let (bytes, t, sampler) = r?;
        out.extend_from_slice(&bytes);
        tally.merge(&t);
        batch_sample.parts.push((sampler.seen, sampler.rows));
    }
    let counts = [tally.predictions - tally.positives, tally.positives];
    if counts[0] + counts[1] == 0 {
        return Err("the CSV has a header but no customer rows".into());
    }
    Ok(ScoredCsv {
        bytes: out,
        counts,
        columns,
        tally,
        sample: batch_sample,
    })
}

/// One part of a batch: its scored CSV rows, their tally, its sample.
type ScoredPart = (Vec<u8>, Tally, PartSampler);

/// Parses, scores and writes one part of a batch CSV, a block of rows at a
/// time (see [`Model::predict`]).
fn score_part(
    model: &Model,
    part: &[u8],
    idx: &[usize],
    first_line: usize,
    width: usize,
    mut sampler: PartSampler,
) -> Result<ScoredPart, String> {
    const BLOCK: usize = 256;
    let features = &model.encoder.features;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(part);
    let mut out = csv::Writer::from_writer(Vec::with_capacity(part.len() * 2));
    let mut recs: Vec<csv::ByteRecord> = vec![csv::ByteRecord::new(); BLOCK];
    let mut values: Vec<Vec<Value>> = (0..BLOCK)
        .map(|_| Vec::with_capacity(features.len()))
        .collect();
    let mut tally = Tally::new(model);
    let mut number = String::new();
    loop {
        let mut filled = 0;
        while filled < BLOCK {
            let rec = &mut recs[filled];
            let more = rdr.read_byte_record(rec).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line() as usize);
                format!("line {}: {e}", first_line + line.saturating_sub(1))
            })?;
            if !more {
                break;
            }
            let line = first_line
                + rec
                    .position()
                    .map_or(0, |p| p.line() as usize)
                    .saturating_sub(1);
            if rec.len() != width {
                return Err(format!(
                    "line {line}: {} fields where the header has {width}",
                    rec.len()
                ));
            }
            let row = &mut values[filled];
            row.clear();
            for (f, &i) in features.iter().zip(idx) {
                let cell = std::str::from_utf8(rec.get(i).unwrap_or_default())
                    .unwrap_or_default()
                    .trim();
                row.push(match f {
                    FeatureSpec::Numeric { name, .. } => {
                        if cell.is_empty() {
                            Value::Num(f64::NAN)
                        } else {
                            match cell.parse::<f64>() {
                                Ok(x) if x.is_finite() => Value::Num(x),
                                _ => {
                                    return Err(format!(
                                        "line {line}: {name} = {cell:?} is not a number"
                                    ))
                                }
                            }
                        }
                    }
                    FeatureSpec::Categorical { .. } => {
                        Value::Text((!cell.is_empty()).then(|| cell.to_string()))
                    }
                });
            }
            filled += 1;
        }
        if filled == 0 {
            break;
        }
        let (preds, _) = model.predict(&values[..filled]);
        tally.add(model, &values[..filled], &preds);
        for row in &values[..filled] {
            sampler.offer(row);
        }
        for (rec, p) in recs.iter().zip(&preds) {
            for field in rec.iter() {
                out.write_field(field).map_err(|e| e.to_string())?;
            }
            let label_prob = if p.label == 1 { p.score } else { 1.0 - p.score };
            out.write_field(if p.label == 1 { "1" } else { "0" })
                .map_err(|e| e.to_string())?;
            use std::fmt::Write as _;
            number.clear();
            let _ = write!(number, "{label_prob}");
            out.write_field(&number).map_err(|e| e.to_string())?;
            number.clear();
            let _ = write!(number, "{}", p.score);
            out.write_field(&number).map_err(|e| e.to_string())?;
            out.write_field(if p.label == 1 {
                "Buy in 90 days"
            } else {
                "Will not buy in 90 days"
            })
            .map_err(|e| e.to_string())?;
            out.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
        }
        if filled < BLOCK {
            break;
        }
    }
    let bytes = out.into_inner().map_err(|e| e.to_string())?;
    Ok((bytes, tally, sampler))
}

/// Scores a CSV of customer feature rows (multipart field `file`, up to 64 MB).
#[utoipa::path(post, path = "/predict", request_body(content = api::BatchForm, content_type = "multipart/form-data"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Summary; fetch the scored CSV by id", body = api::BatchReply),
        (status = 400, description = "Not a CSV of customer features", body = api::ErrorReply),
        (status = 401, description = "No or unknown API key", body = api::ErrorReply),
        (status = 503, description = "No model deployed, or the request timed out", body = api::ErrorReply),
    ))]
async fn predict_batch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    const ROUTE: &str = "/predict";
    let start = Instant::now();
    let mut batch: Option<(Arc<Served>, Tally)> = None;
    let response = async {
        let key = app.authorise(&headers).map_err(|r| *r)?;
        let served = app
            .served
            .load_full()
            .ok_or_else(|| error(StatusCode::SERVICE_UNAVAILABLE, "no model is deployed yet"))?;
        let mut file: Option<Bytes> = None;
        loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    if field.name() == Some("file") {
                        let data = field.bytes().await.map_err(|e| error(StatusCode::BAD_REQUEST, format!("cannot read the upload: {e}")))?;
                        file = Some(data);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(error(StatusCode::BAD_REQUEST, format!("not a multipart form: {e}"))),
            }
        }
        let file = file.ok_or_else(|| error(StatusCode::BAD_REQUEST, "send the CSV in the multipart field `file`"))?;
        let model = served.clone();
        let upload_ms = start.elapsed().as_secs_f64() * 1e3;
        let scoring = Instant::now();
        let (capacity, seed) = app
            .sample
            .lock()
            .map(|mut r| (r.capacity, r.next()))
            .unwrap_or((0, 0));
        let scored = tokio::task::spawn_blocking(move || {
            score_csv_sampled(&model.model, &file, capacity, seed)
        })
            .await
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
        let ScoredCsv { bytes: csv_bytes, counts, columns, tally, sample } = scored;
        if let Ok(mut reservoir) = app.sample.lock() {
            let features = &served.model.encoder.features;
            reservoir.offer_batch(sample, |row| record_json(features, row));
        }
        batch = Some((served.clone(), tally));
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        if let Ok(mut stored) = app.predictions.lock() {
            stored.retain(|(_, at, _)| at.elapsed() < PREDICTIONS_TTL);
            if stored.len() >= MAX_PREDICTIONS {
                stored.remove(0);
            }
            stored.push((id.clone(), Instant::now(), Arc::new(csv_bytes)));
        }
        let total = counts[0] + counts[1];
        let score_ms = scoring.elapsed().as_secs_f64() * 1e3;
        tracing::info!(key = %key, route = ROUTE, customers = total, model_version = served.version, upload_ms, score_ms, "batch scored");
        Ok(Json(json!({
            "status": "success",
            "message": format!("scored {total} customers with model {}/v{}", served.group, served.version),
            "prediction_summary": {
                "total_customers": total,
                "predicted_to_buy": counts[1],
                "predicted_not_to_buy": counts[0],
                "buy_percentage": (counts[1] as f64 * 10000.0 / total as f64).round() / 100.0,
            },
            "model_used": format!("{}/v{}", served.group, served.version),
            "model_was_auto_selected": true,
            "columns_in_output": columns,
            "predictions_id": id,
        }))
        .into_response())
    }
    .await
    .unwrap_or_else(|r: Response| r);
    app.count(ROUTE, response.status());
    app.metrics.latency.observe(start.elapsed().as_secs_f64());
    app.observe_batch(
        response.status(),
        batch
            .as_ref()
            .map(|(served, tally)| (served.as_ref(), tally)),
    );
    response
}

/// The scored CSV of a batch: the input columns plus `prediction_label`,
/// `prediction_score`, `purchase_probability` and `Prediction`.
#[utoipa::path(get, path = "/predictions/{id}", params(("id" = String, Path, description = "predictions_id of the batch")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The CSV", content_type = "text/csv", body = String),
        (status = 404, description = "Unknown or expired id", body = api::ErrorReply),
    ))]
async fn get_predictions(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Err(r) = app.authorise(&headers) {
        return *r;
    }
    let found = app.predictions.lock().ok().and_then(|stored| {
        stored
            .iter()
            .find(|(i, at, _)| {
                constant_time_eq(i.as_bytes(), id.as_bytes()) && at.elapsed() < PREDICTIONS_TTL
            })
            .map(|(_, _, b)| b.clone())
    });
    match found {
        Some(bytes) => (
            [("content-type", "text/csv; charset=utf-8")],
            bytes.as_ref().clone(),
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no predictions with id {id} (they expire after an hour)"),
        ),
    }
}

/// Registered model versions, newest first.
#[utoipa::path(get, path = "/models", responses((status = 200, description = "Versions", body = api::Models)))]
async fn models(State(app): State<Arc<App>>) -> Response {
    let group = app
        .serving()
        .map(|(g, _)| g)
        .unwrap_or_else(|| "default".into());
    let listed = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || app.sources.model.catalogue(&group)).await
    };
    match listed {
        Ok(Ok(listed)) => {
            let models: Vec<Json_> = listed
                .into_iter()
                .map(|m| {
                    json!({
                        "filename": m.name,
                        "size_bytes": m.size_bytes,
                        "created_timestamp": m.created,
                        "modified_timestamp": m.modified,
                        "status": m.status,
                    })
                })
                .collect();
            let latest = models
                .first()
                .map(|m| m["filename"].clone())
                .unwrap_or(Json_::Null);
            Json(json!({"total_models": models.len(), "latest_model": latest, "models": models}))
                .into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// This API's OpenAPI 3.1 document, generated from the handlers.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
async fn openapi() -> Response {
    Json(<api::ApiDoc as utoipa::OpenApi>::openapi()).into_response()
}

/// Default for how long a request may take before the server answers 503
/// (the batch route scores 100,000 customers in well under a second).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

async fn time_limit(
    State(app): State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let timeout = Duration::from_millis(app.timeout_ms.load(Ordering::Relaxed));
    let start = Instant::now();
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            // The handler was dropped before it counted itself.
            let status = StatusCode::SERVICE_UNAVAILABLE;
            match path.as_str() {
                "/v1/predict" => {
                    app.count("/v1/predict", status);
                    app.observe(status, start.elapsed().as_secs_f64() * 1e3, None);
                }
                "/predict" => {
                    app.count("/predict", status);
                    app.observe_batch(status, None);
                }
                _ => {}
            }
            timed_out(timeout)
        }
    }
}

/// The reply to a request over the time limit.
fn timed_out(timeout: Duration) -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the request took longer than {:.1} s and was abandoned; send fewer records per request",
            timeout.as_secs_f64()
        ),
    )
}

/// The routes. Every request is limited to the app's request timeout.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/predict",
            post(predict_batch).layer(DefaultBodyLimit::max(BATCH_LIMIT)),
        )
        .route("/predictions/{id}", get(get_predictions))
        .route("/models", get(models))
        .route("/v1/predict", post(predict))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/admin/reload", post(admin_reload))
        .route("/admin/status", get(admin_status))
        .route("/admin/shutdown", post(admin_shutdown))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            time_limit,
        ))
        .with_state(app)
}

/// Serves until `stop` resolves or an admin shutdown; in-flight requests
/// finish first. Keys are re-read every `key_refresh`.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    key_refresh: Duration,
    metrics_interval: Duration,
) -> std::io::Result<()> {
    let flusher = {
        let app = app.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(metrics_interval).await;
                let a = app.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || a.flush_metrics()).await {
                    tracing::warn!(error = %e, "could not write metrics");
                }
            }
        })
    };
    let refresher = {
        let app = app.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(key_refresh).await;
                let a = app.clone();
                let _ = tokio::task::spawn_blocking(move || a.reload_keys()).await;
            }
        })
    };
    let shutdown_app = app.clone();
    let app_for_flush = app.clone();
    let result = axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        tokio::select! {
            _ = stop => {},
            _ = shutdown_app.shutdown.notified() => {},
        }
    })
    .await;
    refresher.abort();
    flusher.abort();
    let a = app_for_flush;
    let _ = tokio::task::spawn_blocking(move || a.flush_metrics()).await;
    result
}

/// Default length of a metrics window.
pub const METRICS_INTERVAL: Duration = Duration::from_secs(60);

/// How to run the endpoint.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Address to bind (`127.0.0.1`: loopback only).
    pub host: String,
    /// Port (0 picks a free one).
    pub port: u16,
    /// Length of a metrics window.
    pub metrics_interval: Duration,
    /// Where to record the running endpoint (pid, URL, admin token) while
    /// it runs, if anywhere (`<workspace>/endpoint.json` locally).
    pub state_file: Option<PathBuf>,
}

impl RunOptions {
    /// Bind `host:port`, write a metrics window every `metrics_interval`
    /// seconds (at least 1), record the running endpoint in `state_file`.
    pub fn new(
        host: &str,
        port: u16,
        metrics_interval: u64,
        state_file: Option<PathBuf>,
    ) -> RunOptions {
        RunOptions {
            host: host.to_string(),
            port,
            metrics_interval: Duration::from_secs(metrics_interval.max(1)),
            state_file,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            host: "127.0.0.1".into(),
            port: 8080,
            metrics_interval: METRICS_INTERVAL,
            state_file: None,
        }
    }
}

/// Runs the endpoint until SIGINT/SIGTERM or an admin shutdown: JSON logs
/// on stdout, the state file while it runs. What `tablero-serve`, `tablero
/// endpoint serve` and `tablero-desktop serve-endpoint` run.
pub fn run(sources: Sources, options: RunOptions) -> anyhow::Result<()> {
    use anyhow::Context;
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let RunOptions {
        host,
        port,
        metrics_interval,
        state_file,
    } = options;
    runtime.block_on(async {
        let app = App::new(sources).context("loading the model and keys")?;
        let listener = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        let addr = listener.local_addr()?;
        if let Some(file) = &state_file {
            let state = json!({
                "pid": std::process::id(),
                "url": format!("http://{addr}"),
                "port": addr.port(),
                "admin_token": app.admin_token(),
                "started_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            let tmp = file.with_extension("json.part");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&state)?)?;
            std::fs::rename(&tmp, file)?;
        }
        tracing::info!(url = %format!("http://{addr}"), serving = ?app.serving(), "listening");
        let stop = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut term) => {
                        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
                    }
                    Err(_) => {
                        let _ = ctrl_c.await;
                    }
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        };
        let result = serve(
            app,
            listener,
            stop,
            Duration::from_secs(1),
            metrics_interval,
        )
        .await;
        if let Some(file) = &state_file {
            let _ = std::fs::remove_file(file);
        }
        tracing::info!("stopped");
        result.context("serving")
    })
}
