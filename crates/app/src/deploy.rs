//! Deployments under the rules of `tablero_core::deploy` (ops only; Approved
//! versions; not the one deployed; rollback to the previous deployment), and
//! the endpoint's lifecycle.

use serde::{Deserialize, Serialize};
use tablero_core::deploy;
use tablero_core::ports::{
    Action, Backend, BackendError, DeployAction, Deployment, EndpointOptions, EndpointStatus,
    EndpointStopped, Result, Rollout, RolloutPhase, Serving,
};
use tablero_core::registry::ModelVersion;

/// Why the acting user may not promote `v` now, or `None`.
pub fn promotion_refusal(b: &Backend, v: &ModelVersion) -> Option<BackendError> {
    if let Err(e) = b.identity.authorize(Action::Promote) {
        return Some(e);
    }
    match b.deployer.deployed() {
        Ok(current) => deploy::promotion_refusal(v, current.as_ref()),
        Err(e) => Some(e),
    }
}

/// Why the acting user may not roll back now, or `None`.
pub fn rollback_refusal(b: &Backend) -> Option<BackendError> {
    rollback_target(b).err()
}

fn rollback_target(b: &Backend) -> Result<(String, u32)> {
    b.identity.authorize(Action::Rollback)?;
    deploy::rollback_target(b.deployer.deployed()?.as_ref())
}

/// Deploys an Approved version; a running endpoint swaps to it.
pub fn promote(
    b: &Backend,
    group: &str,
    version: u32,
    progress: &dyn Fn(&Rollout),
) -> Result<Rollout> {
    let v = b.registry.version(group, version)?;
    if let Some(refusal) = promotion_refusal(b, &v) {
        return Err(refusal);
    }
    b.deployer
        .deploy(group, version, DeployAction::Promote, progress)
}

/// Returns to the version deployed before the current one.
pub fn rollback(b: &Backend, progress: &dyn Fn(&Rollout)) -> Result<Rollout> {
    let (group, version) = rollback_target(b)?;
    b.deployer
        .deploy(&group, version, DeployAction::Rollback, progress)
}

/// Starts the endpoint (ops).
pub fn start_endpoint(b: &Backend, options: &EndpointOptions) -> Result<EndpointStatus> {
    b.identity.authorize(Action::StartEndpoint)?;
    b.deployer.start_endpoint(options)
}

/// Stops the endpoint (ops).
pub fn stop_endpoint(b: &Backend) -> Result<EndpointStopped> {
    b.identity.authorize(Action::StopEndpoint)?;
    b.deployer.stop_endpoint()
}

/// What is deployed, and what the endpoint itself serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeployStatus {
    /// The latest deployment.
    pub deployed: Option<Deployment>,
    /// The endpoint, as it reports itself.
    pub endpoint: EndpointStatus,
}

/// What a running endpoint serves after a reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EndpointReload {
    /// The version it serves.
    pub serving: Option<Serving>,
}

/// A promotion or rollback as `deploy promote|rollback` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RolloutReply {
    /// The deployment recorded.
    pub deployment: Deployment,
    /// The running endpoint after the swap; `null` when none runs (it
    /// serves the deployed version when started).
    pub endpoint: Option<EndpointReload>,
    /// How far the rollout got.
    pub phase: RolloutPhase,
    /// How far, in words (AWS: the ECS tasks running the new revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub detail: Option<String>,
}

impl From<Rollout> for RolloutReply {
    fn from(r: Rollout) -> RolloutReply {
        RolloutReply {
            endpoint: match r.phase {
                RolloutPhase::NotRunning => None,
                _ => Some(EndpointReload { serving: r.serving }),
            },
            deployment: r.deployment,
            phase: r.phase,
            detail: r.detail,
        }
    }
}

/// A rollout phase in words: `recorded`, `in progress`, …
pub fn phase_name(phase: RolloutPhase) -> &'static str {
    match phase {
        RolloutPhase::Recorded => "recorded",
        RolloutPhase::InProgress => "in progress",
        RolloutPhase::Completed => "completed",
        RolloutPhase::NotRunning => "not running",
        RolloutPhase::Failed => "failed",
    }
}

/// Promotions and rollbacks, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct History {
    /// The deployments.
    pub history: Vec<Deployment>,
}

/// The deployment history, and whether the acting user may roll back now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeployHistory {
    /// Deployments, newest first.
    pub deployments: Vec<Deployment>,
    /// Roll back to the previous deployment.
    pub rollback: crate::models::Allowed,
}

/// What is deployed and what the endpoint serves.
pub fn status(b: &Backend) -> Result<DeployStatus> {
    Ok(DeployStatus {
        deployed: b.deployer.deployed()?,
        endpoint: b.deployer.endpoint_status()?,
    })
}

/// The history, and whether a rollback is possible now.
pub fn history(b: &Backend) -> Result<DeployHistory> {
    Ok(DeployHistory {
        deployments: b.deployer.deployments()?,
        rollback: crate::models::Allowed::from_refusal(rollback_refusal(b)),
    })
}
