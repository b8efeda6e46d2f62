//! Jobs: who may run which stage, checked before anything is queued, with
//! the input that must exist; the training options and cut-offs as users
//! give them.

use tablero_core::dates;
use tablero_core::job::{Job, JobRequest};
use tablero_core::ports::{Action, Backend, BackendError, ErrorKind, Result};
use tablero_core::registry;
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
            ..
        } => {
            registry::check_group(group)?;
            (Action::Train, Bucket::Clean, features_key)
        }
    };
    b.identity.authorize(action)?;
    b.store.head(bucket, &ObjectKey::new(key)?)?;
    b.jobs.submit(request)
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
