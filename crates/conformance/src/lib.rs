//! `tablero-conformance`: contract tests shared by several crates.
//!
//! * [`suite`]: the backend conformance suite, written once against the
//!   ports of `tablero_core::ports` and instantiated per backend with
//!   [`conformance_suite!`] (one `#[test]` per case per backend). See this
//!   crate's README for how a backend runs it.
//! * [`shape`]: the JSON shape (keys and value types, recursively) of the
//!   replies of the CLI (`--json`) and of the desktop app's IPC, recorded
//!   in `tests/shapes/` and checked so that keys are only ever added.

pub mod shape;
pub mod suite;

/// A feature record a model accepts: each numeric feature at its training
/// mean, each categorical one at its first category, from a model card as
/// `models show --json` and the desktop's `model_show` return it
/// (`{"card": {"feature_schema": [...]}}` or the card itself).
pub fn typical_record(card: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let schema = card
        .get("card")
        .unwrap_or(card)
        .get("feature_schema")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    schema
        .iter()
        .filter_map(|f| {
            let value = if f["kind"] == "numeric" {
                f["mean"].clone()
            } else {
                f["categories"][0].clone()
            };
            Some((f["name"].as_str()?.to_string(), value))
        })
        .collect()
}

/// Sends `times` prediction requests of [`typical_record`] to an
/// endpoint's `/v1/predict` at `url` with `key`; each must be answered 200.
pub fn send_typical_traffic(url: &str, key: &str, card: &serde_json::Value, times: usize) {
    let record = typical_record(card);
    assert!(!record.is_empty(), "the card has a feature schema: {card}");
    let body = serde_json::json!({ "records": [record] }).to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for _ in 0..times {
        let resp = agent
            .post(format!("{url}/v1/predict"))
            .header("x-api-key", key)
            .send(body.as_str())
            .expect("the endpoint answers");
        assert_eq!(resp.status().as_u16(), 200, "a typical record is scored");
    }
}
