//! The identity port: who is acting, their roles, and the policy (the
//! workspace's `tablero.toml` locally; the caller's IAM identity on AWS).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Result;

/// A role a user may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Uploads CSVs, runs ETL.
    Analyst,
    /// Trains, compares, approves models.
    MlLead,
    /// Promotes, rolls back, runs the endpoint.
    Ops,
}

impl Role {
    /// The name used in `tablero.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::MlLead => "ml_lead",
            Role::Ops => "ops",
        }
    }
}

/// What a user may be allowed to do, and which roles allow it: the one
/// table of permissions every backend applies (a cloud backend's IAM
/// policies grant the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Upload a CSV to the raw bucket.
    Upload,
    /// Delete an object.
    Delete,
    /// Put a deleted object back.
    Restore,
    /// Run clean or features.
    RunEtl,
    /// Train and register a version.
    Train,
    /// Approve a version.
    Approve,
    /// Reject a version.
    Reject,
    /// Turn the four-eyes rule on or off.
    ChangePolicy,
    /// Promote a version to the endpoint.
    Promote,
    /// Roll the endpoint back.
    Rollback,
    /// Start the endpoint.
    StartEndpoint,
    /// Stop the endpoint.
    StopEndpoint,
    /// Create an API key.
    CreateKey,
    /// Revoke an API key.
    RevokeKey,
}

impl Action {
    /// The roles that allow it (any one of them).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::Upload | Action::Delete | Action::Restore | Action::RunEtl => &[Role::Analyst],
            Action::Train => &[Role::Analyst, Role::MlLead],
            Action::Approve | Action::Reject | Action::ChangePolicy => &[Role::MlLead],
            Action::Promote
            | Action::Rollback
            | Action::StartEndpoint
            | Action::StopEndpoint
            | Action::CreateKey
            | Action::RevokeKey => &[Role::Ops],
        }
    }

    /// In words, after "ana cannot …".
    pub fn describe(self) -> &'static str {
        match self {
            Action::Upload => "upload data",
            Action::Delete => "delete data",
            Action::Restore => "restore data",
            Action::RunEtl => "run ETL jobs",
            Action::Train => "train models",
            Action::Approve => "approve models",
            Action::Reject => "reject models",
            Action::ChangePolicy => "change the four-eyes policy",
            Action::Promote => "promote models",
            Action::Rollback => "roll back the endpoint",
            Action::StartEndpoint => "start the endpoint",
            Action::StopEndpoint => "stop the endpoint",
            Action::CreateKey => "create API keys",
            Action::RevokeKey => "revoke API keys",
        }
    }
}

/// Governance rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Policy {
    /// The user who trained a version cannot approve it.
    pub four_eyes: bool,
    /// Whether `--as USER` may act as another configured user.
    pub allow_as: bool,
}

/// Resource limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest CSV accepted by `data upload`, in bytes; 0 (the default):
    /// no limit (uploads stream, in memory independent of the size).
    #[serde(default)]
    pub max_upload_bytes: u64,
    /// Memory a job may use, in MiB; 0 (the default): half of this
    /// machine's RAM ([`Limits::memory_budget_mb`]). A stage that would need
    /// more is refused before it starts, with what it needs.
    #[serde(default)]
    pub memory_mb: u64,
    /// Live records the endpoint keeps as a uniform sample (reservoir) of
    /// its traffic, to compare a candidate's training data with before
    /// promotion.
    #[serde(default = "default_live_sample")]
    pub live_sample: usize,
}

fn default_live_sample() -> usize {
    10_000
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 0,
            memory_mb: 0,
            live_sample: default_live_sample(),
        }
    }
}

impl Limits {
    /// The memory budget in MiB: `memory_mb`, or half of the machine's RAM
    /// when it is 0 (4096 when the RAM cannot be read).
    pub fn memory_budget_mb(&self) -> u64 {
        if self.memory_mb > 0 {
            return self.memory_mb;
        }
        total_ram_mb().map_or(4096, |ram| (ram / 2).max(256))
    }
}

/// The machine's RAM in MiB (Linux: `/proc/meminfo`; elsewhere unknown).
fn total_ram_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Who acts, what they may do, and the rules they act under.
pub trait Identity: Send + Sync {
    /// Who is acting now.
    fn actor(&self) -> String;
    /// The OS user (or cloud identity) behind the actor.
    fn os_user(&self) -> String;
    /// Every known user and their roles.
    fn users(&self) -> BTreeMap<String, Vec<Role>>;
    /// The policy.
    fn policy(&self) -> Policy;
    /// The limits.
    fn limits(&self) -> Limits;
    /// Refuses with `permission`, naming the role, unless the actor holds
    /// one of [`Action::roles`] (a backend whose cloud permissions decide
    /// lets the call through and lets the service refuse).
    fn authorize(&self, action: Action) -> Result<()>;
    /// Acts as another user from now on (`--as`, the panel's user
    /// switch), when the policy allows it.
    fn switch_user(&self, user: &str) -> Result<()>;
    /// Turns the four-eyes rule on or off (audited; the caller checks
    /// [`Action::ChangePolicy`]).
    fn set_four_eyes(&self, on: bool) -> Result<()>;
}
