//! Jobs: who may run which stage, checked before anything is queued, with
//! the input that must exist; the training options and cut-offs as users
//! give them.

use serde::{Deserialize, Serialize};
use tablero_core::dates;
use tablero_core::job::{Job, JobRequest, LogLine};
use tablero_core::ports::{Action, Backend, BackendError, ErrorKind, Result};
use tablero_core::registry;
use tablero_core::stages::StageReport;
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::metrics::Metric;
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;

/// Checks a request (the role for its stage, a valid group, an input that
/// exists) and queues it. A missing input is refused now rather than a job
/// queued that is bound to fail.
pub fn submit(b: &Backend, request: JobRequest) -> Result<Job> {
    let (action, bucket, key) = match &request {
        JobRequest::Clean { raw_key, .. } => (Action::RunEtl, Bucket::Raw, raw_key),
        JobRequest::Features { clean_key, .. } => (Action::RunEtl, Bucket::Clean, clean_key),
        JobRequest::Train {
            features_key,
            group,
            resources,
            ..
        } => {
            registry::check_group(group)?;
            if resources.is_some() && b.kind == tablero_core::ports::BackendKind::Local {
                return Err(BackendError::new(
                    ErrorKind::Usage,
                    "the instance type, spot and max runtime are for SageMaker training: the AWS backend with [aws.compute]; on this machine a training job runs here",
                ));
            }
            (Action::Train, Bucket::Clean, features_key)
        }
    };
    b.identity.authorize(action)?;
    b.store.head(bucket, &ObjectKey::new(key)?)?;
    b.jobs.submit(request)
}

/// What `etl run` runs: a raw object's clean stage, then the features
/// stage on its table.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineRequest {
    /// Key in the raw bucket.
    pub raw_key: String,
    /// The preset of both stages.
    pub preset: tablero_core::preset::Preset,
    /// The clean table's key (default derived from the raw key).
    pub clean_out: Option<String>,
    /// The features' cut-off, ns (default the 0.7 quantile).
    pub cutoff: Option<i64>,
    /// The features' horizon in days.
    pub horizon_days: u32,
    /// The features table's key (default beside the clean table).
    pub features_out: Option<String>,
}

/// The jobs of a pipeline run: the features job is there when the clean
/// job succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineRun {
    /// The clean job.
    pub clean: Job,
    /// The features job on its table; `null` when the clean job did not
    /// succeed (nothing more ran).
    pub features: Option<Job>,
}

impl PipelineRun {
    /// Whether both jobs succeeded.
    pub fn succeeded(&self) -> bool {
        self.features
            .as_ref()
            .is_some_and(|f| f.status == tablero_core::job::JobStatus::Succeeded)
    }
}

/// Runs a pipeline: submits the clean job and has `run` run it (`true`:
/// keeping the features' input in memory,
/// [`tablero_core::ports::JobRunner::run_keeping_features_input`]); when it
/// succeeds, submits the features job on its table and has `run` run that.
/// Each job is checked as [`submit`] checks it.
pub fn run_pipeline(
    b: &Backend,
    request: PipelineRequest,
    run: &mut dyn FnMut(&Job, bool) -> Result<Job>,
) -> Result<PipelineRun> {
    let clean = submit(
        b,
        JobRequest::Clean {
            raw_key: request.raw_key,
            preset: request.preset,
            out_key: request.clean_out,
        },
    )?;
    let clean = run(&clean, true)?;
    let table = match (&clean.status, &clean.output) {
        (tablero_core::job::JobStatus::Succeeded, Some(out)) => out.key.clone(),
        _ => {
            return Ok(PipelineRun {
                clean,
                features: None,
            })
        }
    };
    let features = submit(
        b,
        JobRequest::Features {
            clean_key: table,
            preset: request.preset,
            cutoff: request.cutoff,
            horizon_days: request.horizon_days,
            out_key: request.features_out,
        },
    )?;
    let features = run(&features, false)?;
    Ok(PipelineRun {
        clean,
        features: Some(features),
    })
}

/// A cut-off as users write it (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`), in
/// nanoseconds; the error is `usage`, for the caller to name the field.
pub fn parse_cutoff(text: &str) -> Result<i64> {
    dates::parse_user_timestamp(text.trim()).ok_or_else(|| {
        BackendError::new(
            ErrorKind::Usage,
            format!("{text:?} is not a date: use 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'"),
        )
    })
}

/// Training options as users give them; what is not given is the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOptions {
    /// Metric the leaderboard is sorted by.
    pub sort: Option<Metric>,
    /// Cross-validation folds.
    pub folds: Option<usize>,
    /// Fraction held out.
    pub test_size: Option<f64>,
    /// Seed.
    pub seed: Option<u64>,
    /// Candidates (duplicates dropped; empty or none: all).
    pub candidates: Option<Vec<Algorithm>>,
}

impl TrainOptions {
    /// The training configuration.
    pub fn config(&self) -> TrainConfig {
        let defaults = TrainConfig::default();
        let mut candidates: Vec<Algorithm> = Vec::new();
        for a in self.candidates.iter().flatten() {
            if !candidates.contains(a) {
                candidates.push(*a);
            }
        }
        TrainConfig {
            sort: self.sort.unwrap_or(defaults.sort),
            folds: self.folds.unwrap_or(defaults.folds),
            test_size: self.test_size.unwrap_or(defaults.test_size),
            seed: self.seed.unwrap_or(defaults.seed),
            candidates: if candidates.is_empty() {
                defaults.candidates
            } else {
                candidates
            },
            threshold: defaults.threshold,
        }
    }
}

/// Jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobList {
    /// The jobs.
    pub jobs: Vec<Job>,
}

/// A job with its log, as `jobs show` prints it (the job's fields, and
/// `logs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobLog {
    /// The job.
    #[serde(flatten)]
    pub job: Job,
    /// Its log, oldest first.
    pub logs: Vec<LogLine>,
}

/// A job, its log and its report, as the panel shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobDetail {
    /// The job.
    pub job: Job,
    /// Its log, oldest first.
    pub logs: Vec<LogLine>,
    /// Its report, once it succeeded.
    pub report: Option<StageReport>,
}

/// The newest jobs first, at most `limit`.
pub fn list(b: &Backend, limit: usize) -> Result<JobList> {
    Ok(JobList {
        jobs: b.jobs.jobs(limit)?,
    })
}

/// A job and its log.
pub fn show(b: &Backend, id: &str) -> Result<JobDetail> {
    let job = b.jobs.job(id)?;
    let logs = b.jobs.logs(id)?;
    Ok(JobDetail {
        report: job.report.clone(),
        job,
        logs,
    })
}

/// A candidate algorithm, with its title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlgorithmOption {
    /// Its id (`lr`, …).
    pub id: Algorithm,
    /// Its name for people (`Logistic Regression`).
    pub title: String,
}

/// A metric the leaderboard can be sorted by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetricOption {
    /// Its id (`accuracy`, …).
    pub id: Metric,
    /// Its name for people.
    pub title: String,
}

/// What a training can be asked for, and the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrainingOptions {
    /// Every candidate, in leaderboard order.
    pub algorithms: Vec<AlgorithmOption>,
    /// Every metric.
    pub metrics: Vec<MetricOption>,
    /// The default configuration.
    pub defaults: TrainConfig,
    /// When training runs as a SageMaker training job: the default
    /// instance type, spot and max runtime a job may override.
    pub sagemaker: Option<tablero_core::job::TrainingResources>,
}

/// The candidates and metrics, with their titles, and the defaults; where
/// `b` trains.
pub fn training_options(b: &Backend) -> TrainingOptions {
    TrainingOptions {
        sagemaker: b.jobs.remote_training(),
        algorithms: Algorithm::ALL
            .iter()
            .map(|a| AlgorithmOption {
                id: *a,
                title: a.title().to_string(),
            })
            .collect(),
        metrics: Metric::ALL
            .iter()
            .map(|m| MetricOption {
                id: *m,
                title: m.title().to_string(),
            })
            .collect(),
        defaults: TrainConfig::default(),
    }
}
