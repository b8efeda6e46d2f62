//! The trainer on the bundled sample: determinism, the artifact round trip,
//! unknown categories and the leakage check.

use std::path::PathBuf;

use tablero_core::clean::{self, Preset};
use tablero_core::features::{self, FeatureParams};
use tablero_core::ingest::{self, CsvOptions};
use tablero_core::job::NoProgress;
use tablero_core::table::{DataFrame, TableMeta};
use tablero_core::train::dataset::{RawTable, Value};
use tablero_core::train::model::ModelArtifact;
use tablero_core::train::models::Algorithm;
use tablero_core::train::{self, TrainConfig};

fn sample_features(preset: Preset) -> (DataFrame, TableMeta) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv");
    let bytes = std::fs::read(path).unwrap();
    let (spec, parsed) = ingest::inspect(&bytes, &CsvOptions::default()).unwrap();
    let (df, meta, _) = clean::clean(parsed, &spec, preset, &NoProgress).unwrap();
    let params = FeatureParams {
        preset,
        ..FeatureParams::default()
    };
    let (f, fmeta, _) = features::features(&df, Some(&meta), params, &NoProgress).unwrap();
    (f, fmeta)
}

fn config() -> TrainConfig {
    TrainConfig {
        folds: 5,
        ..TrainConfig::default()
    }
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let (df, meta) = sample_features(Preset::Standard);
    let a = train::train(&df, Some(&meta), &config(), &NoProgress).unwrap();
    let b = train::train(&df, Some(&meta), &config(), &NoProgress).unwrap();
    let strip = |mut r: train::TrainResult| {
        r.evaluation
            .leaderboard
            .iter_mut()
            .for_each(|e| e.train_seconds = 0.0);
        r
    };
    let (a, b) = (strip(a), strip(b));
    assert_eq!(a, b, "same seed, same everything (but fitting times)");
    assert_eq!(a.evaluation.leaderboard.len(), Algorithm::ALL.len());
    // Sorted by the chosen metric, best first.
    assert!(a
        .evaluation
        .leaderboard
        .windows(2)
        .all(|w| w[0].accuracy.mean >= w[1].accuracy.mean));
    assert_eq!(a.evaluation.winner, a.evaluation.leaderboard[0].model);
    assert_eq!(a.evaluation.leaderboard[0].folds.len(), 5);
    // 324 customers, 20 % held out per class.
    assert_eq!(a.evaluation.rows.0 + a.evaluation.rows.1, df.height());
    assert_eq!(a.evaluation.rows.1, 65);
    let other = train::train(
        &df,
        Some(&meta),
        &TrainConfig {
            seed: 7,
            ..config()
        },
        &NoProgress,
    )
    .unwrap();
    assert_ne!(
        strip(other).evaluation.leaderboard,
        a.evaluation.leaderboard,
        "another seed, another split"
    );
    let by_auc = train::train(
        &df,
        Some(&meta),
        &TrainConfig {
            sort: train::metrics::Metric::Auc,
            ..config()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(by_auc
        .evaluation
        .leaderboard
        .windows(2)
        .all(|w| w[0].auc.mean >= w[1].auc.mean));
}

#[test]
fn a_saved_model_predicts_exactly_what_it_predicted_before() {
    let (df, meta) = sample_features(Preset::Standard);
    let roles = meta.roles.clone().unwrap();
    let raw = RawTable::from_features(&df, &roles).unwrap();
    for alg in Algorithm::ALL {
        let cfg = TrainConfig {
            folds: 3,
            candidates: vec![alg],
            ..TrainConfig::default()
        };
        let result = train::train(&df, Some(&meta), &cfg, &NoProgress).unwrap();
        let model = result.model;
        let order: Vec<usize> = model
            .encoder
            .features
            .iter()
            .map(|f| raw.names.iter().position(|n| n == f.name()).unwrap())
            .collect();
        let records: Vec<Vec<Value>> = (0..raw.len())
            .map(|i| {
                let row = raw.row(i);
                order.iter().map(|&k| row[k].clone()).collect()
            })
            .collect();
        let (before, unknown) = model.predict(&records);
        // Categories seen only in the test part are unknown to the encoder.
        let expected_unknown: usize = records
            .iter()
            .map(|r| {
                model
                    .encoder
                    .features
                    .iter()
                    .zip(r)
                    .filter(|(f, v)| match (f, v) {
                        (
                            tablero_core::train::dataset::FeatureSpec::Categorical {
                                categories,
                                ..
                            },
                            Value::Text(t),
                        ) => !t.as_ref().is_some_and(|t| categories.contains(t)),
                        _ => false,
                    })
                    .count()
            })
            .sum();
        assert_eq!(unknown, expected_unknown);
        let bytes = ModelArtifact::new(model).to_bytes().unwrap();
        let loaded = ModelArtifact::from_bytes(&bytes).unwrap();
        assert_eq!(loaded.algorithm, alg);
        let (after, _) = loaded.model.predict(&records);
        assert_eq!(
            before, after,
            "{alg:?}: predictions changed through save and load"
        );
    }
    let err = ModelArtifact::from_bytes(br#"{"format_version": 99}"#).unwrap_err();
    assert!(err.to_string().contains("format 99 is not supported"));
}

#[test]
fn unknown_categories_encode_as_zeros_and_are_counted() {
    let (df, meta) = sample_features(Preset::Standard);
    let cfg = TrainConfig {
        folds: 3,
        candidates: vec![Algorithm::Lr],
        ..TrainConfig::default()
    };
    let model = train::train(&df, Some(&meta), &cfg, &NoProgress)
        .unwrap()
        .model;
    let record: Vec<Value> = model
        .encoder
        .features
        .iter()
        .map(|f| match f {
            tablero_core::train::dataset::FeatureSpec::Numeric { mean, .. } => Value::Num(*mean),
            tablero_core::train::dataset::FeatureSpec::Categorical { name, .. }
                if name == "MostFrequentCountry" =>
            {
                Value::Text(Some("Atlantis".into()))
            }
            tablero_core::train::dataset::FeatureSpec::Categorical { categories, .. } => {
                Value::Text(Some(categories[0].clone()))
            }
        })
        .collect();
    let (p, unknown) = model.predict(std::slice::from_ref(&record));
    assert_eq!(unknown, 1);
    let mut encoded = Vec::new();
    model.encoder.encode_into(&record, &mut encoded);
    let names = model.encoder.column_names();
    for (n, v) in names.iter().zip(&encoded) {
        if n.starts_with("MostFrequentCountry=") {
            assert_eq!(*v, 0.0, "{n}");
        }
    }
    assert_eq!(p[0].score, model.estimator.predict_one(&encoded));
    assert_eq!(p[0].label, u8::from(p[0].score >= 0.5));
}

#[test]
fn the_parity_table_is_flagged_for_leakage_and_standard_is_not() {
    let (df, meta) = sample_features(Preset::Parity);
    let cfg = TrainConfig {
        folds: 3,
        candidates: vec![Algorithm::Lr],
        ..TrainConfig::default()
    };
    let r = train::train(&df, Some(&meta), &cfg, &NoProgress).unwrap();
    let flagged: Vec<&str> = r
        .evaluation
        .leakage
        .iter()
        .map(|l| l.feature.as_str())
        .collect();
    assert!(flagged.contains(&"Recency"), "{flagged:?}");
    assert!(r.evaluation.leakage.iter().all(|l| l.auc > 0.95));
    // Identifiers, the target and RFM_Score are never features.
    let names: Vec<&str> = r.model.encoder.features.iter().map(|f| f.name()).collect();
    for not in ["CustomerID", "WillPurchase_90Days", "RFM_Score"] {
        assert!(!names.contains(&not), "{not} must not be a feature");
    }
    assert!(r
        .univariate_auc
        .iter()
        .all(|u| (0.5..=1.0).contains(&u.auc)));

    let (df, meta) = sample_features(Preset::Standard);
    let r = train::train(&df, Some(&meta), &cfg, &NoProgress).unwrap();
    assert!(
        r.evaluation.leakage.is_empty(),
        "standard features do not leak: {:?}",
        r.evaluation.leakage
    );
}
