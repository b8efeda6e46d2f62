//! The Tauri commands: each one calls the ports of the panel's backend (built
//! once per workspace by [`crate::backend`]) or the library function the CLI
//! calls, and returns its serde type. Work runs on blocking threads (never
//! the UI thread); jobs run in the background and report through
//! `job://progress` events.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::{json, Value};
use tablero_core::charts;
use tablero_core::clean::Preset;
use tablero_core::ingest::{parse_mapping, CsvOptions};
use tablero_core::job::JobRequest;
use tablero_core::monitor::alarm_states;
use tablero_core::ports::{Backend, EndpointOptions, EndpointStatus, TrashEntry};
use tablero_core::store::{Bucket, ObjectInfo};
use tablero_core::train::metrics::Metric;
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::dto::*;

type Reply<T> = Result<T, UiError>;

/// The workspace the panel shows and its backend.
struct Opened {
    root: PathBuf,
    backend: Backend,
}

/// The panel's state: the backend of the workspace it shows (built once,
/// replaced when another workspace is opened), acting as one user at a time.
pub struct Panel {
    current: Arc<RwLock<Arc<Opened>>>,
    /// `--backend`, for the workspaces opened later.
    kind: Option<String>,
    /// The program that runs the endpoint (`PROGRAM serve-endpoint …`).
    program: PathBuf,
    /// Paths whose running upload the user cancelled.
    cancelled_uploads: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl Panel {
    /// A panel over the workspace at `root` (created when missing), acting
    /// as the OS user, that starts the endpoint as `program serve-endpoint …`.
    pub fn open(root: PathBuf, program: PathBuf, kind: Option<String>) -> Reply<Panel> {
        let backend = crate::backend::open_or_init(&root, kind.as_deref(), &program)?;
        Ok(Panel {
            current: Arc::new(RwLock::new(Arc::new(Opened { root, backend }))),
            kind,
            program,
            cancelled_uploads: Arc::new(Mutex::new(std::collections::HashSet::new())),
        })
    }

    fn opened(&self) -> Arc<Opened> {
        self.current
            .read()
            .map(|o| o.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn current_handle(&self) -> Arc<RwLock<Arc<Opened>>> {
        self.current.clone()
    }

    /// Runs `f` on a blocking thread with the backend.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Backend) -> Reply<T> + Send + 'static,
    ) -> Reply<T> {
        let opened = self.opened();
        tauri::async_runtime::spawn_blocking(move || f(&opened.backend))
            .await
            .map_err(|e| UiError::refused(format!("the operation stopped unexpectedly: {e}")))?
    }
}

fn json_of<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn bucket(name: &str) -> Reply<Bucket> {
    name.parse::<Bucket>().map_err(UiError::from)
}

fn preset(name: Option<&str>) -> Reply<Preset> {
    let name = name.unwrap_or("standard");
    Preset::from_name(name)
        .ok_or_else(|| UiError::refused(format!("unknown preset {name:?}: use standard or parity")))
}

fn options(map: Option<&str>) -> Reply<CsvOptions> {
    let mapping = match map.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => parse_mapping(m).map_err(|e| UiError::from(tablero_core::Error::from(e)))?,
        None => Vec::new(),
    };
    Ok(CsvOptions {
        mapping,
        ..CsvOptions::default()
    })
}

fn users(b: &Backend) -> Vec<UserRoles> {
    b.identity
        .users()
        .into_iter()
        .map(|(name, roles)| UserRoles {
            name,
            roles: roles.iter().map(|r| r.name().to_string()).collect(),
        })
        .collect()
}

fn session_of(b: &Backend) -> Session {
    let user = b.identity.actor();
    let users = users(b);
    let policy = b.identity.policy();
    Session {
        workspace: b.location.clone(),
        backend: b.kind.name().into(),
        roles: users
            .iter()
            .find(|u| u.name == user)
            .map(|u| u.roles.clone())
            .unwrap_or_default(),
        user,
        allow_as: policy.allow_as,
        users,
        four_eyes: policy.four_eyes,
    }
}

fn since(range: &str) -> Reply<String> {
    let hours = match range {
        "1h" => 1,
        "24h" => 24,
        "7d" => 24 * 7,
        other => {
            return Err(UiError::refused(format!(
                "unknown range {other:?}: use 1h, 24h or 7d"
            )))
        }
    };
    Ok((chrono::Utc::now() - chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn endpoint_state(s: EndpointStatus) -> EndpointState {
    EndpointState {
        running: s.running,
        url: s.url,
        serving: s.serving.map(|s| Serving {
            group: s.group,
            version: s.version,
        }),
        uptime_seconds: s.uptime_seconds.map(|u| u as f64),
        pid: s.pid,
    }
}

// ---- Session -------------------------------------------------------------

#[tauri::command]
pub async fn session<R: Runtime>(app: AppHandle<R>, panel: State<'_, Panel>) -> Reply<Session> {
    let session = panel.with(|b| Ok(session_of(b))).await?;
    // The UI asks for the session as soon as it is mounted: the window is
    // interactive. `TABLERO_STARTUP_PROBE=print|exit` reports the time since
    // the process started (scripts/measure-desktop.sh), once.
    static PROBED: std::sync::Once = std::sync::Once::new();
    if let Ok(probe) = std::env::var("TABLERO_STARTUP_PROBE") {
        PROBED.call_once(|| {
            let ms = crate::STARTED
                .get()
                .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3);
            println!("startup_ms={ms:.0}");
            if probe == "exit" {
                app.exit(0);
            }
        });
    }
    Ok(session)
}

#[tauri::command]
pub async fn switch_user(panel: State<'_, Panel>, name: String) -> Reply<Session> {
    panel
        .with(move |b| {
            b.identity.switch_user(&name)?;
            Ok(session_of(b))
        })
        .await
}

/// Opens the workspace in `path` (creating one in a missing or empty
/// folder), acting as the OS user again, and remembers it for the next start.
#[tauri::command]
pub async fn workspace_open(panel: State<'_, Panel>, path: String) -> Reply<Session> {
    let kind = panel.kind.clone();
    let program = panel.program.clone();
    let opened = tauri::async_runtime::spawn_blocking(move || -> Reply<_> {
        let root = crate::workspaces::open_or_create(&path)?;
        let backend = crate::backend::open(&root, kind.as_deref(), &program)?;
        Ok(Opened { root, backend })
    })
    .await
    .map_err(|e| UiError::refused(e.to_string()))??;
    if let Some(file) = crate::workspaces::remembered_file() {
        if let Err(e) = crate::workspaces::remember(&file, &opened.root) {
            // The switch itself worked; only the next start forgets it.
            eprintln!(
                "tablero-desktop: cannot remember the workspace in {}: {e}",
                file.display()
            );
        }
    }
    let session = session_of(&opened.backend);
    if let Ok(mut current) = panel.current.write() {
        *current = Arc::new(opened);
    }
    Ok(session)
}

#[tauri::command]
pub async fn notifications(panel: State<'_, Panel>) -> Reply<Notifications> {
    panel
        .with(|b| {
            let pending = tablero_app::models::pending_for_me(b, "default")?
                .iter()
                .map(json_of)
                .collect();
            let alarms = alarm_states(&b.monitor.alarm_history()?);
            Ok(Notifications {
                pending_approvals: pending,
                firing_alarms: alarms.into_iter().filter(|a| a.state == "ALARM").collect(),
            })
        })
        .await
}

// ---- Data ----------------------------------------------------------------

#[tauri::command]
pub async fn data_list(
    panel: State<'_, Panel>,
    bucket: String,
    prefix: Option<String>,
    page_size: Option<usize>,
    page_token: Option<String>,
) -> Reply<Value> {
    panel
        .with(move |b| {
            let page = b.store.list(
                self::bucket(&bucket)?,
                prefix.as_deref().unwrap_or(""),
                page_token.as_deref(),
                page_size.unwrap_or(500).clamp(1, 10_000),
            )?;
            Ok(json_of(&page))
        })
        .await
}

#[tauri::command]
pub async fn data_inspect(
    panel: State<'_, Panel>,
    path: String,
    map: Option<String>,
) -> Reply<Value> {
    panel
        .with(move |b| {
            let opts = options(map.as_deref())?;
            Ok(json_of(&tablero_app::data::inspect_file(
                b,
                std::path::Path::new(&path),
                &opts,
            )?))
        })
        .await
}

#[tauri::command]
pub async fn data_upload<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    path: String,
    key: Option<String>,
    map: Option<String>,
    replace: Option<bool>,
) -> Reply<Value> {
    let cancelled = panel.cancelled_uploads.clone();
    if let Ok(mut c) = cancelled.lock() {
        c.remove(&path);
    }
    panel
        .with(move |b| {
            let opts = options(map.as_deref())?;
            let key = key.filter(|k| !k.trim().is_empty());
            let progress = |done: u64, total: u64| {
                let _ = app.emit(
                    "upload://progress",
                    UploadProgress {
                        path: path.clone(),
                        done,
                        total,
                    },
                );
            };
            let is_cancelled = || cancelled.lock().map(|c| c.contains(&path)).unwrap_or(false);
            let up = tablero_app::data::upload(
                b,
                std::path::Path::new(&path),
                key.as_deref(),
                &opts,
                replace.unwrap_or(false),
                &progress,
                &is_cancelled,
            )
            .map_err(|e| match e.kind() {
                tablero_core::ports::ErrorKind::Cancelled => UiError {
                    kind: "cancelled".into(),
                    message: "upload cancelled; nothing was stored".into(),
                },
                _ => UiError::from(e),
            })?;
            Ok(json_of(&up))
        })
        .await
}

/// Asks the running upload of `path` to stop; it stops at its next
/// checkpoint and stores nothing.
#[tauri::command]
pub async fn data_upload_cancel(panel: State<'_, Panel>, path: String) -> Reply<Value> {
    if let Ok(mut c) = panel.cancelled_uploads.lock() {
        c.insert(path.clone());
    }
    Ok(json!({ "cancelling": path }))
}

#[tauri::command]
pub async fn data_preview(
    panel: State<'_, Panel>,
    bucket: String,
    key: String,
    rows: Option<usize>,
) -> Reply<Value> {
    panel
        .with(move |b| {
            let p = tablero_app::data::preview(
                b,
                self::bucket(&bucket)?,
                &key,
                rows.unwrap_or(20).clamp(1, 500),
            )?;
            Ok(json_of(&p))
        })
        .await
}

#[tauri::command]
pub async fn data_delete(
    panel: State<'_, Panel>,
    bucket: String,
    key: String,
) -> Reply<TrashEntry> {
    panel
        .with(move |b| Ok(tablero_app::data::delete(b, self::bucket(&bucket)?, &key)?))
        .await
}

#[tauri::command]
pub async fn data_trash(panel: State<'_, Panel>) -> Reply<Vec<TrashEntry>> {
    panel.with(|b| Ok(b.store.trash()?)).await
}

#[tauri::command]
pub async fn data_restore(panel: State<'_, Panel>, id: String) -> Reply<ObjectInfo> {
    panel
        .with(move |b| Ok(tablero_app::data::restore(b, &id)?))
        .await
}

// ---- Pipeline ------------------------------------------------------------

/// Submits a job and runs it on its own thread, reporting progress.
async fn start_job<R: Runtime>(
    app: AppHandle<R>,
    panel: &Panel,
    request: JobRequest,
) -> Reply<JobStarted> {
    let opened = panel.opened();
    let job = panel
        .with(move |b| Ok(tablero_app::jobs::submit(b, request)?))
        .await?;
    let id = job.id.clone();
    let current = panel.current_handle();
    std::thread::spawn(move || {
        let emit = |job: &tablero_core::job::Job| {
            // Job ids are per workspace: once the panel shows another one,
            // this job runs on quietly (its document keeps its progress).
            let shown = current
                .read()
                .map(|c| Arc::ptr_eq(&*c, &opened))
                .unwrap_or(false);
            if !shown {
                return;
            }
            let _ = app.emit(
                "job://progress",
                JobProgress {
                    id: job.id.clone(),
                    status: json_of(&job.status).as_str().unwrap_or("").to_string(),
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

#[tauri::command]
pub async fn etl_clean<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    raw_key: String,
    preset: Option<String>,
    out: Option<String>,
) -> Reply<JobStarted> {
    let request = JobRequest::Clean {
        raw_key,
        preset: self::preset(preset.as_deref())?,
        out_key: out.filter(|o| !o.trim().is_empty()),
    };
    start_job(app, &panel, request).await
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn etl_features<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    clean_key: String,
    preset: Option<String>,
    cutoff: Option<String>,
    horizon_days: Option<u32>,
    out: Option<String>,
) -> Reply<JobStarted> {
    let cutoff = match cutoff.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(
            tablero_app::jobs::parse_cutoff(c)
                .map_err(|e| UiError::refused(format!("cut-off {e}")))?,
        ),
        None => None,
    };
    let request = JobRequest::Features {
        clean_key,
        preset: self::preset(preset.as_deref())?,
        cutoff,
        horizon_days: horizon_days.unwrap_or(90),
        out_key: out.filter(|o| !o.trim().is_empty()),
    };
    start_job(app, &panel, request).await
}

#[tauri::command]
pub async fn train<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    features_key: String,
    sort: Option<String>,
    folds: Option<usize>,
    candidates: Option<Vec<String>>,
    group: Option<String>,
) -> Reply<JobStarted> {
    let mut config = TrainConfig::default();
    if let Some(s) = sort {
        config.sort = Metric::from_name(&s).ok_or_else(|| {
            UiError::refused(format!(
                "unknown metric {s:?}: use accuracy, auc, f1, recall, precision, kappa or mcc"
            ))
        })?;
    }
    if let Some(f) = folds {
        config.folds = f;
    }
    if let Some(c) = candidates.filter(|c| !c.is_empty()) {
        config.candidates = c
            .iter()
            .map(|id| {
                Algorithm::from_id(id).ok_or_else(|| {
                    UiError::refused(format!(
                        "unknown candidate {id:?}: use lr, tree, forest, gbm, knn, nb, et"
                    ))
                })
            })
            .collect::<Reply<_>>()?;
    }
    let request = JobRequest::Train {
        features_key,
        group: group.unwrap_or_else(|| "default".into()),
        config,
    };
    start_job(app, &panel, request).await
}

#[tauri::command]
pub async fn jobs_list(panel: State<'_, Panel>, limit: Option<usize>) -> Reply<Value> {
    panel
        .with(move |b| Ok(json!({ "jobs": b.jobs.jobs(limit.unwrap_or(50))? })))
        .await
}

#[tauri::command]
pub async fn job_show(panel: State<'_, Panel>, id: String) -> Reply<Value> {
    panel
        .with(move |b| {
            let job = b.jobs.job(&id)?;
            let logs = b.jobs.logs(&id)?;
            let report = job.report.clone();
            Ok(json!({ "job": job, "logs": logs, "report": report }))
        })
        .await
}

#[tauri::command]
pub async fn job_cancel(panel: State<'_, Panel>, id: String) -> Reply<Value> {
    panel.with(move |b| Ok(json_of(&b.jobs.cancel(&id)?))).await
}

// ---- Models --------------------------------------------------------------

fn group_or_default(group: Option<String>) -> String {
    group.unwrap_or_else(|| "default".into())
}

#[tauri::command]
pub async fn models_list(panel: State<'_, Panel>, group: Option<String>) -> Reply<Value> {
    let group = group_or_default(group);
    panel
        .with(move |b| {
            Ok(json!({ "group": group, "versions": b.registry.versions(&group, None)? }))
        })
        .await
}

#[tauri::command]
pub async fn model_show(
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<Value> {
    let group = group_or_default(group);
    panel
        .with(move |b| {
            Ok(json!({
                "version": b.registry.version(&group, version)?,
                "card": b.registry.card(&group, version)?
            }))
        })
        .await
}

#[tauri::command]
pub async fn models_compare(
    panel: State<'_, Panel>,
    versions: Vec<u32>,
    group: Option<String>,
) -> Reply<ComparisonView> {
    let group = group_or_default(group);
    if !(2..=4).contains(&versions.len()) {
        return Err(UiError::refused("pick two to four versions to compare"));
    }
    panel
        .with(move |b| {
            let cards = versions
                .iter()
                .map(|v| b.registry.card(&group, *v))
                .collect::<Result<Vec<_>, _>>()?;
            let comparison = tablero_core::registry::compare(&cards);
            let refs: Vec<&_> = cards.iter().collect();
            let mut out = CompareCharts::default();
            for (name, chart) in charts::for_versions(&refs) {
                let svg = charts::svg(&chart)?;
                match name.as_str() {
                    "roc" => out.roc = svg,
                    "metrics" => out.metrics = svg,
                    n if n.starts_with("confusion_") => out.confusion.push(svg),
                    n if n.starts_with("importance_") => out.importance.push(svg),
                    _ => {}
                }
            }
            Ok(ComparisonView {
                comparison: json_of(&comparison),
                charts: out,
            })
        })
        .await
}

#[tauri::command]
pub async fn model_actions(
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<ModelActions> {
    let group = group_or_default(group);
    panel
        .with(move |b| Ok(tablero_app::models::actions(b, &group, version)?))
        .await
}

#[tauri::command]
pub async fn model_approve(
    panel: State<'_, Panel>,
    version: u32,
    comment: String,
    accept_leakage_risk: Option<bool>,
    group: Option<String>,
) -> Reply<Value> {
    let group = group_or_default(group);
    panel
        .with(move |b| {
            let v = tablero_app::models::approve(
                b,
                &group,
                version,
                &comment,
                accept_leakage_risk.unwrap_or(false),
            )?;
            Ok(json_of(&v))
        })
        .await
}

#[tauri::command]
pub async fn model_reject(
    panel: State<'_, Panel>,
    version: u32,
    comment: String,
    group: Option<String>,
) -> Reply<Value> {
    let group = group_or_default(group);
    panel
        .with(move |b| {
            Ok(json_of(&tablero_app::models::reject(
                b, &group, version, &comment,
            )?))
        })
        .await
}

// ---- Deploy --------------------------------------------------------------

#[tauri::command]
pub async fn endpoint_status(panel: State<'_, Panel>) -> Reply<EndpointState> {
    panel
        .with(|b| Ok(endpoint_state(b.deployer.endpoint_status()?)))
        .await
}

#[tauri::command]
pub async fn endpoint_start(
    panel: State<'_, Panel>,
    port: Option<u16>,
    metrics_interval: Option<u64>,
) -> Reply<EndpointState> {
    panel
        .with(move |b| {
            // Tests and demos shorten the metrics window.
            let interval = metrics_interval
                .or_else(|| {
                    std::env::var("TABLERO_METRICS_INTERVAL")
                        .ok()
                        .and_then(|v| v.parse().ok())
                })
                .unwrap_or(60);
            tablero_app::deploy::start_endpoint(
                b,
                &EndpointOptions {
                    port: port.unwrap_or(8080),
                    metrics_interval: interval,
                    ..EndpointOptions::default()
                },
            )?;
            Ok(endpoint_state(b.deployer.endpoint_status()?))
        })
        .await
}

#[tauri::command]
pub async fn endpoint_stop(panel: State<'_, Panel>) -> Reply<Value> {
    panel
        .with(|b| {
            let v = tablero_app::deploy::stop_endpoint(b)?;
            Ok(json!({ "stopped": v.stopped }))
        })
        .await
}

#[tauri::command]
pub async fn promotion_diff(
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<PromotionDiffView> {
    let group = group_or_default(group);
    panel
        .with(move |b| {
            let diff = tablero_app::monitor::promotion_diff(b, &group, version, &since("24h")?)?;
            let mut cards = vec![b.registry.card(&group, version)?];
            if let Some(p) = &diff.production {
                cards.push(b.registry.card(&p.group, p.version)?);
            }
            let refs: Vec<&_> = cards.iter().collect();
            let roc = charts::for_versions(&refs)
                .into_iter()
                .find(|(n, _)| n == "roc")
                .map(|(_, c)| charts::svg(&c))
                .transpose()?
                .unwrap_or_default();
            Ok(PromotionDiffView {
                diff: json_of(&diff),
                roc,
            })
        })
        .await
}

#[tauri::command]
pub async fn deploy_promote(
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<Value> {
    let group = group_or_default(group);
    panel
        .with(move |b| {
            Ok(json_of(
                &tablero_app::deploy::promote(b, &group, version, &|_| {})?.deployment,
            ))
        })
        .await
}

#[tauri::command]
pub async fn deploy_rollback(panel: State<'_, Panel>) -> Reply<Value> {
    panel
        .with(|b| {
            Ok(json_of(
                &tablero_app::deploy::rollback(b, &|_| {})?.deployment,
            ))
        })
        .await
}

#[tauri::command]
pub async fn deploy_history(panel: State<'_, Panel>) -> Reply<DeployHistory> {
    panel
        .with(|b| {
            Ok(DeployHistory {
                deployments: b.deployer.deployments()?,
                rollback: Allowed::from_refusal(tablero_app::deploy::rollback_refusal(b)),
            })
        })
        .await
}

// ---- Monitor -------------------------------------------------------------

#[tauri::command]
pub async fn monitor(panel: State<'_, Panel>, range: String) -> Reply<MonitorView> {
    panel
        .with(move |b| {
            let since = since(&range)?;
            let windows = b.monitor.metric_windows(&since)?;
            let drift = match b.deployer.deployed()? {
                Some(d) => tablero_app::monitor::drift_since(b, &d.group, d.version, &since)?,
                None => Vec::new(),
            };
            let history = b.monitor.alarm_history()?;
            let alarms = alarm_states(&history);
            let alarm_history = history.iter().map(json_of).collect();
            let mut out = MonitorCharts::default();
            for (name, chart) in tablero_app::monitor::endpoint_charts(b, &since)? {
                let svg = charts::svg(&chart)?;
                match name.as_str() {
                    "requests" => out.requests = svg,
                    "latency" => out.latency = svg,
                    "score" => out.score = svg,
                    "drift" => out.drift = svg,
                    _ => {}
                }
            }
            Ok(MonitorView {
                requests: windows.iter().map(|w| w.requests).sum(),
                errors: windows.iter().map(|w| w.errors).sum(),
                windows: windows.iter().map(json_of).collect(),
                drift: drift.iter().map(json_of).collect(),
                alarms,
                alarm_history,
                charts: out,
                since,
            })
        })
        .await
}

#[tauri::command]
pub async fn export_chart_png(
    panel: State<'_, Panel>,
    chart: String,
    range: String,
    path: String,
) -> Reply<Value> {
    panel
        .with(move |b| {
            let since = since(&range)?;
            let (_, found) = tablero_app::monitor::endpoint_charts(b, &since)?
                .into_iter()
                .find(|(n, _)| *n == chart)
                .ok_or_else(|| {
                    UiError::refused(format!(
                        "no chart {chart:?}: use requests, latency, score or drift"
                    ))
                })?;
            let png = charts::png(&found)?;
            let path = PathBuf::from(path);
            std::fs::write(&path, png)
                .map_err(|e| UiError::refused(format!("cannot write {}: {e}", path.display())))?;
            Ok(json!({ "path": path }))
        })
        .await
}

// ---- Settings ------------------------------------------------------------

#[tauri::command]
pub async fn settings(panel: State<'_, Panel>) -> Reply<SettingsView> {
    panel
        .with(|b| {
            let policy = b.identity.policy();
            Ok(SettingsView {
                workspace: b.location.clone(),
                backend: b.kind.name().into(),
                users: users(b),
                four_eyes: policy.four_eyes,
                allow_as: policy.allow_as,
            })
        })
        .await
}
