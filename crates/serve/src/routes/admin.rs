//! The admin routes: `POST /admin/reload`, `GET /admin/status`, `POST
//! /admin/shutdown`, nested under `/admin` behind one guard
//! ([`crate::auth::admin_guard`]: loopback and the admin token).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::error;
use crate::auth::admin_guard;
use crate::App;

/// The admin routes, every one behind the guard.
pub(crate) fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/reload", post(reload))
        .route("/status", get(status))
        .route("/shutdown", post(shutdown))
        .route_layer(axum::middleware::from_fn_with_state(app, admin_guard))
}

/// Re-reads the keys and the version to serve.
#[utoipa::path(post, path = "/admin/reload", security(("admin_token" = [])),
    responses(
        (status = 200, description = "Reloaded", body = crate::api::Reloaded),
        (status = 401, description = "No or wrong admin token", body = crate::api::ErrorReply),
        (status = 403, description = "Not from loopback", body = crate::api::ErrorReply),
        (status = 500, description = "The reload failed; the previous model is still served", body = crate::api::ErrorReply),
    ))]
pub(crate) async fn reload(State(app): State<Arc<App>>) -> Response {
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

/// What is served, for how long, by which process.
#[utoipa::path(get, path = "/admin/status", security(("admin_token" = [])),
    responses(
        (status = 200, description = "Status", body = crate::api::AdminStatus),
        (status = 401, description = "No or wrong admin token", body = crate::api::ErrorReply),
        (status = 403, description = "Not from loopback", body = crate::api::ErrorReply),
    ))]
pub(crate) async fn status(State(app): State<Arc<App>>) -> Response {
    let serving = app
        .serving()
        .map(|(g, v)| json!({"group": g, "version": v}));
    Json(json!({"serving": serving, "uptime_seconds": app.started.elapsed().as_secs(), "pid": std::process::id()})).into_response()
}

/// Stops the server once in-flight requests finish.
#[utoipa::path(post, path = "/admin/shutdown", security(("admin_token" = [])),
    responses(
        (status = 200, description = "Stopping", body = crate::api::Stopping),
        (status = 401, description = "No or wrong admin token", body = crate::api::ErrorReply),
        (status = 403, description = "Not from loopback", body = crate::api::ErrorReply),
    ))]
pub(crate) async fn shutdown(State(app): State<Arc<App>>) -> Response {
    app.shutdown.notify_one();
    Json(json!({"stopping": true})).into_response()
}
