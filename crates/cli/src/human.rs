//! Human-readable output (the default; `--json` bypasses all of this).

use tablero_app::data::Upload;
use tablero_core::job::{Job, JobStatus, LogLine};
use tablero_core::ports::AuditEntry;
use tablero_core::ports::{Deployment, EndpointStatus, EndpointStopped};
use tablero_core::preview::Preview;
use tablero_core::registry::{Comparison, ModelVersion};
use tablero_core::report::{CleanReport, ColumnSummary, FeatureReport};
use tablero_core::stages::StageReport;
use tablero_core::store::ObjectInfo;
use tablero_core::train::model::ModelCard;
use tablero_core::train::LeaderboardEntry;

fn size(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints rows as aligned columns, cutting long cells.
fn table(header: &[&str], rows: &[Vec<String>]) {
    const MAX: usize = 32;
    // The first column (keys, ids) is never cut: it is what users copy.
    let cut = |i: usize, s: &str| -> String {
        if i > 0 && s.chars().count() > MAX {
            format!("{}…", s.chars().take(MAX - 1).collect::<String>())
        } else {
            s.to_string()
        }
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cut(i, c).chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<w$}", c, w = widths.get(i).copied().unwrap_or(0)))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r.iter().enumerate().map(|(i, c)| cut(i, c)).collect());
    }
}

pub fn upload(u: &Upload) {
    println!(
        "Uploaded raw/{} ({}, {} rows)",
        u.object.key,
        size(u.object.size),
        thousands(u.rows)
    );
    println!(
        "  read as {}, delimiter {:?}, dates {}",
        u.ingest.encoding.name(),
        u.ingest.delimiter,
        u.ingest.date_format
    );
    println!("  column mapping:");
    for m in &u.ingest.mapping {
        println!(
            "    {:<20} → {:<13} ({})",
            m.column,
            m.canonical.name(),
            m.how
        );
    }
    let unmapped: Vec<&String> = u
        .ingest
        .columns
        .iter()
        .filter(|c| !u.ingest.mapping.iter().any(|m| &m.column == *c))
        .collect();
    if !unmapped.is_empty() {
        println!(
            "  not used: {}",
            unmapped
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if u.unparseable > 0 {
        println!(
            "  warning: {} rows have a value that does not parse; `etl clean` will drop and count them as unparseable",
            thousands(u.unparseable)
        );
        for e in &u.unparseable_examples {
            println!("    line {}: {}", e.line, e.reason.as_deref().unwrap_or(""));
        }
    }
    println!("  next: tablero etl clean {}", u.object.key);
}

pub fn listing(objects: &[ObjectInfo], next: Option<&str>) {
    if objects.is_empty() {
        println!("(no objects)");
        return;
    }
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| {
            vec![
                o.key.clone(),
                size(o.size),
                o.modified.clone(),
                o.storage_class.clone(),
            ]
        })
        .collect();
    table(&["KEY", "SIZE", "MODIFIED", "CLASS"], &rows);
    if let Some(t) = next {
        println!("(more: --page-token {t:?})");
    }
}

pub fn trash(entries: &[tablero_core::ports::TrashEntry]) {
    if entries.is_empty() {
        println!("(the trash is empty)");
        return;
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| vec![e.id.clone(), size(e.size), e.deleted_at.clone()])
        .collect();
    table(&["ID", "SIZE", "DELETED"], &rows);
    println!("(restore one with `tablero data restore ID`)");
}

fn stats_rows(stats: &[ColumnSummary]) -> Vec<Vec<String>> {
    let v = |x: &Option<tablero_core::report::Scalar>| {
        x.as_ref().map(ToString::to_string).unwrap_or_default()
    };
    stats
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.dtype.clone(),
                v(&s.min),
                v(&s.max),
                s.mean.map(|m| format!("{m:.4}")).unwrap_or_default(),
                s.nulls.to_string(),
                s.distinct.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect()
}

pub fn preview(p: &Preview) {
    let header: Vec<&str> = p.schema.iter().map(|c| c.name.as_str()).collect();
    table(&header, &p.rows);
    println!();
    match p.total_rows {
        Some(t) => println!("{} of {} rows ({})", p.rows.len(), thousands(t), p.format),
        None => println!(
            "first {} rows ({}; statistics over the rows read)",
            p.rows.len(),
            p.format
        ),
    }
    println!();
    table(
        &["COLUMN", "TYPE", "MIN", "MAX", "MEAN", "NULLS", "DISTINCT"],
        &stats_rows(&p.stats),
    );
}

pub fn jobs(jobs: &[Job]) {
    if jobs.is_empty() {
        println!("(no jobs)");
        return;
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.clone(),
                j.kind.name().into(),
                j.status.name().into(),
                j.started_at.clone().unwrap_or_default(),
                format!("{}/{}", j.input.bucket, j.input.key),
                j.output
                    .as_ref()
                    .map(|o| format!("{}/{}", o.bucket, o.key))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &["ID", "KIND", "STATUS", "STARTED", "INPUT", "OUTPUT"],
        &rows,
    );
}

pub fn job(j: &Job, logs: &[LogLine]) {
    println!(
        "{} {} {}",
        j.id,
        j.kind.name(),
        j.status.name().to_uppercase()
    );
    println!("  input:  {}/{}", j.input.bucket, j.input.key);
    if let Some(o) = &j.output {
        println!("  output: {}/{}", o.bucket, o.key);
    }
    println!(
        "  by {} · started {} · finished {}",
        j.actor,
        j.started_at.as_deref().unwrap_or("-"),
        j.finished_at.as_deref().unwrap_or("-")
    );
    if j.status == JobStatus::Running {
        println!("  {:.0}% {}", j.progress * 100.0, j.phase);
    }
    if let Some(e) = &j.error {
        println!("  error: {e}");
    }
    match &j.report {
        Some(StageReport::Train(t)) => {
            leaderboard(&t.leaderboard);
            println!(
                "  registered {} version {} as {}",
                t.group,
                t.version,
                t.status.name()
            );
            println!(
                "  holdout: accuracy {:.4}, auc {:.4}",
                t.holdout.accuracy, t.holdout.auc
            );
            for l in &t.leakage {
                println!(
                    "  LEAKAGE: {} alone predicts the target (AUC {:.4}); approval needs --accept-leakage-risk",
                    l.feature, l.auc
                );
            }
        }
        Some(StageReport::Clean(r)) => clean_report(r),
        Some(StageReport::Features(r)) => feature_report(r),
        None => {}
    }
    if !logs.is_empty() {
        println!("  log:");
        for l in logs {
            println!("    {} {:<5} {}", l.at, l.level, l.message);
        }
    }
}

fn clean_report(r: &CleanReport) {
    println!(
        "  preset {}: {} rows in → {} rows out, {} customers",
        r.preset,
        thousands(r.rows_in),
        thousands(r.rows_out),
        thousands(r.customers)
    );
    let rows: Vec<Vec<String>> = r
        .rules
        .iter()
        .map(|x| vec![x.rule.clone(), thousands(x.removed), x.description.clone()])
        .collect();
    table(
        &["  RULE", "REMOVED", "WHAT"],
        &rows
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r[0] = format!("  {}", r[0]);
                r
            })
            .collect::<Vec<_>>(),
    );
    if let Some((lo, hi)) = r.winsor_limits {
        println!("  unit price winsorised to [{lo}, {hi}]");
    }
}

fn feature_report(r: &FeatureReport) {
    println!(
        "  preset {}: {} customers ({} will buy, {} will not) from {} rows",
        r.preset,
        thousands(r.customers),
        thousands(r.positives),
        thousands(r.negatives),
        thousands(r.rows_in)
    );
    println!(
        "  cut-off {} ({}), horizon {} days",
        r.cutoff, r.cutoff_source, r.horizon_days
    );
    for n in &r.null_features {
        println!("  {} is empty: the input has no {}", n.feature, n.needs);
    }
    for w in &r.warnings {
        println!("  note: {w}");
    }
}

pub fn audit(entries: &[AuditEntry]) {
    if entries.is_empty() {
        println!("(no entries)");
        return;
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.at.clone(),
                if e.actor == e.os_user {
                    e.actor.clone()
                } else {
                    format!("{} (as {})", e.os_user, e.actor)
                },
                e.action.clone(),
                e.target.clone(),
                format!(
                    "{}{}",
                    e.before
                        .as_deref()
                        .map(|b| format!("{b} → "))
                        .unwrap_or_default(),
                    e.after.as_deref().unwrap_or("")
                ),
            ]
        })
        .collect();
    table(&["AT", "WHO", "ACTION", "TARGET", "CHANGE"], &rows);
}

pub fn leaderboard(board: &[LeaderboardEntry]) {
    let rows: Vec<Vec<String>> = board
        .iter()
        .map(|e| {
            let f = |m: &tablero_core::train::MeanStd| format!("{:.4}±{:.3}", m.mean, m.std);
            vec![
                format!("  {}", e.name),
                f(&e.accuracy),
                f(&e.auc),
                f(&e.recall),
                f(&e.precision),
                f(&e.f1),
                f(&e.kappa),
                f(&e.mcc),
                format!("{:.3}", e.train_seconds),
            ]
        })
        .collect();
    table(
        &[
            "  MODEL",
            "ACCURACY",
            "AUC",
            "RECALL",
            "PRECISION",
            "F1",
            "KAPPA",
            "MCC",
            "TT (s)",
        ],
        &rows,
    );
}

pub fn versions(versions: &[ModelVersion]) {
    if versions.is_empty() {
        println!("(no versions)");
        return;
    }
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            vec![
                v.version.to_string(),
                v.status.name().into(),
                v.algorithm.id().into(),
                format!("{:.4}", v.cv_accuracy),
                format!("{:.4}", v.cv_auc),
                format!("{:.4}", v.holdout.auc),
                if v.leakage.is_empty() {
                    String::new()
                } else {
                    format!("LEAKAGE ({})", v.leakage.len())
                },
                v.created_by.clone(),
                v.created_at.clone(),
            ]
        })
        .collect();
    table(
        &[
            "VERSION", "STATUS", "MODEL", "CV ACC", "CV AUC", "TEST AUC", "FLAGS", "BY", "CREATED",
        ],
        &rows,
    );
}

pub fn card(v: &ModelVersion, c: &ModelCard) {
    println!(
        "{} version {} — {} — {}",
        c.group,
        c.version,
        c.evaluation.winner.title(),
        v.status.name()
    );
    println!(
        "  trained by {} at {} on {} ({} preset)",
        c.trained_by, c.trained_at, c.dataset.uri, c.dataset.preset
    );
    println!("  dataset sha256 {}", c.dataset.sha256);
    println!(
        "  target {} (horizon {} days, cut-off {}), threshold {}",
        c.dataset.target, c.dataset.horizon_days, c.dataset.cutoff, c.threshold
    );
    println!(
        "  rows: {} train, {} test",
        c.evaluation.rows.0, c.evaluation.rows.1
    );
    if let Some(by) = &v.decided_by {
        println!(
            "  decided by {by} at {}: {}",
            v.decided_at.as_deref().unwrap_or(""),
            v.comment.as_deref().unwrap_or("")
        );
    }
    println!();
    leaderboard(&c.evaluation.leaderboard);
    println!();
    let h = &c.evaluation.holdout;
    println!(
        "  holdout: accuracy {:.4} auc {:.4} recall {:.4} precision {:.4} f1 {:.4} kappa {:.4} mcc {:.4}",
        h.accuracy, h.auc, h.recall, h.precision, h.f1, h.kappa, h.mcc
    );
    println!(
        "  confusion: tp {} fp {} tn {} fn {}",
        c.evaluation.confusion.tp,
        c.evaluation.confusion.fp,
        c.evaluation.confusion.tn,
        c.evaluation.confusion.fn_
    );
    println!("  importance (drop in test AUC when shuffled):");
    for i in c.evaluation.importance.iter().take(10) {
        println!("    {:<26} {:.4} ± {:.4}", i.feature, i.importance, i.std);
    }
    for l in &c.evaluation.leakage {
        println!(
            "  LEAKAGE: {} alone predicts the target (univariate AUC {:.4})",
            l.feature, l.auc
        );
    }
}

pub fn comparison(c: &Comparison) {
    let mut header = vec!["METRIC".to_string()];
    for (i, v) in c.versions.iter().enumerate() {
        header.push(format!("v{v} ({})", c.algorithms[i].id()));
        if i > 0 {
            header.push(format!("Δ v{v}"));
        }
    }
    let rows: Vec<Vec<String>> = c
        .metrics
        .iter()
        .map(|m| {
            let mut r = vec![m.metric.clone()];
            for (i, v) in m.values.iter().enumerate() {
                r.push(format!("{v:.4}"));
                if i > 0 {
                    r.push(format!("{:+.4}", m.deltas[i]));
                }
            }
            r
        })
        .collect();
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&h, &rows);
    if c.schema_differences.is_empty() {
        println!("\nSame feature schema.");
    } else {
        println!("\nSchema differences:");
        for d in &c.schema_differences {
            println!("  {}: {}", d.feature, d.per_version.join(" | "));
        }
    }
}

pub fn init(i: &tablero_app::session::Initialised) {
    println!("Workspace ready at {} ({} backend)", i.workspace, i.backend);
    if i.backend == tablero_core::ports::BackendKind::Aws {
        println!(
            "  config: {} (you are {}: your AWS credentials; [aws.roles] maps IAM roles to Tablero roles)",
            i.config, i.user
        );
    } else {
        println!(
            "  config: {} (you, {}, are analyst, ml_lead and ops)",
            i.config, i.user
        );
    }
    println!("  next:   tablero data upload FILE.csv");
}

pub fn deleted(d: &tablero_app::data::Deleted) {
    println!(
        "Deleted {}/{} (kept in {})",
        d.deleted.bucket, d.deleted.key, d.trash
    );
    println!("Undo: tablero data restore {}", d.trash_id);
}

pub fn decided(v: &ModelVersion, comment: &str) {
    println!(
        "{} version {} is {} ({})",
        v.group,
        v.version,
        v.status.name(),
        comment
    );
}

pub fn charts_written(c: &tablero_app::charts::ChartsWritten) {
    println!("{} charts written to {}:", c.files.len() / 2, c.out);
    for f in &c.files {
        println!("  {f}");
    }
}

pub fn endpoint(v: &EndpointStatus) {
    let tasks = v.tasks.map(|t| {
        format!(
            "ECS: {} of {} tasks running, {} pending{}",
            t.running,
            t.desired,
            t.pending,
            v.revision
                .as_deref()
                .map(|r| format!(", revision {r}"))
                .unwrap_or_default()
        )
    });
    if !v.running {
        println!("Endpoint not running (tablero endpoint start).");
        if let Some(t) = &tasks {
            println!("  {t}");
        }
        return;
    }
    let serving = match &v.serving {
        None => "nothing yet (tablero deploy promote VERSION)".to_string(),
        Some(s) => format!("{} version {}", s.group, s.version),
    };
    let at = match v.pid {
        Some(p) => format!(" (pid {p})"),
        None => String::new(),
    };
    println!(
        "Endpoint running at {}{at}, serving {serving}",
        v.url.as_deref().unwrap_or("")
    );
    if let Some(t) = &tasks {
        println!("  {t}");
    }
    if let Some(u) = v.uptime_seconds {
        println!("  up {u} s");
    }
    if let Some(l) = &v.log {
        println!("  log: {l}");
    }
}

pub fn service(series: &[tablero_core::monitor::ServiceSeries]) {
    if series.is_empty() {
        println!("(no platform metrics: the AWS backend with [aws.endpoint] has API Gateway's and ECS's)");
        return;
    }
    let rows: Vec<Vec<String>> = series
        .iter()
        .map(|s| {
            let last = s.points.last();
            vec![
                s.source.clone(),
                s.metric.clone(),
                s.stat.clone(),
                last.map(|(_, v)| format!("{v:.2} {}", s.unit))
                    .unwrap_or_default(),
                last.map(|(t, _)| t.clone()).unwrap_or_default(),
                s.points.len().to_string(),
            ]
        })
        .collect();
    table(&["SOURCE", "METRIC", "STAT", "LAST", "AT", "POINTS"], &rows);
}

pub fn stopped(v: &EndpointStopped) {
    if v.stopped {
        println!("Endpoint stopped.");
    } else {
        println!("Endpoint not running (tablero endpoint start).");
    }
}

pub fn history(h: &[Deployment]) {
    if h.is_empty() {
        println!("(no deployments)");
    }
    let rows: Vec<Vec<String>> = h
        .iter()
        .map(|d| {
            vec![
                d.at.clone(),
                d.action.name().to_string(),
                format!("{} v{}", d.group, d.version),
                d.from_version.map(|f| format!("v{f}")).unwrap_or_default(),
                d.actor.clone(),
            ]
        })
        .collect();
    table(&["AT", "ACTION", "DEPLOYED", "FROM", "BY"], &rows);
}

pub fn rollout(r: &tablero_app::deploy::RolloutReply) {
    let d = &r.deployment;
    println!(
        "{} {} version {} (was {})",
        d.action,
        d.group,
        d.version,
        d.from_version
            .map(|f| format!("v{f}"))
            .unwrap_or_else(|| "nothing".into())
    );
    match (
        r.phase,
        r.endpoint.as_ref().and_then(|e| e.serving.as_ref()),
    ) {
        (tablero_core::ports::RolloutPhase::InProgress, _) => println!(
            "  rolling out{}; follow it with `tablero endpoint status`",
            r.detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ),
        (_, Some(s)) => println!("  the endpoint now serves version {}", s.version),
        (_, None) => {
            println!("  the endpoint is not running; it will serve this version when started")
        }
    }
}

/// Prints each step of a rollout on stderr (nothing with `--json`).
pub fn rollout_progress(json: bool) -> impl Fn(&tablero_core::ports::Rollout) {
    let last = std::cell::RefCell::new(None::<String>);
    move |r| {
        if json {
            return;
        }
        let line = format!(
            "  {}{}",
            tablero_app::deploy::phase_name(r.phase),
            r.detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
        if last.borrow().as_deref() != Some(line.as_str()) {
            eprintln!("{line}");
            *last.borrow_mut() = Some(line);
        }
    }
}

pub fn deploy_status(s: &tablero_app::deploy::DeployStatus) {
    match &s.deployed {
        None => println!("Nothing deployed."),
        Some(d) => println!(
            "Deployed: {} version {} ({} by {} at {})",
            d.group, d.version, d.action, d.actor, d.at
        ),
    }
    endpoint(&s.endpoint);
}

pub fn keys(keys: &[tablero_core::ports::ApiKey]) {
    if keys.is_empty() {
        println!("(no keys)");
        return;
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.name.clone(),
                format!("{}", k.rate),
                k.created_by.clone(),
                k.created_at.clone(),
                k.revoked_at
                    .clone()
                    .map(|r| format!("revoked {r}"))
                    .unwrap_or_else(|| "active".into()),
                format!("{}…", &k.sha256[..12]),
            ]
        })
        .collect();
    table(
        &["NAME", "RATE/S", "BY", "CREATED", "STATE", "SHA-256"],
        &rows,
    );
}

pub fn metrics(windows: &[tablero_core::monitor::MetricWindow], requests: u64, errors: u64) {
    if windows.is_empty() {
        println!("(no traffic recorded in this range)");
        return;
    }
    let f = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_default();
    let rows: Vec<Vec<String>> = windows
        .iter()
        .map(|w| {
            vec![
                w.window_start.clone(),
                format!("v{}", w.version),
                w.requests.to_string(),
                w.errors.to_string(),
                f(w.p50_ms),
                f(w.p90_ms),
                f(w.p99_ms),
                if w.predictions > 0 {
                    format!("{:.3}", w.positives as f64 / w.predictions as f64)
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    table(
        &[
            "WINDOW",
            "MODEL",
            "REQUESTS",
            "ERRORS",
            "P50 MS",
            "P90 MS",
            "P99 MS",
            "POSITIVE RATE",
        ],
        &rows,
    );
    println!("{requests} requests, {errors} errors");
}

pub fn drift(features: &[tablero_core::monitor::FeatureDrift]) {
    if features.is_empty() {
        println!("(no traffic recorded in this range)");
        return;
    }
    let rows: Vec<Vec<String>> = features
        .iter()
        .map(|d| {
            vec![
                d.feature.clone(),
                format!("{:.4}", d.psi),
                d.level.to_string(),
                d.n.to_string(),
            ]
        })
        .collect();
    table(&["FEATURE", "PSI", "LEVEL", "VALUES"], &rows);
}

pub fn alarms(v: &tablero_app::monitor::Alarms) {
    let rows: Vec<Vec<String>> = v
        .alarms
        .iter()
        .map(|a| {
            vec![
                a.rule.to_string(),
                a.state.to_string(),
                a.value.map(|x| format!("{x:.4}")).unwrap_or_default(),
                a.since.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(&["RULE", "STATE", "VALUE", "SINCE"], &rows);
    println!("{} state change(s) recorded", v.history.len());
}

pub fn demo(v: &crate::demo::DemoReport) {
    println!();
    println!("Leaderboard (10-fold CV on the sample's standard features):");
    leaderboard(&v.leaderboard);
    println!();
    println!(
        "Deployed: default version {} ({}), approved by {}",
        v.version,
        v.winner.id(),
        v.approved_by
    );
    println!(
        "Endpoint: {} (API key {})",
        v.endpoint.url, v.endpoint.api_key
    );
    println!(
        "Traffic:  {} requests, {} succeeded",
        v.traffic.requests, v.traffic.succeeded
    );
    println!(
        "Latency:  p50 {:.2} ms, worst p99 {:.2} ms",
        v.latency_ms.p50_median.unwrap_or(0.0),
        v.latency_ms.p99_worst
    );
    println!("Drift (largest PSI first):");
    for d in &v.drift {
        println!("  {:<24} {:.4} {}", d.feature, d.psi, d.level);
    }
    for a in &v.alarms {
        println!("Alarm: {} is {} ({})", a.rule, a.state, a.message);
    }
    let ws = &v.workspace;
    println!();
    println!(
        "Charts (SVG and PNG): {} — roc, leaderboard, confusion, importance, requests, latency, score, drift",
        v.charts
    );
    println!("Look further with TABLERO_WORKSPACE={ws} and: tablero models show {}, tablero monitor metrics, tablero monitor drift, tablero monitor alarms, tablero audit.", v.version);
    println!(
        "The endpoint keeps running; stop it with: TABLERO_WORKSPACE={ws} tablero endpoint stop"
    );
}

pub fn promotion_diff(d: &tablero_core::monitor::PromotionDiff) {
    match &d.production {
        Some(p) => println!(
            "{} v{} ({}) against v{} ({}) in production",
            d.candidate.group,
            d.candidate.version,
            d.candidate.algorithm.id(),
            p.version,
            p.algorithm.id()
        ),
        None => println!(
            "{} v{} ({}); nothing is deployed yet",
            d.candidate.group,
            d.candidate.version,
            d.candidate.algorithm.id()
        ),
    }
    let rows: Vec<Vec<String>> = d
        .deltas
        .iter()
        .map(|m| {
            vec![
                m.metric.clone(),
                format!("{:.4}", m.candidate),
                m.production.map(|p| format!("{p:.4}")).unwrap_or_default(),
                m.delta.map(|x| format!("{x:+.4}")).unwrap_or_default(),
            ]
        })
        .collect();
    table(&["METRIC", "CANDIDATE", "PRODUCTION", "DELTA"], &rows);
    println!(
        "\nTraining data against {} live records since {}:",
        d.drift.live_records, d.since
    );
    if d.drift.features.is_empty() {
        println!("(no live records to compare with)");
        return;
    }
    let rows: Vec<Vec<String>> = d
        .drift
        .features
        .iter()
        .map(|f| {
            vec![
                f.feature.clone(),
                format!("{:.3}", f.psi),
                f.level.to_string(),
                f.n.to_string(),
            ]
        })
        .collect();
    table(&["FEATURE", "PSI", "LEVEL", "N"], &rows);
    if !d.drift.enough {
        println!(
            "(only {} live records: fewer than {} make PSI unreliable)",
            d.drift.live_records,
            tablero_core::monitor::MIN_LIVE_RECORDS
        );
    }
}

pub fn aws_checks(checks: &Vec<tablero_core::ports::SettingsCheck>) {
    for c in checks {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        println!("{mark} {}: {}", c.call, c.message);
    }
}
