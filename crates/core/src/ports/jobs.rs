//! The job port: pipeline stages as jobs with an id, a status, progress,
//! logs and a report.

use super::Result;
use crate::job::{Job, JobRequest, LogLine, TrainingResources};

/// Runs clean, features and train as jobs (in-process locally; Lambda and
/// SageMaker on AWS). A failed or cancelled job writes nothing.
pub trait JobRunner: Send + Sync {
    /// Checks the request and records it as `queued`.
    fn submit(&self, request: JobRequest) -> Result<Job>;
    /// Runs (or follows) a queued job to its end, calling `observe` as it
    /// progresses. A job that fails or is cancelled is returned `Ok` with
    /// that status; `Err` means it could not be run at all.
    fn run(&self, id: &str, observe: &dyn Fn(&Job)) -> Result<Job>;
    /// Runs a queued clean job as [`JobRunner::run`] does and keeps in
    /// memory what a features job on its output needs, for the next such
    /// job this runner runs (`etl run`: the local runner then does not read
    /// the clean table back). By default, just [`JobRunner::run`].
    fn run_keeping_features_input(&self, id: &str, observe: &dyn Fn(&Job)) -> Result<Job> {
        self.run(id, observe)
    }
    /// A job by id.
    fn job(&self, id: &str) -> Result<Job>;
    /// The newest jobs first, at most `limit`.
    fn jobs(&self, limit: usize) -> Result<Vec<Job>>;
    /// A job's log, oldest first.
    fn logs(&self, id: &str) -> Result<Vec<LogLine>>;
    /// Asks a queued or running job to stop; refused once it has ended.
    fn cancel(&self, id: &str) -> Result<Job>;
    /// Where training runs when it runs remotely: the defaults a request's
    /// [`TrainingResources`] override. `None`: training runs here.
    fn remote_training(&self) -> Option<TrainingResources> {
        None
    }
}
