//! The model registry: versions within a model group, their approval
//! status (named as SageMaker Model Registry names them), and comparison
//! (the port is [`crate::ports::Registry`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ports::BackendError;
use crate::store::ObjectRef;
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
            cards.iter().map(|c| c.evaluation.winner_mean(m)).collect(),
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

/// Checks a model group name: 1 to 64 letters, digits, `-` and `_`.
pub fn check_group(group: &str) -> Result<(), BackendError> {
    let valid = !group.is_empty()
        && group.len() <= 64
        && group
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(BackendError::refused(format!(
            "model group {group:?} is not valid: use 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}

/// A decision is explained: an empty comment is refused.
pub fn check_comment(comment: &str) -> Result<(), BackendError> {
    if comment.trim().is_empty() {
        Err(BackendError::refused(
            "a comment is required (--comment \"why\")",
        ))
    } else {
        Ok(())
    }
}

/// Why `actor` may not approve (or reject) `v` given its state: only
/// pending versions are decided, and under the four-eyes rule the trainer
/// does not approve their own version. `None` when they may.
pub fn decision_refusal(
    v: &ModelVersion,
    approve: bool,
    four_eyes: bool,
    actor: &str,
) -> Option<BackendError> {
    let (group, version) = (&v.group, v.version);
    if v.status != ApprovalStatus::PendingManualApproval {
        return Some(BackendError::refused(format!(
            "version {version} of {group} is already {}; only PendingManualApproval versions can be approved or rejected",
            v.status.name()
        )));
    }
    if approve && four_eyes && v.created_by == actor {
        return Some(BackendError::refused(format!(
            "four-eyes rule: {actor} trained version {version} and cannot approve it; another ml_lead must \
             ([policy] four_eyes = true)"
        )));
    }
    None
}

/// The leakage gate: a version with features flagged as likely target leaks
/// is approved only when the risk is accepted.
pub fn leakage_refusal(v: &ModelVersion, accept_leakage_risk: bool) -> Option<BackendError> {
    if v.leakage.is_empty() || accept_leakage_risk {
        return None;
    }
    let flags: Vec<String> = v
        .leakage
        .iter()
        .map(|l| format!("{} (AUC {:.3})", l.feature, l.auc))
        .collect();
    Some(BackendError::refused(format!(
        "version {} has features that predict the target almost perfectly, a sign of target leakage: {}; \
         approve with --accept-leakage-risk if that is understood",
        v.version,
        flags.join(", ")
    )))
}

/// An approval or a rejection, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `Approved` or `Rejected`.
    pub status: ApprovalStatus,
    /// Who decided.
    pub by: String,
    /// Why.
    pub comment: String,
}

/// What recording a decision did.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    /// Recorded: the version as it is now.
    Recorded(ModelVersion),
    /// Someone decided first: the version as they left it.
    AlreadyDecided(ModelVersion),
}
