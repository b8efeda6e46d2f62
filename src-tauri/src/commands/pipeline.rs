//! The Pipeline view: clean, features and train as background jobs.

use std::sync::Arc;

use tablero_app::jobs::{self, JobDetail, JobList, TrainOptions, TrainingOptions};
use tablero_core::job::{Job, JobRequest, TrainingResources};
use tablero_core::preset::Preset;
use tablero_core::train::metrics::Metric;
use tablero_core::train::models::Algorithm;
use tauri::{AppHandle, Emitter, Runtime, State};

use super::{Panel, Reply};
use crate::dto::{JobProgress, JobStarted, UiError};

/// Submits a job and runs it on its own thread, reporting progress.
async fn start_job<R: Runtime>(
    app: AppHandle<R>,
    panel: &Panel,
    request: JobRequest,
) -> Reply<JobStarted> {
    let opened = panel.opened();
    let job = panel.with(move |b| Ok(jobs::submit(b, request)?)).await?;
    let id = job.id.clone();
    let current = panel.current.clone();
    std::thread::spawn(move || {
        let emit = |job: &Job| {
            // Job ids are per workspace: once the panel shows another one,
            // this job runs on quietly (its document keeps its progress).
            let shown = current
                .read()
                .map(|c| Arc::ptr_eq(&c, &opened))
                .unwrap_or(false);
            if !shown {
                return;
            }
            let _ = app.emit(
                "job://progress",
                JobProgress {
                    id: job.id.clone(),
                    status: job.status,
                    fraction: job.progress,
                    message: job.phase.clone(),
                },
            );
        };
        match opened.backend.jobs.run(&job.id, &emit) {
            Ok(done) => emit(&done),
            Err(e) => tracing::warn!(job = %job.id, error = %e, "job failed to run"),
        }
    });
    Ok(JobStarted { job_id: id })
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|o| !o.trim().is_empty())
}

#[tauri::command]
pub async fn etl_clean<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    raw_key: String,
    preset: Option<Preset>,
    out: Option<String>,
) -> Reply<JobStarted> {
    let request = JobRequest::Clean {
        raw_key,
        preset: preset.unwrap_or(Preset::Standard),
        out_key: nonempty(out),
    };
    start_job(app, &panel, request).await
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn etl_features<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    clean_key: String,
    preset: Option<Preset>,
    cutoff: Option<String>,
    horizon_days: Option<u32>,
    out: Option<String>,
) -> Reply<JobStarted> {
    let cutoff = match nonempty(cutoff) {
        Some(c) => {
            Some(jobs::parse_cutoff(&c).map_err(|e| UiError::refused(format!("cut-off {e}")))?)
        }
        None => None,
    };
    let request = JobRequest::Features {
        clean_key,
        preset: preset.unwrap_or(Preset::Standard),
        cutoff,
        horizon_days: horizon_days.unwrap_or(90),
        out_key: nonempty(out),
    };
    start_job(app, &panel, request).await
}

// Each argument is a named field of the IPC call, as the UI sends it.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn train<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    features_key: String,
    sort: Option<Metric>,
    folds: Option<usize>,
    candidates: Option<Vec<Algorithm>>,
    group: Option<String>,
    instance_type: Option<String>,
    spot: Option<bool>,
    max_runtime_s: Option<i32>,
) -> Reply<JobStarted> {
    let config = TrainOptions {
        sort,
        folds,
        candidates,
        ..TrainOptions::default()
    }
    .config();
    let request = JobRequest::Train {
        features_key,
        group: super::group_or_default(group),
        config,
        resources: (instance_type.is_some() || spot.is_some() || max_runtime_s.is_some()).then(
            || TrainingResources {
                instance_type: nonempty(instance_type),
                spot,
                max_runtime_s,
            },
        ),
    };
    start_job(app, &panel, request).await
}

/// The candidates and metrics a training can use, with their titles.
#[tauri::command]
pub async fn training_options(panel: State<'_, Panel>) -> Reply<TrainingOptions> {
    panel.with(move |b| Ok(jobs::training_options(b))).await
}

#[tauri::command]
pub async fn jobs_list(panel: State<'_, Panel>, limit: Option<usize>) -> Reply<JobList> {
    panel
        .with(move |b| Ok(jobs::list(b, limit.unwrap_or(50))?))
        .await
}

#[tauri::command]
pub async fn job_show(panel: State<'_, Panel>, id: String) -> Reply<JobDetail> {
    panel.with(move |b| Ok(jobs::show(b, &id)?)).await
}

#[tauri::command]
pub async fn job_cancel(panel: State<'_, Panel>, id: String) -> Reply<Job> {
    panel.with(move |b| Ok(b.jobs.cancel(&id)?)).await
}
