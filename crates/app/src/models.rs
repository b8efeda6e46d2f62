//! The model registry's decisions, under the rules of `tablero_core::registry`:
//! an ML lead decides, with a comment; under four-eyes not on their own
//! version; a version flagged for leakage only with the risk accepted; a
//! decided version stays decided.

use serde::{Deserialize, Serialize};
use tablero_core::ports::{Action, Backend, BackendError, Result};
use tablero_core::registry::{self, ApprovalStatus, Comparison, Decided, Decision, ModelVersion};
use tablero_core::train::model::ModelCard;

/// Whether an action is allowed now, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Allowed {
    /// Allowed.
    pub allowed: bool,
    /// Why not, in words for the user.
    pub reason: Option<String>,
}

impl Allowed {
    /// From a refusal, if any.
    pub fn from_refusal(refusal: Option<BackendError>) -> Allowed {
        Allowed {
            allowed: refusal.is_none(),
            reason: refusal.map(|e| e.to_string()),
        }
    }
}

/// What the acting user may do with a model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelActions {
    /// Approve.
    pub approve: Allowed,
    /// Reject.
    pub reject: Allowed,
    /// Promote to the endpoint.
    pub promote: Allowed,
}

fn action(approve: bool) -> Action {
    if approve {
        Action::Approve
    } else {
        Action::Reject
    }
}

/// Why the acting user may not approve (or reject) `v` now, or `None` when
/// they may (a leakage flag still needs accepting).
pub fn decision_refusal(b: &Backend, v: &ModelVersion, approve: bool) -> Option<BackendError> {
    if let Err(e) = b.identity.authorize(action(approve)) {
        return Some(e);
    }
    registry::decision_refusal(
        v,
        approve,
        b.identity.policy().four_eyes,
        &b.identity.actor(),
    )
}

fn decide(
    b: &Backend,
    group: &str,
    version: u32,
    comment: &str,
    approve: bool,
    accept_leakage_risk: bool,
) -> Result<ModelVersion> {
    b.identity.authorize(action(approve))?;
    registry::check_comment(comment)?;
    let actor = b.identity.actor();
    let four_eyes = b.identity.policy().four_eyes;
    let v = b.registry.version(group, version)?;
    if let Some(refusal) = registry::decision_refusal(&v, approve, four_eyes, &actor) {
        return Err(refusal);
    }
    if approve {
        if let Some(refusal) = registry::leakage_refusal(&v, accept_leakage_risk) {
            return Err(refusal);
        }
    }
    let decision = Decision {
        status: if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        },
        by: actor.clone(),
        comment: comment.to_string(),
    };
    match b.registry.decide(group, version, &decision)? {
        Decided::Recorded(v) => Ok(v),
        // Another lead decided in between: say what they left.
        Decided::AlreadyDecided(v) => Err(registry::decision_refusal(
            &v, approve, four_eyes, &actor,
        )
        .unwrap_or_else(|| {
            BackendError::refused(format!(
                "version {version} of {group} changed while deciding; try again"
            ))
        })),
    }
}

/// Approves a pending version.
pub fn approve(
    b: &Backend,
    group: &str,
    version: u32,
    comment: &str,
    accept_leakage_risk: bool,
) -> Result<ModelVersion> {
    decide(b, group, version, comment, true, accept_leakage_risk)
}

/// Rejects a pending version.
pub fn reject(b: &Backend, group: &str, version: u32, comment: &str) -> Result<ModelVersion> {
    decide(b, group, version, comment, false, false)
}

/// What the acting user may do with `group` version `version` now.
pub fn actions(b: &Backend, group: &str, version: u32) -> Result<ModelActions> {
    let v = b.registry.version(group, version)?;
    Ok(ModelActions {
        approve: Allowed::from_refusal(decision_refusal(b, &v, true)),
        reject: Allowed::from_refusal(decision_refusal(b, &v, false)),
        promote: Allowed::from_refusal(crate::deploy::promotion_refusal(b, &v)),
    })
}

/// Versions awaiting a decision the acting user may take.
pub fn pending_for_me(b: &Backend, group: &str) -> Result<Vec<ModelVersion>> {
    Ok(b.registry
        .versions(group, Some(ApprovalStatus::PendingManualApproval))?
        .into_iter()
        .filter(|v| decision_refusal(b, v, true).is_none())
        .collect())
}

/// The versions of a group, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VersionList {
    /// The group.
    pub group: String,
    /// Its versions.
    pub versions: Vec<ModelVersion>,
}

/// A version and its model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VersionDetail {
    /// The version.
    pub version: ModelVersion,
    /// Its card.
    pub card: ModelCard,
}

/// The versions of `group`, newest first, optionally by status.
pub fn list(b: &Backend, group: &str, status: Option<ApprovalStatus>) -> Result<VersionList> {
    Ok(VersionList {
        group: group.to_string(),
        versions: b.registry.versions(group, status)?,
    })
}

/// A version with its card.
pub fn show(b: &Backend, group: &str, version: u32) -> Result<VersionDetail> {
    Ok(VersionDetail {
        version: b.registry.version(group, version)?,
        card: b.registry.card(group, version)?,
    })
}

/// Versions side by side (metrics, deltas, schema differences).
pub fn compare(b: &Backend, group: &str, versions: &[u32]) -> Result<Comparison> {
    let cards = cards(b, group, versions)?;
    Ok(registry::compare(&cards))
}

/// The cards of `versions` of `group`, in that order.
pub fn cards(b: &Backend, group: &str, versions: &[u32]) -> Result<Vec<ModelCard>> {
    versions
        .iter()
        .map(|v| b.registry.card(group, *v))
        .collect()
}

/// Charts of versions side by side, as SVG text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CompareCharts {
    /// ROC curves overlaid.
    pub roc: String,
    /// Holdout metrics per version.
    pub metrics: String,
    /// One confusion matrix per version.
    pub confusion: Vec<String>,
    /// One importance chart per version.
    pub importance: Vec<String>,
}

/// Versions side by side, with their charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ComparisonView {
    /// As `tablero models compare`.
    pub comparison: Comparison,
    /// Charts.
    pub charts: CompareCharts,
}

/// The most versions drawn side by side.
pub const MAX_COMPARED: usize = 4;

/// Two to four versions side by side, with their charts.
pub fn comparison_view(b: &Backend, group: &str, versions: &[u32]) -> Result<ComparisonView> {
    if !(2..=MAX_COMPARED).contains(&versions.len()) {
        return Err(BackendError::refused(
            "pick two to four versions to compare",
        ));
    }
    let cards = cards(b, group, versions)?;
    let refs: Vec<&_> = cards.iter().collect();
    let mut charts = CompareCharts::default();
    for (name, chart) in tablero_core::charts::for_versions(&refs) {
        let svg = tablero_core::charts::svg(&chart)?;
        match name.as_str() {
            "roc" => charts.roc = svg,
            "metrics" => charts.metrics = svg,
            n if n.starts_with("confusion_") => charts.confusion.push(svg),
            n if n.starts_with("importance_") => charts.importance.push(svg),
            _ => {}
        }
    }
    Ok(ComparisonView {
        comparison: registry::compare(&cards),
        charts,
    })
}
