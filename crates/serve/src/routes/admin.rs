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
async fn reload(State(app): State<Arc<App>>) -> Response {
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
async fn status(State(app): State<Arc<App>>) -> Response {
    let serving = app
        .serving()
        .map(|(g, v)| json!({"group": g, "version": v}));
    Json(json!({"serving": serving, "uptime_seconds": app.started.elapsed().as_secs(), "pid": std::process::id()})).into_response()
}

/// Stops the server once in-flight requests finish.
async fn shutdown(State(app): State<Arc<App>>) -> Response {
    app.shutdown.notify_one();
    Json(json!({"stopping": true})).into_response()
}
