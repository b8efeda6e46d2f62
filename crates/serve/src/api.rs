//! The HTTP API's shapes, for the OpenAPI document served at
//! `/openapi.json`. The document is generated from these types and from the
//! `#[utoipa::path]` annotations on the handlers in `lib.rs`; the handlers
//! build the same JSON (the tests check both).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// Records to score: feature name → value (numbers for numeric features,
/// strings for categorical ones; `null` = missing).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"records": [{"Recency": 12, "Frequency": 4, "Monetary": 812.5, "MostFrequentCountry": "United Kingdom"}]}))]
pub struct PredictRequest {
    /// One or more records. A bare object is refused: wrap it in `records`.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<BTreeMap<String, serde_json::Value>>,
}

/// One prediction.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PredictionOut {
    /// Probability of a purchase within the horizon.
    pub score: f64,
    /// 1 when the score is at or above the model card's threshold.
    pub label: u8,
}

/// Scores, in the order of the records.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"model_version": 3, "predictions": [{"score": 0.71, "label": 1}], "warnings": null}))]
pub struct PredictReply {
    /// The version that scored them.
    pub model_version: u32,
    /// One per record.
    pub predictions: Vec<PredictionOut>,
    /// Present when unknown categories were seen (encoded as all zeros).
    pub warnings: Option<Vec<String>>,
}

/// One invalid field.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Record index (absent for errors about the body as a whole).
    pub index: Option<usize>,
    /// Feature name.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// 422: every problem found in the body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"errors": [{"index": 0, "field": "Recency", "reason": "expected a number, got \"twelve\""}]}))]
pub struct ValidationErrors {
    /// The problems.
    pub errors: Vec<FieldError>,
}

/// Any other error.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": "no API key: send Authorization: Bearer KEY or x-api-key: KEY"}))]
pub struct ErrorReply {
    /// What went wrong and what to do.
    pub error: String,
}

/// The multipart form of `POST /predict`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchForm {
    /// A CSV of customer feature rows with a header.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Accepted for compatibility; the output is fetched by id.
    pub output_filename: Option<String>,
}

/// Counts of a scored batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PredictionSummary {
    /// Rows scored.
    pub total_customers: u64,
    /// Rows with label 1.
    pub predicted_to_buy: u64,
    /// Rows with label 0.
    pub predicted_not_to_buy: u64,
    /// Share with label 1, in percent (two decimals).
    pub buy_percentage: f64,
}

/// The reply to a batch (the shape of the API Tablero replaces).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "success", "message": "Scored 2 customers with default/v3", "prediction_summary": {"total_customers": 2, "predicted_to_buy": 1, "predicted_not_to_buy": 1, "buy_percentage": 50.0}, "model_used": "default/v3", "model_was_auto_selected": true, "columns_in_output": ["CustomerID", "Recency", "prediction_label", "prediction_score", "purchase_probability", "Prediction"], "predictions_id": "b6c1f0e2"}))]
pub struct BatchReply {
    /// `success`.
    pub status: String,
    /// A sentence for people.
    pub message: String,
    /// Counts.
    pub prediction_summary: PredictionSummary,
    /// `group/vN`.
    pub model_used: String,
    /// Always true: the deployed version is used.
    pub model_was_auto_selected: bool,
    /// Columns of the scored CSV.
    pub columns_in_output: Vec<String>,
    /// Id for `GET /predictions/{id}`; expires after an hour.
    pub predictions_id: String,
}

/// `GET /health`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "healthy", "service": "tablero-serve", "version": "0.1.0"}))]
pub struct Health {
    /// `healthy`.
    pub status: String,
    /// `tablero-serve`.
    pub service: String,
    /// Server version.
    pub version: String,
}

/// One registered model version in `GET /models`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelFile {
    /// `group/vN`.
    pub filename: String,
    /// Artifact size.
    pub size_bytes: u64,
    /// Registration time (RFC 3339).
    pub created_timestamp: String,
    /// Last decision time, else registration time.
    pub modified_timestamp: String,
    /// PendingManualApproval, Approved or Rejected.
    pub status: String,
}

/// `GET /models`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"models": [{"filename": "default/v3", "size_bytes": 20480, "created_timestamp": "2026-11-30T10:00:00Z", "modified_timestamp": "2026-11-30T11:00:00Z", "status": "Approved"}], "total_models": 1, "latest_model": "default/v3"}))]
pub struct Models {
    /// Newest first.
    pub models: Vec<ModelFile>,
    /// How many.
    pub total_models: usize,
    /// The newest, or null.
    pub latest_model: Option<String>,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"ready": true, "group": "default", "model_version": 3, "reason": null}))]
pub struct Ready {
    /// Whether a model is loaded.
    pub ready: bool,
    /// Model group, when ready.
    pub group: Option<String>,
    /// Version served, when ready.
    pub model_version: Option<u32>,
    /// Why not, when not ready.
    pub reason: Option<String>,
}

/// A served version, in the admin replies.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServingVersion {
    /// Model group.
    pub group: String,
    /// Version.
    pub version: u32,
}

/// `GET /admin/status`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"serving": {"group": "default", "version": 3}, "uptime_seconds": 812, "pid": 4242}))]
pub struct AdminStatus {
    /// What is served, or null.
    pub serving: Option<ServingVersion>,
    /// Seconds since the server started.
    pub uptime_seconds: u64,
    /// The server's process id.
    pub pid: u32,
}

/// `POST /admin/reload`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"serving": {"group": "default", "version": 4}}))]
pub struct Reloaded {
    /// What is served after the reload, or null.
    pub serving: Option<ServingVersion>,
}

/// `POST /admin/shutdown`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"stopping": true}))]
pub struct Stopping {
    /// Always true.
    pub stopping: bool,
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tablero inference endpoint",
        description = "Scores customers with the deployed model version. Predict routes need an API key (`Authorization: Bearer KEY` or `x-api-key: KEY`)."
    ),
    paths(
        crate::routes::predict::predict,
        crate::routes::batch::predict_batch,
        crate::routes::batch::get_predictions,
        crate::routes::info::models,
        crate::routes::info::health,
        crate::routes::info::healthz,
        crate::routes::info::readyz,
        crate::routes::info::metrics,
        crate::routes::info::openapi,
        crate::routes::admin::reload,
        crate::routes::admin::status,
        crate::routes::admin::shutdown,
    ),
    components(schemas(
        PredictRequest,
        PredictReply,
        PredictionOut,
        ValidationErrors,
        FieldError,
        ErrorReply,
        BatchForm,
        BatchReply,
        PredictionSummary,
        Health,
        Models,
        ModelFile,
        Ready,
        ServingVersion,
        AdminStatus,
        Reloaded,
        Stopping
    )),
    modifiers(&ApiKeys)
)]
pub struct ApiDoc;

struct ApiKeys;

impl utoipa::Modify for ApiKeys {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-admin-token"))),
        );
    }
}
