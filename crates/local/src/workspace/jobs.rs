//! The local job runner: jobs are rows of the database, run on the
//! caller's thread by the one stage function of `tablero_core::stages`,
//! their progress and cancellation read and written through the database.

use std::cell::RefCell;

use tablero_core::job::{
    Job, JobKind, JobRequest, JobStatus, LogLevel, LogLine, ObjectRef, Progress,
};
use tablero_core::ports::{AuditEvent, JobRunner};
use tablero_core::stages::{self, StageContext};
use tablero_core::store::Bucket;

use super::Workspace;
use crate::error::Error;

impl Workspace {
    fn log(&self, id: &str, level: LogLevel, message: &str) {
        // A log line that cannot be written must not fail the job.
        let _ = self.db.log(id, level, message);
    }
}

/// Progress of a running job: recorded in the database (throttled) and
/// passed to the observer; cancellation is read from the database.
struct JobProgress<'a> {
    ws: &'a Workspace,
    id: &'a str,
    observe: &'a dyn Fn(&Job),
    last: RefCell<(f64, String)>,
}

impl Progress for JobProgress<'_> {
    fn update(&self, fraction: f64, phase: &str) -> tablero_core::Result<()> {
        let changed = {
            let last = self.last.borrow();
            fraction - last.0 >= 0.01 || last.1 != phase
        };
        if !changed {
            return Ok(());
        }
        *self.last.borrow_mut() = (fraction, phase.to_string());
        let cancel = self
            .ws
            .db
            .progress(self.id, fraction, phase)
            .unwrap_or(false);
        if let Ok(job) = self.ws.db.job(self.id) {
            (self.observe)(&job);
        }
        if cancel {
            Err(tablero_core::Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

impl Workspace {
    /// Runs a queued job here; `keep`: a clean job keeps the features'
    /// input for the features job after it ([`stages::Carry`]).
    fn run_job(
        &self,
        id: &str,
        observe: &dyn Fn(&Job),
        keep: bool,
    ) -> tablero_core::ports::Result<Job> {
        if !self.db.start_job(id)? {
            let job = self.db.job(id)?;
            return Err(
                Error::Refused(format!("job {id} is {}, not queued", job.status.name())).into(),
            );
        }
        let job = self.db.job(id)?;
        observe(&job);
        self.log(id, LogLevel::Info, &format!("started by {}", job.actor));
        let progress = JobProgress {
            ws: self,
            id,
            observe,
            last: RefCell::new((-1.0, String::new())),
        };
        let log = |level: LogLevel, message: &str| self.log(id, level, message);
        let ctx = StageContext {
            store: self.object_store(),
            registry: self.registry_port(),
            actor: &job.actor,
            progress: &progress,
            log: &log,
            infer_spec: false,
            memory_mb: self.config().limits.memory_budget_mb(),
            carry: Some(&self.carry),
        };
        if keep {
            self.carry.keep_next();
        }
        let result = stages::run(&job.params, &ctx);
        self.carry.stop_keeping();
        match result {
            Ok(done) => {
                self.db.finish_job(
                    id,
                    JobStatus::Succeeded,
                    Some(&done.output),
                    Some(&done.report),
                    None,
                )?;
                self.log(
                    id,
                    LogLevel::Info,
                    &format!("wrote {}/{}", done.output.bucket, done.output.key),
                );
            }
            Err(e) if e.kind() == tablero_core::ports::ErrorKind::Cancelled => {
                self.db.finish_job(
                    id,
                    JobStatus::Cancelled,
                    None,
                    None,
                    Some("cancelled; no output was written"),
                )?;
                self.log(id, LogLevel::Warn, "cancelled; no output was written");
            }
            Err(e) => {
                let msg = e.to_string();
                self.db
                    .finish_job(id, JobStatus::Failed, None, None, Some(&msg))?;
                self.log(id, LogLevel::Error, &msg);
            }
        }
        let job = self.db.job(id)?;
        observe(&job);
        Ok(job)
    }
}

impl JobRunner for Workspace {
    fn submit(&self, request: JobRequest) -> tablero_core::ports::Result<Job> {
        let (kind, input) = match &request {
            JobRequest::Clean { raw_key, .. } => (
                JobKind::Clean,
                ObjectRef {
                    bucket: Bucket::Raw,
                    key: raw_key.clone(),
                },
            ),
            JobRequest::Features { clean_key, .. } => (
                JobKind::Features,
                ObjectRef {
                    bucket: Bucket::Clean,
                    key: clean_key.clone(),
                },
            ),
            JobRequest::Train { features_key, .. } => (
                JobKind::Train,
                ObjectRef {
                    bucket: Bucket::Clean,
                    key: features_key.clone(),
                },
            ),
        };
        // Refuse a missing input now rather than queue a job bound to fail.
        let id = self.db.insert_job(kind, &self.actor(), &input, &request)?;
        self.audit(&AuditEvent::new("job.submit", id.as_str()).after(format!(
            "{} {}/{}",
            kind.name(),
            input.bucket,
            input.key
        )))?;
        Ok(self.db.job(&id)?)
    }

    fn run(&self, id: &str, observe: &dyn Fn(&Job)) -> tablero_core::ports::Result<Job> {
        self.run_job(id, observe, false)
    }

    fn run_keeping_features_input(
        &self,
        id: &str,
        observe: &dyn Fn(&Job),
    ) -> tablero_core::ports::Result<Job> {
        self.run_job(id, observe, true)
    }

    fn job(&self, id: &str) -> tablero_core::ports::Result<Job> {
        Ok(self.db.job(id)?)
    }

    fn jobs(&self, limit: usize) -> tablero_core::ports::Result<Vec<Job>> {
        // Jobs of processes that died since (a CLI killed mid-job) show as failed.
        self.db.reap_orphans()?;
        Ok(self.db.jobs(limit)?)
    }

    fn logs(&self, id: &str) -> tablero_core::ports::Result<Vec<LogLine>> {
        Ok(self.db.logs(id)?)
    }

    fn cancel(&self, id: &str) -> tablero_core::ports::Result<Job> {
        let before = self.db.job(id)?;
        if before.status.is_final() {
            return Err(Error::Refused(format!(
                "job {id} has already ended ({})",
                before.status.name()
            ))
            .into());
        }
        let after = self.db.request_cancel(id)?;
        self.audit(
            &AuditEvent::new("job.cancel", id)
                .before(before.status.name())
                .after(after.name()),
        )?;
        Ok(self.db.job(id)?)
    }
}
