//! `POST /v1/predict`: scores records with the deployed version.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value as JsonValue};

use super::error;
use crate::app::Scored;
use crate::validation::records;
use crate::{api, App};

/// Scores one or more records with the deployed version.
#[utoipa::path(post, path = "/v1/predict", request_body = api::PredictRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Scores", body = api::PredictReply),
        (status = 400, description = "The body is not JSON", body = api::ValidationErrors),
        (status = 401, description = "No or unknown API key", body = api::ErrorReply),
        (status = 413, description = "Body over 1 MB", body = api::ErrorReply),
        (status = 422, description = "Invalid records", body = api::ValidationErrors),
        (status = 429, description = "Rate limit of the key; see Retry-After", body = api::ErrorReply),
        (status = 503, description = "No model deployed, or the request timed out", body = api::ErrorReply),
    ))]
pub(crate) async fn predict(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const ROUTE: &str = "/v1/predict";
    let start = Instant::now();
    let (response, key, version, scored) = predict_inner(&app, &headers, &body);
    let status = response.status();
    app.metrics.count(ROUTE, status);
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

pub(crate) fn predict_inner(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> (Response, Option<String>, Option<u32>, Option<Scored>) {
    let key = match app.keys.authorise(headers) {
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
    let parsed: JsonValue = match serde_json::from_slice(body) {
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
