//! Property-based tests of what clients send the endpoint: the JSON of
//! `POST /v1/predict` (checked against a real model's features) and the
//! CSV of `POST /predict`. Neither may panic; a refusal lists specific
//! problems; what is accepted is scored whole. Cases: `PROPTEST_CASES`
//! (default below); failures are kept in tests/data/proptest/.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{json, Value as Json};
use tablero_core::clean::Preset;
use tablero_core::features::{self, FeatureParams};
use tablero_core::ingest::{self, CsvOptions};
use tablero_core::job::NoProgress;
use tablero_core::train::model::Model;
use tablero_core::train::models::Algorithm;
use tablero_core::train::{self, TrainConfig};

fn config(file: &'static str) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(2000),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

/// A model trained on the bundled sample's standard features.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let csv = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../assets/sample/online_retail_sample.csv"),
        )
        .unwrap();
        let (spec, parsed) = ingest::inspect(&csv, &CsvOptions::default()).unwrap();
        let (df, meta, _) =
            tablero_core::clean::clean(parsed, &spec, Preset::Standard, &NoProgress).unwrap();
        let (f, fmeta, _) =
            features::features(&df, Some(&meta), FeatureParams::default(), &NoProgress).unwrap();
        let cfg = TrainConfig {
            folds: 2,
            candidates: vec![Algorithm::Lr],
            ..TrainConfig::default()
        };
        train::train(&f, Some(&fmeta), &cfg, &NoProgress)
            .unwrap()
            .model
    })
}

fn names() -> Vec<String> {
    model()
        .encoder
        .features
        .iter()
        .map(|f| f.name().to_string())
        .collect()
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Json::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::from),
            proptest::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for a feature: right, wrong type, missing, huge, non-finite.
fn feature_value() -> impl Strategy<Value = Option<Json>> {
    prop_oneof![
        4 => (-1e6..1e6f64).prop_map(|v| Some(json!(v))),
        2 => "[A-Za-z ]{0,10}".prop_map(|s| Some(json!(s))),
        1 => Just(None),
        1 => Just(Some(Json::Null)),
        1 => Just(Some(json!(f64::MAX))),
        1 => any_json().prop_map(Some),
    ]
}

/// `{"records": [...]}` whose records name the model's features (some
/// missing, some extra, wrong types), or anything at all.
fn body() -> impl Strategy<Value = Json> {
    let n = names().len();
    let record = (
        proptest::collection::vec(feature_value(), n),
        proptest::collection::btree_map("[a-z]{1,6}", any_json(), 0..3),
    )
        .prop_map(|(values, extra)| {
            let mut r = serde_json::Map::new();
            for (name, v) in names().into_iter().zip(values) {
                if let Some(v) = v {
                    r.insert(name, v);
                }
            }
            for (k, v) in extra {
                r.insert(k, v);
            }
            Json::Object(r)
        });
    prop_oneof![
        4 => proptest::collection::vec(record, 0..8).prop_map(|rs| json!({"records": rs})),
        1 => any_json(),
    ]
}

/// A CSV of the model's features (ragged rows, bad values, quoting,
/// non-UTF-8), or arbitrary bytes.
fn batch_csv() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        (-1e4..1e4f64).prop_map(|v| v.to_string()),
        "[A-Za-z]{0,6}",
        "\"[a-z,\n]{0,6}\"",
        Just(String::new()),
    ];
    let rows = proptest::collection::vec(
        proptest::collection::vec(cell, names().len().saturating_sub(1)..names().len() + 2),
        0..10,
    );
    prop_oneof![
        4 => rows.prop_map(|rows| {
            let mut out = names().join(",");
            out.push('\n');
            for r in rows {
                out.push_str(&r.join(","));
                out.push('\n');
            }
            out.into_bytes()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..400),
    ]
}

proptest! {
    #![proptest_config(config("../../tests/data/proptest/endpoint.txt"))]

    #[test]
    fn predict_json_is_scored_whole_or_refused_with_its_problems(body in body()) {
        let features = &model().encoder.features;
        match tablero_serve::records(&body, features) {
            Ok(records) => {
                let sent = body["records"].as_array().map(Vec::len).unwrap_or(0);
                prop_assert_eq!(records.len(), sent);
                prop_assert!(records.iter().all(|r| r.len() == features.len()));
                let (scores, _) = model().predict(&records);
                prop_assert!(scores.iter().all(|p| (0.0..=1.0).contains(&p.score)));
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in problems {
                    let reason = p["reason"].as_str().unwrap_or("");
                    prop_assert!(reason.len() > 5, "a specific reason: {}", p);
                }
            }
        }
    }

    #[test]
    fn batch_csvs_are_scored_row_for_row_or_refused(bytes in batch_csv()) {
        match tablero_serve::score_csv(model(), &bytes) {
            Ok(scored) => {
                let text = String::from_utf8(scored.bytes.clone()).expect("the scored CSV is UTF-8");
                prop_assert!(scored.columns.iter().any(|c| c == "prediction_label"));
                // One scored row per customer counted.
                let rows = csv::ReaderBuilder::new().from_reader(text.as_bytes()).records().count() as u64;
                prop_assert_eq!(rows, scored.counts[0] + scored.counts[1]);
            }
            Err(message) => prop_assert!(message.len() > 5, "{}", message),
        }
    }
}
