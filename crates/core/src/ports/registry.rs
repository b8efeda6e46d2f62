//! The model registry port: SQLite locally, SageMaker Model Registry on AWS.

use super::Result;
use crate::registry::{ApprovalStatus, Decided, Decision, ModelVersion};
use crate::train::model::{ModelArtifact, ModelCard};

/// Versions of model groups, their cards and artifacts, and their approval.
pub trait Registry: Send + Sync {
    /// Registers a trained model as the next version of `group`, as
    /// `PendingManualApproval`, with its card (`card.trained_by` is its
    /// creator) and artifact. On failure nothing is registered. This is how
    /// a training job, here or remote, hands over its result.
    fn register(&self, group: &str, card: ModelCard, artifact: &[u8]) -> Result<ModelVersion>;
    /// Versions of a group, newest first, optionally by status.
    fn versions(&self, group: &str, status: Option<ApprovalStatus>) -> Result<Vec<ModelVersion>>;
    /// One version.
    fn version(&self, group: &str, version: u32) -> Result<ModelVersion>;
    /// A version's model card.
    fn card(&self, group: &str, version: u32) -> Result<ModelCard>;
    /// A version's artifact, loaded.
    fn artifact(&self, group: &str, version: u32) -> Result<ModelArtifact>;
    /// Records a decision on a version that is still
    /// `PendingManualApproval` (atomically: of two racing decisions one is
    /// recorded, the other sees [`Decided::AlreadyDecided`]), audited.
    fn decide(&self, group: &str, version: u32, decision: &Decision) -> Result<Decided>;
}
