//! The deployer port: which approved version the endpoint serves,
//! promotion and rollback with their rollout, and the endpoint itself.

use serde::{Deserialize, Serialize};

use super::Result;

/// One promotion or rollback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deployment {
    /// Sequence number.
    pub seq: i64,
    /// Endpoint name.
    pub endpoint: String,
    /// Model group.
    pub group: String,
    /// Version now served.
    pub version: u32,
    /// Version served before.
    pub from_version: Option<u32>,
    /// Why it was deployed.
    pub action: DeployAction,
    /// Who.
    pub actor: String,
    /// When (RFC 3339, UTC).
    pub at: String,
}

/// A model version being served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Serving {
    /// Model group.
    pub group: String,
    /// Version.
    pub version: u32,
}

/// Why a version is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DeployAction {
    /// A newer version, approved.
    Promote,
    /// Back to the version deployed before.
    Rollback,
}

impl std::fmt::Display for DeployAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl DeployAction {
    /// `promote` or `rollback`.
    pub fn name(self) -> &'static str {
        match self {
            DeployAction::Promote => "promote",
            DeployAction::Rollback => "rollback",
        }
    }
}

/// How far a promotion or rollback has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RolloutPhase {
    /// The deployment is recorded; the endpoint has not switched yet.
    Recorded,
    /// The endpoint is switching (AWS: ECS replaces the service's tasks);
    /// `detail` says how far. Last when the backend returns before the end.
    InProgress,
    /// The endpoint serves the new version.
    Completed,
    /// Recorded, and no endpoint runs: it will serve the version when it starts.
    NotRunning,
    /// The endpoint could not switch (AWS: the deployment failed and the
    /// circuit breaker rolled the service back); `detail` says why.
    Failed,
}

/// A promotion or rollback and its rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rollout {
    /// The recorded deployment.
    pub deployment: Deployment,
    /// How far the endpoint has got.
    pub phase: RolloutPhase,
    /// What the endpoint serves now, as it says itself (when it runs).
    pub serving: Option<Serving>,
    /// How far, in words (AWS: tasks running the new revision, ECS's state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub detail: Option<String>,
}

/// How to start an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointOptions {
    /// Port (0 picks a free one).
    pub port: u16,
    /// Address to bind (`127.0.0.1` by default).
    pub host: String,
    /// Seconds per metrics window.
    pub metrics_interval: u64,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        EndpointOptions {
            port: 8080,
            host: "127.0.0.1".into(),
            metrics_interval: 60,
        }
    }
}

/// The endpoint, as it reports itself.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EndpointStatus {
    /// Whether it answers.
    pub running: bool,
    /// Its base URL.
    pub url: Option<String>,
    /// Its process id (local).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub pid: Option<u64>,
    /// What it serves.
    pub serving: Option<Serving>,
    /// Seconds since it started.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub uptime_seconds: Option<u64>,
    /// Its log (local: a file in the workspace).
    pub log: Option<String>,
    /// Its tasks (AWS: the ECS service's counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub tasks: Option<TaskCounts>,
    /// The revision it runs (AWS: the task definition, `family:revision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub revision: Option<String>,
}

/// An ECS service's task counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TaskCounts {
    /// Tasks running.
    pub running: u32,
    /// Tasks wanted.
    pub desired: u32,
    /// Tasks starting.
    pub pending: u32,
}

/// What stopping the endpoint did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EndpointStopped {
    /// Always false afterwards.
    pub running: bool,
    /// Whether an endpoint was running and stopped.
    pub stopped: bool,
    /// The URL it answered on.
    pub url: Option<String>,
}

/// Deployments, their history, and the endpoint's lifecycle. A backend that
/// cannot do one of these answers `unsupported` with the reason.
pub trait Deployer: Send + Sync {
    /// The latest deployment: what the endpoint should serve.
    fn deployed(&self) -> Result<Option<Deployment>>;
    /// Promotions and rollbacks, newest first.
    fn deployments(&self) -> Result<Vec<Deployment>>;
    /// Records `group` version `version` as deployed (the rules of
    /// `crate::deploy` are the caller's) and rolls it out; `progress` sees
    /// each phase, the returned one is the last. Audited.
    fn deploy(
        &self,
        group: &str,
        version: u32,
        action: DeployAction,
        progress: &dyn Fn(&Rollout),
    ) -> Result<Rollout>;
    /// Starts the endpoint and waits until it answers (audited).
    fn start_endpoint(&self, options: &EndpointOptions) -> Result<EndpointStatus>;
    /// Stops it; in-flight requests finish first (audited).
    fn stop_endpoint(&self) -> Result<EndpointStopped>;
    /// Whether it runs, and what it serves.
    fn endpoint_status(&self) -> Result<EndpointStatus>;
}
