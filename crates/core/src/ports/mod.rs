//! The ports: every capability a backend provides, as a trait, and
//! [`Backend`], one of each, which a binary's composition point builds once
//! per process and hands to everything else.
//!
//! | port | does | local |
//! |---|---|---|
//! | [`ObjectStore`] | list (paged), head, read range, streamed upload, delete, trash, restore | folders under the workspace |
//! | [`JobRunner`] | submit, run, status, logs, cancel of clean, features, train | in-process, SQLite |
//! | [`Registry`] | register, list, cards, artifacts, approve, reject | SQLite + the models bucket |
//! | [`Deployer`] | deployed version, history, promote, rollback, endpoint start/stop/status | the local endpoint process |
//! | [`Monitor`] | metric windows, alarm rules, states and history, live sample | SQLite written by the endpoint |
//! | [`ApiKeys`] | create, list, revoke | SQLite (hashes only) |
//! | [`Audit`] | append, read | SQLite, append-only |
//! | [`Identity`] | who acts, their roles, the policy | `tablero.toml` and the OS user |
//!
//! Every port is synchronous and `Send + Sync`, callable from any blocking
//! thread (a backend over an async SDK runs it on its own runtime), and
//! fails with one error type, [`BackendError`], whose [`ErrorKind`]s are
//! the CLI's and the desktop app's.

mod audit;
mod deploy;
mod error;
mod identity;
mod jobs;
mod keys;
mod monitor;
mod registry;
mod store;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use audit::{Audit, AuditEntry, AuditEvent};
pub use deploy::{
    DeployAction, Deployer, Deployment, EndpointOptions, EndpointStatus, EndpointStopped, Rollout,
    RolloutPhase, Serving, TaskCounts,
};
pub use error::{BackendError, ErrorKind, Result};
pub use identity::{Action, Identity, Limits, Policy, Role};
pub use jobs::JobRunner;
pub use keys::{check_key, key_hash, ApiKey, ApiKeys, DEFAULT_RATE};
pub use monitor::Monitor;
pub use registry::Registry;
pub use store::{put_bytes, ArchiveRestore, ObjectReader, ObjectStore, RestoreState, TrashEntry};

/// Which backend a workspace runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Everything on this machine: folders, SQLite, a loopback endpoint.
    Local,
    /// S3 buckets, the SageMaker Model Registry, API Gateway keys, the
    /// caller's IAM identity (a build with the `aws` feature).
    Aws,
}

impl BackendKind {
    /// Every backend this build knows.
    pub const ALL: [BackendKind; 2] = [BackendKind::Local, BackendKind::Aws];

    /// `local`, `aws`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Local => "local",
            BackendKind::Aws => "aws",
        }
    }

    /// Parses a backend's name; `from` says where it was given (`--backend`,
    /// `TABLERO_BACKEND`, `[backend] kind in …/tablero.toml`) for the error.
    pub fn parse(name: &str, from: &str) -> Result<BackendKind> {
        let name = name.trim();
        BackendKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = BackendKind::ALL.iter().map(|k| k.name()).collect();
                BackendError::refused(format!(
                    "unknown backend {name:?} ({from}): Tablero knows {}",
                    known.join(", ")
                ))
            })
    }

    /// The backend to use: the flag, else the environment variable, else
    /// the workspace's configuration, else local. Each is `(value, where it
    /// was given)`.
    ///
    /// ```
    /// use tablero_core::ports::BackendKind;
    /// assert_eq!(BackendKind::choose(None, None, None).unwrap(), BackendKind::Local);
    /// assert!(BackendKind::choose(None, Some(("cloud", "TABLERO_BACKEND")), Some(("local", "tablero.toml"))).is_err());
    /// ```
    pub fn choose(
        flag: Option<(&str, &str)>,
        env: Option<(&str, &str)>,
        config: Option<(&str, &str)>,
    ) -> Result<BackendKind> {
        match flag.or(env).or(config) {
            Some((name, from)) => BackendKind::parse(name, from),
            None => Ok(BackendKind::Local),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One check of a backend's settings, as the Settings form and
/// `tablero aws check` show it: the call made, whether it worked, and
/// who the caller is or exactly why the call failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingsCheck {
    /// The call, e.g. `sts:GetCallerIdentity`, `s3:ListBucket acme-raw`.
    pub call: String,
    /// Whether it worked.
    pub ok: bool,
    /// What it found, or why it failed.
    pub message: String,
}

/// One backend: a port of each kind. Cloning shares them.
#[derive(Clone)]
pub struct Backend {
    /// Which backend.
    pub kind: BackendKind,
    /// Where it is, for people (the workspace folder locally).
    pub location: String,
    /// Buckets.
    pub store: Arc<dyn ObjectStore>,
    /// Pipeline jobs.
    pub jobs: Arc<dyn JobRunner>,
    /// Model registry.
    pub registry: Arc<dyn Registry>,
    /// Deployments and the endpoint.
    pub deployer: Arc<dyn Deployer>,
    /// Metrics, alarms, live sample.
    pub monitor: Arc<dyn Monitor>,
    /// API keys.
    pub keys: Arc<dyn ApiKeys>,
    /// Audit trail.
    pub audit: Arc<dyn Audit>,
    /// Who acts.
    pub identity: Arc<dyn Identity>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("kind", &self.kind)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}
