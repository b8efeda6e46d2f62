//! The HTTP routes, by concern: scoring ([`predict`]), batches ([`batch`]),
//! health and catalogue ([`info`]), and the admin routes ([`admin`], one
//! nested router behind one guard). Every request is limited to the app's
//! request timeout.

pub(crate) mod admin;
pub(crate) mod batch;
pub(crate) mod info;
pub(crate) mod predict;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::{App, BATCH_LIMIT, BODY_LIMIT};

/// Whether a reply counts as an error in the metrics: 4xx other than
/// 401/429 (the client's key or rate, not the endpoint), and 5xx.
pub(crate) fn counts_as_error(status: StatusCode) -> bool {
    let code = status.as_u16();
    code >= 400 && code != 401 && code != 429
}

/// A JSON error reply.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// A JSON error reply, boxed for `Result` error positions.
pub(crate) fn reject(status: StatusCode, message: impl Into<String>) -> Box<Response> {
    Box::new(error(status, message))
}

/// The routes. Every request is limited to the app's request timeout.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/predict",
            post(batch::predict_batch).layer(DefaultBodyLimit::max(BATCH_LIMIT)),
        )
        .route("/predictions/{id}", get(batch::get_predictions))
        .route("/models", get(info::models))
        .route("/v1/predict", post(predict::predict))
        .route("/healthz", get(info::healthz))
        .route("/readyz", get(info::readyz))
        .route("/health", get(info::health))
        .route("/metrics", get(info::metrics))
        .route("/openapi.json", get(info::openapi))
        .nest("/admin", admin::router(app.clone()))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            time_limit,
        ))
        .with_state(app)
}

async fn time_limit(
    State(app): State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let timeout = app.request_timeout();
    let start = Instant::now();
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            // The handler was dropped before it counted itself.
            let status = StatusCode::SERVICE_UNAVAILABLE;
            match path.as_str() {
                "/v1/predict" => {
                    app.metrics.count("/v1/predict", status);
                    app.observe(status, start.elapsed().as_secs_f64() * 1e3, None);
                }
                "/predict" => {
                    app.metrics.count("/predict", status);
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
