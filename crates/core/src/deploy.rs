//! The rules of deployment: only Approved versions are promoted, never the
//! one already deployed, and a rollback returns to the previous deployment.

use crate::ports::{BackendError, Deployment};
use crate::registry::{ApprovalStatus, ModelVersion};

/// Why `v` may not be promoted while `current` is deployed, or `None`.
pub fn promotion_refusal(v: &ModelVersion, current: Option<&Deployment>) -> Option<BackendError> {
    if v.status != ApprovalStatus::Approved {
        return Some(BackendError::refused(format!(
            "only Approved versions can be promoted; {} version {} is {}",
            v.group,
            v.version,
            v.status.name()
        )));
    }
    match current {
        Some(d) if d.group == v.group && d.version == v.version => Some(BackendError::refused(
            format!("{} version {} is already deployed", v.group, v.version),
        )),
        _ => None,
    }
}

/// The version a rollback returns to: the one deployed before `current`
/// (the previous deployment, not version N−1).
pub fn rollback_target(current: Option<&Deployment>) -> Result<(String, u32), BackendError> {
    let current = current
        .ok_or_else(|| BackendError::refused("nothing is deployed; promote a version first"))?;
    let previous = current.from_version.ok_or_else(|| {
        BackendError::refused(format!(
            "{} version {} is the first deployment; there is nothing to roll back to",
            current.group, current.version
        ))
    })?;
    Ok((current.group.clone(), previous))
}
