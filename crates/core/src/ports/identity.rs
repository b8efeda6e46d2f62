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
    /// Largest CSV accepted by `data upload`, in bytes.
    pub max_upload_bytes: u64,
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
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            live_sample: default_live_sample(),
        }
    }
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
    /// one of `roles` (a backend whose cloud permissions decide lets the
    /// call through and lets the service refuse).
    fn authorize(&self, roles: &[Role], action: &str) -> Result<()>;
    /// Acts as another user from now on (`--as`, the panel's user
    /// switch), when the policy allows it.
    fn switch_user(&self, user: &str) -> Result<()>;
    /// Turns the four-eyes rule on or off (an ML lead's decision, audited).
    fn set_four_eyes(&self, on: bool) -> Result<()>;
}
