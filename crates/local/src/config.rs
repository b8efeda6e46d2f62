//! The workspace's `tablero.toml`: users and roles, policy, limits.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A role a user may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// The parsed `tablero.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// User → roles.
    pub roles: BTreeMap<String, Vec<Role>>,
    /// Policy.
    pub policy: Policy,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// Alarm rules on the endpoint's metrics.
    #[serde(default)]
    pub alarms: Alarms,
}

/// Alarm rules, evaluated over the last `window_minutes` of metrics each
/// time the endpoint writes a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Alarms {
    /// Minutes of metrics each rule looks at.
    pub window_minutes: u64,
    /// Any feature's PSI at or above this raises `feature_drift`.
    pub feature_psi: f64,
    /// Error rate (errors / requests) above this raises `error_rate`.
    pub error_rate: f64,
    /// p99 latency above this (ms, worst window) raises `latency_p99`.
    pub p99_ms: f64,
}

impl Default for Alarms {
    fn default() -> Self {
        Alarms {
            window_minutes: 60,
            feature_psi: 0.25,
            error_rate: 0.01,
            p99_ms: 250.0,
        }
    }
}

impl Config {
    /// The config `init` writes: `user` with all three roles.
    pub fn initial(user: &str) -> Config {
        let mut roles = BTreeMap::new();
        roles.insert(
            user.to_string(),
            vec![Role::Analyst, Role::MlLead, Role::Ops],
        );
        Config {
            roles,
            policy: Policy {
                four_eyes: true,
                allow_as: false,
            },
            limits: Limits::default(),
            alarms: Alarms::default(),
        }
    }

    /// Reads and validates the file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The file's text, with comments that explain it.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Tablero workspace settings.\n\
             # [roles]: user = [\"analyst\", \"ml_lead\", \"ops\"] — a user may hold several.\n\
             # analyst: upload, delete, ETL; ml_lead: train, approve, reject; ops: promote, rollback, endpoint.\n\
             # [policy] four_eyes: the user who trained a version cannot approve it.\n\
             # [policy] allow_as: whether the global flag --as USER may act as another configured user.\n\n{body}"
        )
    }

    /// Whether `user` holds `role`.
    pub fn has_role(&self, user: &str, role: Role) -> bool {
        self.roles.get(user).is_some_and(|r| r.contains(&role))
    }
}
