//! Checks the records of `POST /v1/predict` against the model's features.

use serde_json::{json, Value as Json};
use tablero_core::train::dataset::{FeatureSpec, Value};

/// Validates records against the model's features: values in feature order,
/// or the list of problems.
pub fn records(body: &Json, features: &[FeatureSpec]) -> Result<Vec<Vec<Value>>, Vec<Json>> {
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
                (FeatureSpec::Numeric { .. }, Some(Json::Number(n))) => match n.as_f64() {
                    Some(x) if x.is_finite() => values.push(Value::Num(x)),
                    _ => errors.push(problem(
                        Some(i),
                        Some(f.name()),
                        "not a finite number".into(),
                    )),
                },
                (FeatureSpec::Numeric { .. }, Some(Json::Null)) => {
                    values.push(Value::Num(f64::NAN))
                }
                (FeatureSpec::Numeric { .. }, Some(other)) => errors.push(problem(
                    Some(i),
                    Some(f.name()),
                    format!("expected a number, got {}", kind(other)),
                )),
                (FeatureSpec::Categorical { .. }, Some(Json::String(s))) => {
                    values.push(Value::Text(Some(s.clone())))
                }
                (FeatureSpec::Categorical { .. }, Some(Json::Null)) => {
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

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
