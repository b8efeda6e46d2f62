//! `tablero etl …`, `tablero train`, `tablero jobs …`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tablero_app::jobs::{self, JobLog, TrainOptions};
use tablero_core::job::{Job, JobRequest, JobStatus, TrainingResources};
use tablero_core::ports::Backend;
use tablero_core::train::metrics::Metric;
use tablero_core::train::models::Algorithm;

use crate::args::{Cli, EtlCommand, JobsCommand, TrainArgs};
use crate::failure::Failure;
use crate::{emit, human, open};

pub(crate) fn etl(cli: &Cli, cmd: &EtlCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    let request = match cmd {
        EtlCommand::Clean {
            raw_key,
            preset,
            out,
        } => JobRequest::Clean {
            raw_key: raw_key.clone(),
            preset: (*preset).into(),
            out_key: out.clone(),
        },
        EtlCommand::Features {
            clean_key,
            preset,
            cutoff,
            horizon_days,
            out,
        } => JobRequest::Features {
            clean_key: clean_key.clone(),
            preset: (*preset).into(),
            cutoff: match cutoff {
                Some(c) => Some(
                    jobs::parse_cutoff(c).map_err(|e| Failure::usage(format!("--cutoff {e}")))?,
                ),
                None => None,
            },
            horizon_days: *horizon_days,
            out_key: out.clone(),
        },
    };
    run_job(cli, &b, request)
}

/// Submits a job, runs it here with a progress bar, and prints it. Ctrl-C
/// asks the job to stop (it writes nothing); a second Ctrl-C exits at once.
fn run_job(cli: &Cli, b: &Backend, request: JobRequest) -> Result<u8, Failure> {
    let job = jobs::submit(b, request)?;
    let runner = b.jobs.clone();
    let id = job.id.clone();
    let pressed = std::sync::atomic::AtomicBool::new(false);
    let _ = ctrlc::set_handler(move || {
        if pressed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nCancelling {id} (press Ctrl-C again to quit at once)…");
        let _ = runner.cancel(&id);
    });
    let pb = if cli.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new(1000);
        pb.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_prefix(format!("{} {}", job.kind.name(), job.id));
        pb
    };
    let done = b.jobs.run(&job.id, &|j: &Job| {
        pb.set_position((j.progress * 1000.0) as u64);
        pb.set_message(j.phase.clone());
    })?;
    pb.finish_and_clear();
    emit(cli, &done, |j| human::job(j, &[]));
    Ok(if done.status == JobStatus::Succeeded {
        0
    } else {
        1
    })
}

pub(crate) fn train(cli: &Cli, a: &TrainArgs) -> Result<u8, Failure> {
    let b = open(cli)?;
    let sort = Metric::from_name(&a.sort).ok_or_else(|| {
        Failure::usage(format!(
            "--sort {:?}: use accuracy, auc, f1, recall, precision, kappa or mcc",
            a.sort
        ))
    })?;
    let candidates = match &a.candidates {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|c| {
                    Algorithm::from_id(c).ok_or_else(|| {
                        Failure::usage(format!(
                            "--candidates: unknown {c:?}; use lr, tree, forest, gbm, knn, nb, et"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let config = TrainOptions {
        sort: Some(sort),
        folds: Some(a.folds),
        test_size: Some(a.test_size),
        seed: Some(a.seed),
        candidates,
    }
    .config();
    run_job(
        cli,
        &b,
        JobRequest::Train {
            features_key: a.features_key.clone(),
            group: a.group.clone(),
            config,
            resources: (a.instance_type.is_some() || a.spot || a.max_runtime.is_some()).then(
                || TrainingResources {
                    instance_type: a.instance_type.clone(),
                    spot: a.spot.then_some(true),
                    max_runtime_s: a.max_runtime,
                },
            ),
        },
    )
}

pub(crate) fn jobs(cli: &Cli, cmd: &JobsCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        JobsCommand::Ls { limit } => {
            let list = jobs::list(&b, *limit)?;
            emit(cli, &list, |l| human::jobs(&l.jobs));
        }
        JobsCommand::Show { id } => {
            let detail = jobs::show(&b, id)?;
            let shown = JobLog {
                job: detail.job,
                logs: detail.logs,
            };
            emit(cli, &shown, |s| human::job(&s.job, &s.logs));
        }
        JobsCommand::Cancel { id } => {
            let job = b.jobs.cancel(id)?;
            emit(cli, &job, |j| {
                println!("Cancellation requested: {} is {}", j.id, j.status.name())
            });
        }
    }
    Ok(0)
}
