//! Who acts on which workspace, for replies that say so.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tablero_core::ports::{Backend, BackendKind, ErrorKind, Role};

/// A workspace made (or found) by `init`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Initialised {
    /// Where it is.
    pub workspace: String,
    /// Its configuration file.
    pub config: String,
    /// Who acts.
    pub user: String,
    /// Their roles.
    pub roles: Option<Vec<Role>>,
    /// The backend.
    pub backend: BackendKind,
}

/// The reply to `init`.
pub fn initialised(b: &Backend, config: &Path) -> Initialised {
    let user = b.identity.actor();
    Initialised {
        workspace: b.location.clone(),
        config: config.display().to_string(),
        roles: b.identity.users().get(&user).cloned(),
        user,
        backend: b.kind,
    }
}

/// A refusal, as a command's one JSON document says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Refusal {
    /// What kind.
    pub kind: ErrorKind,
    /// Words for the user.
    pub message: String,
}

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorReply {
    /// The refusal.
    pub error: Refusal,
}

/// A user of the workspace and their roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserRoles {
    /// User name.
    pub name: String,
    /// Their roles.
    pub roles: Vec<Role>,
}

/// Who is acting on which workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Session {
    /// Workspace folder.
    pub workspace: String,
    /// The active backend (`local`).
    pub backend: BackendKind,
    /// The acting user.
    pub user: String,
    /// Their roles.
    pub roles: Vec<Role>,
    /// Whether the panel may switch users (`[policy] allow_as`).
    pub allow_as: bool,
    /// Every configured user.
    pub users: Vec<UserRoles>,
    /// `[policy] four_eyes`.
    pub four_eyes: bool,
}

/// The settings the panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingsView {
    /// Workspace folder.
    pub workspace: String,
    /// The active backend (`local`).
    pub backend: BackendKind,
    /// Users and roles.
    pub users: Vec<UserRoles>,
    /// `[policy] four_eyes`.
    pub four_eyes: bool,
    /// `[policy] allow_as`.
    pub allow_as: bool,
}

/// What the bell shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notifications {
    /// Versions awaiting a decision the acting user may take.
    pub pending_approvals: Vec<tablero_core::registry::ModelVersion>,
    /// Alarms in state ALARM.
    pub firing_alarms: Vec<tablero_core::monitor::AlarmState>,
}

fn users(b: &Backend) -> Vec<UserRoles> {
    b.identity
        .users()
        .into_iter()
        .map(|(name, roles)| UserRoles { name, roles })
        .collect()
}

/// Who acts, their roles, the users and the policy.
pub fn session(b: &Backend) -> Session {
    let user = b.identity.actor();
    let users = users(b);
    let policy = b.identity.policy();
    Session {
        workspace: b.location.clone(),
        backend: b.kind,
        roles: users
            .iter()
            .find(|u| u.name == user)
            .map(|u| u.roles.clone())
            .unwrap_or_default(),
        user,
        allow_as: policy.allow_as,
        users,
        four_eyes: policy.four_eyes,
    }
}

/// The settings.
pub fn settings(b: &Backend) -> SettingsView {
    let policy = b.identity.policy();
    SettingsView {
        workspace: b.location.clone(),
        backend: b.kind,
        users: users(b),
        four_eyes: policy.four_eyes,
        allow_as: policy.allow_as,
    }
}

/// Decisions the acting user may take in `group`, and the firing alarms.
pub fn notifications(b: &Backend, group: &str) -> tablero_core::ports::Result<Notifications> {
    let history = b.monitor.alarm_history()?;
    Ok(Notifications {
        pending_approvals: crate::models::pending_for_me(b, group)?,
        firing_alarms: tablero_core::monitor::alarm_states(&history)
            .into_iter()
            .filter(|a| a.state == tablero_core::monitor::AlarmStatus::Alarm)
            .collect(),
    })
}
