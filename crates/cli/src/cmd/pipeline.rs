//! `tablero etl …`, `tablero train`, `tablero jobs …`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;

use tablero_app::jobs::{self, JobLog, PipelineRequest, TrainOptions};
use tablero_core::job::{Job, JobRequest, JobStatus, TrainingResources};
use tablero_core::ports::{Backend, JobRunner};
use tablero_core::train::metrics::Metric;
use tablero_core::train::models::Algorithm;

use crate::args::{Cli, EtlCommand, JobsCommand, TargetArgs, TrainArgs};
use crate::failure::Failure;
use crate::{emit, human, open};

pub(crate) fn etl(cli: &Cli, cmd: &EtlCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    let cutoff_of = |target: &TargetArgs| match &target.cutoff {
        Some(c) => jobs::parse_cutoff(c)
            .map(Some)
            .map_err(|e| Failure::usage(format!("--cutoff {e}"))),
        None => Ok(None),
    };
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
            target,
            out,
        } => JobRequest::Features {
            clean_key: clean_key.clone(),
            preset: (*preset).into(),
            cutoff: cutoff_of(target)?,
            horizon_days: target.horizon_days,
            out_key: out.clone(),
        },
        EtlCommand::Run {
            raw_key,
            preset,
            target,
            clean_out,
            features_out,
        } => {
            let request = PipelineRequest {
                raw_key: raw_key.clone(),
                preset: (*preset).into(),
                clean_out: clean_out.clone(),
                cutoff: cutoff_of(target)?,
                horizon_days: target.horizon_days,
                features_out: features_out.clone(),
            };
            let done =
                jobs::run_pipeline(&b, request, &mut |job, keep| follow(cli, &b, job, keep))?;
            emit(cli, &done, |d| {
                human::job(&d.clean, &[]);
                if let Some(f) = &d.features {
                    println!();
                    human::job(f, &[]);
                }
            });
            return Ok(if done.succeeded() { 0 } else { 1 });
        }
    };
    run_job(cli, &b, request)
}

/// Submits a job, runs it here with a progress bar, and prints it.
fn run_job(cli: &Cli, b: &Backend, request: JobRequest) -> Result<u8, Failure> {
    let job = jobs::submit(b, request)?;
    let done = follow(cli, b, &job, false)?;
    emit(cli, &done, |j| human::job(j, &[]));
    Ok(if done.status == JobStatus::Succeeded {
        0
    } else {
        1
    })
}

/// The job Ctrl-C cancels: the one running now.
static RUNNING: std::sync::Mutex<Option<(Arc<dyn JobRunner>, String)>> =
    std::sync::Mutex::new(None);

/// Runs a submitted job here with a progress bar (`keep`: keeping the
/// features' input for the features job after it). Ctrl-C asks the job to
/// stop (it writes nothing); a second Ctrl-C exits at once.
fn follow(cli: &Cli, b: &Backend, job: &Job, keep: bool) -> tablero_core::ports::Result<Job> {
    static HANDLER: std::sync::Once = std::sync::Once::new();
    HANDLER.call_once(|| {
        let pressed = std::sync::atomic::AtomicBool::new(false);
        let _ = ctrlc::set_handler(move || {
            if pressed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                std::process::exit(130);
            }
            if let Ok(running) = RUNNING.lock() {
                if let Some((runner, id)) = running.as_ref() {
                    eprintln!("\nCancelling {id} (press Ctrl-C again to quit at once)…");
                    let _ = runner.cancel(id);
                }
            }
        });
    });
    if let Ok(mut running) = RUNNING.lock() {
        *running = Some((b.jobs.clone(), job.id.clone()));
    }
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
    let observe = |j: &Job| {
        pb.set_position((j.progress * 1000.0) as u64);
        pb.set_message(j.phase.clone());
    };
    let done = if keep {
        b.jobs.run_keeping_features_input(&job.id, &observe)
    } else {
        b.jobs.run(&job.id, &observe)
    };
    pb.finish_and_clear();
    if let Ok(mut running) = RUNNING.lock() {
        *running = None;
    }
    done
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
