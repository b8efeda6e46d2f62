//! The model registry: versions within a model group, their approval
//! status (named as SageMaker Model Registry names them), and comparison
//! (the port is [`crate::ports::Registry`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::job::ObjectRef;
use crate::train::dataset::FeatureSpec;
use crate::train::metrics::Metric;
use crate::train::model::ModelCard;
use crate::train::models::Algorithm;
use crate::train::{Holdout, LeakageFlag};

/// Approval status of a model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ApprovalStatus {
    /// Registered, waiting for an ML lead.
    PendingManualApproval,
    /// Approved: may be promoted.
    Approved,
    /// Rejected.
    Rejected,
}

impl ApprovalStatus {
    /// The SageMaker name.
    pub fn name(self) -> &'static str {
        match self {
            ApprovalStatus::PendingManualApproval => "PendingManualApproval",
            ApprovalStatus::Approved => "Approved",
            ApprovalStatus::Rejected => "Rejected",
        }
    }

    /// Parses the SageMaker name or the short CLI name (`pending`,
    /// `approved`, `rejected`).
    pub fn from_name(s: &str) -> Option<ApprovalStatus> {
        match s {
            "PendingManualApproval" | "pending" => Some(ApprovalStatus::PendingManualApproval),
            "Approved" | "approved" => Some(ApprovalStatus::Approved),
            "Rejected" | "rejected" => Some(ApprovalStatus::Rejected),
            _ => None,
        }
    }
}

/// A registered model version (what `models ls` lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelVersion {
    /// Model group.
    pub group: String,
    /// Version, 1, 2, 3… within the group.
    pub version: u32,
    /// Approval status.
    pub status: ApprovalStatus,
    /// Who trained it.
    pub created_by: String,
    /// When it was registered (RFC 3339, UTC).
    pub created_at: String,
    /// The artifact.
    pub artifact: ObjectRef,
    /// The model card.
    pub card: ObjectRef,
    /// The training data's URI.
    pub dataset_uri: String,
    /// Its SHA-256.
    pub dataset_sha256: String,
    /// The winning algorithm.
    pub algorithm: Algorithm,
    /// Mean cross-validated accuracy and AUC of the winner.
    pub cv_accuracy: f64,
    /// Mean cross-validated AUC of the winner.
    pub cv_auc: f64,
    /// Holdout metrics.
    pub holdout: Holdout,
    /// Features flagged as likely leaks.
    pub leakage: Vec<LeakageFlag>,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// With what comment.
    pub comment: Option<String>,
}

/// Side-by-side comparison of versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Comparison {
    /// The versions compared, in the order given.
    pub versions: Vec<u32>,
    /// One row per metric: holdout and mean CV values, and deltas against
    /// the first version.
    pub metrics: Vec<MetricRow>,
    /// Features not in every version's schema, or categorical features whose
    /// categories differ.
    pub schema_differences: Vec<SchemaDifference>,
    /// Winners.
    pub algorithms: Vec<Algorithm>,
    /// Datasets.
    pub datasets: Vec<String>,
}

/// One metric across versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetricRow {
    /// `holdout.auc`, `cv.accuracy`, …
    pub metric: String,
    /// Value per version.
    pub values: Vec<f64>,
    /// Value minus the first version's.
    pub deltas: Vec<f64>,
}

/// A feature whose schema is not the same in every version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SchemaDifference {
    /// Feature.
    pub feature: String,
    /// Per version: `numeric`, `categorical (N categories)` or `absent`.
    pub per_version: Vec<String>,
}

/// Compares model cards.
pub fn compare(cards: &[ModelCard]) -> Comparison {
    let mut metrics = Vec::new();
    let mut row = |name: String, values: Vec<f64>| {
        let first = values.first().copied().unwrap_or(0.0);
        let deltas = values.iter().map(|v| v - first).collect();
        metrics.push(MetricRow {
            metric: name,
            values,
            deltas,
        });
    };
    for m in Metric::ALL {
        row(
            format!("cv.{}", m.name()),
            cards
                .iter()
                .map(|c| {
                    c.evaluation
                        .leaderboard
                        .iter()
                        .find(|e| e.model == c.evaluation.winner)
                        .map(|e| e.mean(m))
                        .unwrap_or(f64::NAN)
                })
                .collect(),
        );
    }
    let holdout = |c: &ModelCard, m: Metric| match m {
        Metric::Accuracy => c.evaluation.holdout.accuracy,
        Metric::Auc => c.evaluation.holdout.auc,
        Metric::Recall => c.evaluation.holdout.recall,
        Metric::Precision => c.evaluation.holdout.precision,
        Metric::F1 => c.evaluation.holdout.f1,
        Metric::Kappa => c.evaluation.holdout.kappa,
        Metric::Mcc => c.evaluation.holdout.mcc,
    };
    for m in Metric::ALL {
        row(
            format!("holdout.{}", m.name()),
            cards.iter().map(|c| holdout(c, m)).collect(),
        );
    }
    let describe = |f: Option<&FeatureSpec>| match f {
        None => "absent".to_string(),
        Some(FeatureSpec::Numeric { .. }) => "numeric".to_string(),
        Some(FeatureSpec::Categorical { categories, .. }) => {
            format!("categorical ({} categories)", categories.len())
        }
    };
    let names: BTreeSet<&str> = cards
        .iter()
        .flat_map(|c| c.feature_schema.iter().map(|f| f.name()))
        .collect();
    let mut schema_differences = Vec::new();
    for name in names {
        let specs: Vec<Option<&FeatureSpec>> = cards
            .iter()
            .map(|c| c.feature_schema.iter().find(|f| f.name() == name))
            .collect();
        let same = specs.windows(2).all(|w| w[0] == w[1]);
        if !same {
            schema_differences.push(SchemaDifference {
                feature: name.to_string(),
                per_version: specs.into_iter().map(describe).collect(),
            });
        }
    }
    Comparison {
        versions: cards.iter().map(|c| c.version).collect(),
        metrics,
        schema_differences,
        algorithms: cards.iter().map(|c| c.evaluation.winner).collect(),
        datasets: cards.iter().map(|c| c.dataset.uri.clone()).collect(),
    }
}
