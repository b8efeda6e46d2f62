//! The batch routes: `POST /predict` scores a CSV, `GET /predictions/{id}`
//! returns the scored CSV.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Multipart, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error;
use crate::app::{Served, MAX_PREDICTIONS};
use crate::auth::constant_time_eq;
use crate::batch::{score_csv_sampled, ScoredCsv};
use crate::window::{record_json, Tally};
use crate::{api, App, PREDICTIONS_TTL};

/// Scores a CSV of customer feature rows (multipart field `file`, up to 64 MB).
#[utoipa::path(post, path = "/predict", request_body(content = api::BatchForm, content_type = "multipart/form-data"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Summary; fetch the scored CSV by id", body = api::BatchReply),
        (status = 400, description = "Not a CSV of customer features", body = api::ErrorReply),
        (status = 401, description = "No or unknown API key", body = api::ErrorReply),
        (status = 413, description = "Upload over 64 MB", body = api::ErrorReply),
        (status = 429, description = "Rate limit of the key; see Retry-After", body = api::ErrorReply),
        (status = 503, description = "No model deployed, or the request timed out", body = api::ErrorReply),
    ))]
pub(crate) async fn predict_batch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    const ROUTE: &str = "/predict";
    let start = Instant::now();
    let mut batch: Option<(Arc<Served>, Tally)> = None;
    let response = async {
        let key = app.keys.authorise(&headers).map_err(|r| *r)?;
        let served = app
            .served
            .load_full()
            .ok_or_else(|| error(StatusCode::SERVICE_UNAVAILABLE, "no model is deployed yet"))?;
        let mut file: Option<Bytes> = None;
        loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    if field.name() == Some("file") {
                        // Over the limit is 413, a broken form 400: the form's own status.
                        let data = field.bytes().await.map_err(|e| error(e.status(), format!("cannot read the upload: {e}")))?;
                        file = Some(data);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(error(e.status(), format!("not a multipart form: {e}"))),
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
    app.metrics.count(ROUTE, response.status());
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
        (status = 401, description = "No or unknown API key", body = api::ErrorReply),
        (status = 404, description = "Unknown or expired id", body = api::ErrorReply),
        (status = 429, description = "Rate limit of the key; see Retry-After", body = api::ErrorReply),
    ))]
pub(crate) async fn get_predictions(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Err(r) = app.keys.authorise(&headers) {
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
