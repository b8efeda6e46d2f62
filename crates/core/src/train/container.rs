//! The SageMaker training-container contract, shared by the training
//! entry point (`tablero-train`) and the AWS adapter that creates the job:
//! hyperparameters (all values strings), the metric lines the job's metric
//! definitions parse, and the files handed over in `/opt/ml/model/`.

use std::collections::BTreeMap;

use super::metrics::Metric;
use super::models::Algorithm;
use super::{Evaluation, TrainConfig};

/// The model artifact in `/opt/ml/model/` (and so in `model.tar.gz`).
pub const MODEL_FILE: &str = "model.json";
/// The model card.
pub const CARD_FILE: &str = "card.json";
/// The [`crate::stages::Trained`] summary (card and positives).
pub const TRAINED_FILE: &str = "training.json";

/// What a training job is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSpec {
    /// The model group the version is for.
    pub group: String,
    /// Who created the job (the card's `trained_by`).
    pub trained_by: String,
    /// Training parameters.
    pub config: TrainConfig,
}

impl TrainingSpec {
    /// As SageMaker hyperparameters: every value a string.
    pub fn to_hyperparameters(&self) -> BTreeMap<String, String> {
        let c = &self.config;
        BTreeMap::from([
            ("group".into(), self.group.clone()),
            ("trained_by".into(), self.trained_by.clone()),
            ("sort".into(), c.sort.name().into()),
            ("folds".into(), c.folds.to_string()),
            ("test_size".into(), c.test_size.to_string()),
            ("seed".into(), c.seed.to_string()),
            ("threshold".into(), c.threshold.to_string()),
            (
                "candidates".into(),
                c.candidates
                    .iter()
                    .map(|a| a.id())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ])
    }

    /// From SageMaker hyperparameters; what is absent is the default
    /// (`group` is required). The error names the bad value.
    pub fn from_hyperparameters(h: &BTreeMap<String, String>) -> Result<TrainingSpec, String> {
        fn num<T: std::str::FromStr>(
            h: &BTreeMap<String, String>,
            k: &str,
            default: T,
        ) -> Result<T, String> {
            match h.get(k) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("hyperparameter {k} = {v:?} is not a number")),
            }
        }
        let d = TrainConfig::default();
        let group = h
            .get("group")
            .cloned()
            .ok_or("hyperparameter group is missing: the model group to train for")?;
        let sort = match h.get("sort") {
            None => d.sort,
            Some(v) => Metric::from_name(v)
                .ok_or_else(|| format!("hyperparameter sort = {v:?} is not a metric"))?,
        };
        let candidates = match h.get("candidates") {
            None => d.candidates.clone(),
            Some(v) => v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    Algorithm::from_id(s)
                        .ok_or_else(|| format!("hyperparameter candidates: {s:?} is not a model"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if candidates.is_empty() {
            return Err("hyperparameter candidates is empty".into());
        }
        let config = TrainConfig {
            sort,
            folds: num(h, "folds", d.folds)?,
            test_size: num(h, "test_size", d.test_size)?,
            seed: num(h, "seed", d.seed)?,
            candidates,
            threshold: num(h, "threshold", d.threshold)?,
        };
        Ok(TrainingSpec {
            group,
            trained_by: h.get("trained_by").cloned().unwrap_or_default(),
            config,
        })
    }
}

/// The metrics a training job reports, as SageMaker metric definitions:
/// `(name, regex)`; the regex's group is the value.
pub const METRIC_DEFINITIONS: [(&str, &str); 4] = [
    ("cv:accuracy", r"tablero-metric cv:accuracy=([0-9.eE+-]+)"),
    ("cv:auc", r"tablero-metric cv:auc=([0-9.eE+-]+)"),
    (
        "holdout:accuracy",
        r"tablero-metric holdout:accuracy=([0-9.eE+-]+)",
    ),
    ("holdout:auc", r"tablero-metric holdout:auc=([0-9.eE+-]+)"),
];

/// The lines the entry point prints for [`METRIC_DEFINITIONS`].
pub fn metric_lines(e: &Evaluation) -> Vec<String> {
    [
        ("cv:accuracy", e.winner_mean(Metric::Accuracy)),
        ("cv:auc", e.winner_mean(Metric::Auc)),
        ("holdout:accuracy", e.holdout.accuracy),
        ("holdout:auc", e.holdout.auc),
    ]
    .into_iter()
    .map(|(k, v)| format!("tablero-metric {k}={v}"))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperparameters_round_trip_as_strings() {
        let spec = TrainingSpec {
            group: "churn".into(),
            trained_by: "ana".into(),
            config: TrainConfig {
                seed: 7,
                folds: 3,
                candidates: vec![Algorithm::Lr, Algorithm::Tree],
                ..TrainConfig::default()
            },
        };
        let h = spec.to_hyperparameters();
        assert_eq!(h["candidates"], "lr,tree");
        assert_eq!(TrainingSpec::from_hyperparameters(&h), Ok(spec));
    }

    #[test]
    fn a_bad_hyperparameter_is_named() {
        let mut h = BTreeMap::from([("group".to_string(), "g".to_string())]);
        h.insert("folds".into(), "many".into());
        let e = TrainingSpec::from_hyperparameters(&h).unwrap_err();
        assert!(e.contains("folds"), "{e}");
        h.remove("folds");
        h.insert("candidates".into(), "lr,svm".into());
        let e = TrainingSpec::from_hyperparameters(&h).unwrap_err();
        assert!(e.contains("\"svm\""), "{e}");
        assert!(TrainingSpec::from_hyperparameters(&BTreeMap::new()).is_err());
    }

    #[test]
    fn metric_lines_match_the_definitions() {
        // Each definition's literal prefix is in exactly one line.
        let lines = [
            "tablero-metric cv:accuracy=0.5",
            "tablero-metric cv:auc=0.6",
            "tablero-metric holdout:accuracy=0.7",
            "tablero-metric holdout:auc=0.8",
        ];
        for (name, re) in METRIC_DEFINITIONS {
            let prefix = re.split('(').next().unwrap_or("");
            let hits: Vec<_> = lines.iter().filter(|l| l.starts_with(prefix)).collect();
            assert_eq!(hits.len(), 1, "{name}");
        }
    }
}
