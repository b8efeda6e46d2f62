//! Health, metrics, the model catalogue and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value as JsonValue};

use super::error;
use crate::{api, App};

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Alive")))]
pub(crate) async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
}

/// Readiness: 200 only with a model loaded.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "Serving", body = api::Ready),
    (status = 503, description = "No model loaded", body = api::Ready),
))]
pub(crate) async fn readyz(State(app): State<Arc<App>>) -> Response {
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
pub(crate) async fn health() -> Response {
    (StatusCode::OK, Json(json!({"status": "healthy", "service": "tablero-serve", "version": env!("CARGO_PKG_VERSION")}))).into_response()
}

/// Prometheus metrics: `tablero_requests_total{route,status}`,
/// `tablero_request_duration_seconds`, `tablero_prediction_score`,
/// `tablero_model_version`.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(app): State<Arc<App>>) -> Response {
    let out = app.metrics.render(app.serving());
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}

/// Registered model versions, newest first.
#[utoipa::path(get, path = "/models", responses((status = 200, description = "Versions", body = api::Models)))]
pub(crate) async fn models(State(app): State<Arc<App>>) -> Response {
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
            let models: Vec<JsonValue> = listed
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
                .unwrap_or(JsonValue::Null);
            Json(json!({"total_models": models.len(), "latest_model": latest, "models": models}))
                .into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// This API's OpenAPI 3.1 document, generated from the handlers.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
pub(crate) async fn openapi() -> Response {
    Json(<api::ApiDoc as utoipa::OpenApi>::openapi()).into_response()
}
