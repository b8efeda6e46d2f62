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
mod app;
mod auth;
mod batch;
pub mod container;
mod metrics;
mod reservoir;
mod routes;
mod server;
pub mod source;
mod validation;
mod window;

use std::time::Duration;

pub use app::{App, Served};
pub use batch::{score_csv, score_csv_sampled, ScoredCsv};
pub use reservoir::BatchSample;
pub use routes::router;
pub use server::{run, serve, RunOptions, ServeArgs};
pub use source::{KeyInfo, Sources};
pub use validation::records;
pub use window::Tally;

/// Body limit of the JSON routes.
pub const BODY_LIMIT: usize = 1 << 20;

/// Body limit of the batch CSV route.
pub const BATCH_LIMIT: usize = 64 << 20;

/// How long a batch's scored CSV can be fetched.
pub const PREDICTIONS_TTL: Duration = Duration::from_secs(3600);

/// Default for how long a request may take before the server answers 503
/// (the batch route scores 100,000 customers in well under a second).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Default length of a metrics window.
pub const METRICS_INTERVAL: Duration = Duration::from_secs(60);
