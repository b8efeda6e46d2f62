//! The job model shared by every backend (the port is
//! [`crate::ports::JobRunner`]).

use serde::{Deserialize, Serialize};

pub use crate::progress::{NoProgress, Progress};
pub use crate::store::ObjectRef;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Raw CSV → clean transactions.
    Clean,
    /// Clean transactions → features table.
    Features,
    /// Features table → leaderboard, registered model version.
    Train,
}

impl JobKind {
    /// `clean` or `features`.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Clean => "clean",
            JobKind::Features => "features",
            JobKind::Train => "train",
        }
    }

    /// Parses `clean` / `features`.
    pub fn from_name(s: &str) -> Option<JobKind> {
        match s {
            "clean" => Some(JobKind::Clean),
            "features" => Some(JobKind::Features),
            "train" => Some(JobKind::Train),
            _ => None,
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Recorded, not started.
    Queued,
    /// Running.
    Running,
    /// Finished; its output is visible.
    Succeeded,
    /// Stopped with an error; no output was written.
    Failed,
    /// Stopped on request; no output was written.
    Cancelled,
}

impl JobStatus {
    /// The lowercase name used in JSON and SQLite.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the lowercase name.
    pub fn from_name(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }

    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// A job as shown by `jobs show` and printed by `etl … --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Job {
    /// Job id.
    pub id: String,
    /// Kind.
    pub kind: JobKind,
    /// Status.
    pub status: JobStatus,
    /// Who started it.
    pub actor: String,
    /// When it was queued (RFC 3339, UTC).
    pub created_at: String,
    /// When it started running.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// Fraction done, 0..1.
    pub progress: f64,
    /// What it is doing now.
    pub phase: String,
    /// Its input object.
    pub input: ObjectRef,
    /// What it runs: the request (stage, input, preset, cut-off, horizon…).
    pub params: JobRequest,
    /// Its output, once succeeded.
    pub output: Option<ObjectRef>,
    /// Its report, once succeeded.
    pub report: Option<crate::stages::StageReport>,
    /// Why it failed.
    pub error: Option<String>,
}

/// How much a log line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// What happened.
    Info,
    /// Something the user should know (a cancellation, a skipped step).
    Warn,
    /// Why the job failed.
    Error,
}

impl LogLevel {
    /// `info`, `warn` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogLine {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// How much it matters.
    pub level: LogLevel,
    /// The message.
    pub message: String,
}

/// A request to run a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JobRequest {
    /// Clean a raw object.
    Clean {
        /// Key in the raw bucket.
        raw_key: String,
        /// Preset.
        preset: crate::preset::Preset,
        /// Output key in the clean bucket (default derived from the raw key).
        out_key: Option<String>,
    },
    /// Build features from a clean object.
    Features {
        /// Key in the clean bucket.
        clean_key: String,
        /// Preset (must match the clean table's).
        preset: crate::preset::Preset,
        /// Cut-off, ns; default the 0.7 quantile of the timestamps.
        cutoff: Option<i64>,
        /// Horizon in days (default 90).
        horizon_days: u32,
        /// Output key in the clean bucket (default derived from the clean key).
        out_key: Option<String>,
    },
    /// Train and compare candidates on a features table; register the winner.
    Train {
        /// Key of a features table in the clean bucket.
        features_key: String,
        /// Model group to register in.
        group: String,
        /// Training parameters.
        config: crate::train::TrainConfig,
        /// Where a SageMaker training job runs (AWS with `[aws.compute]`;
        /// none: the configured defaults). A local job runs on this
        /// machine and ignores it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resources: Option<TrainingResources>,
    },
}

/// What a SageMaker training job runs on; each value unset is the
/// `[aws.compute]` default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrainingResources {
    /// Instance type, e.g. `ml.m5.large`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Managed spot training (no checkpoints: an interrupted job starts
    /// over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<bool>,
    /// Longest run, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime_s: Option<i32>,
}
