//! Deployments under the rules of `tablero_core::deploy` (ops only; Approved
//! versions; not the one deployed; rollback to the previous deployment), and
//! the endpoint's lifecycle.

use tablero_core::deploy;
use tablero_core::ports::{
    Action, Backend, BackendError, DeployAction, EndpointOptions, EndpointStatus, EndpointStopped,
    Result, Rollout,
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
