//! `tablero demo`: the whole product on the bundled sample, in a fresh
//! workspace — upload, clean, features, train, approve as a second user,
//! promote, start the endpoint, send traffic with a drifted segment, and
//! say where to look.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::monitor::{AlarmChange, FeatureDrift};
use tablero_core::ports::{Backend, EndpointOptions};
use tablero_core::stages::StageReport;
use tablero_core::train::models::Algorithm;
use tablero_core::train::LeaderboardEntry;
use tablero_core::train::TrainConfig;

use crate::{backend, Failure};

/// The bundled sample (a subset of UCI Online Retail, CC BY 4.0; see assets/sample/README.md).
const SAMPLE: &[u8] = include_bytes!("../../../assets/sample/online_retail_sample.csv");

/// The second user who approves (four eyes).
const LEAD: &str = "demo-lead";

fn step(quiet: bool, text: &str) {
    if !quiet {
        eprintln!("==> {text}");
    }
}

fn run_job(b: &Backend, request: JobRequest) -> Result<tablero_core::job::Job, Failure> {
    let job = tablero_app::jobs::submit(b, request)?;
    let job = b.jobs.run(&job.id, &|_| {})?;
    if job.status != JobStatus::Succeeded {
        return Err(Failure::refused(format!(
            "{} failed: {}",
            job.id,
            job.error.unwrap_or_default()
        )));
    }
    Ok(job)
}

/// Runs the demo in `root` (which must be new or empty).
pub fn run(
    root: &Path,
    kind: Option<&str>,
    seconds: u64,
    port: u16,
    quiet: bool,
) -> Result<DemoReport, Failure> {
    if root.exists()
        && std::fs::read_dir(root)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Failure::refused(format!(
            "{} is not empty; the demo needs a fresh workspace (pass --workspace NEWDIR)",
            root.display()
        )));
    }
    step(
        quiet,
        &format!("creating a workspace at {}", root.display()),
    );
    let made = backend::init(root, kind)?;
    let me = made.backend.identity.actor();
    std::fs::write(
        &made.config,
        format!(
            "# Demo workspace: you hold every role; {LEAD} is a second ML lead for the four-eyes rule.\n\
             [roles]\n\"{me}\" = [\"analyst\", \"ml_lead\", \"ops\"]\n\"{LEAD}\" = [\"ml_lead\"]\n\n\
             [policy]\nfour_eyes = true\nallow_as = true\n"
        ),
    )
    .map_err(|e| Failure::refused(e.to_string()))?;
    let ws = backend::open(root, kind, None)?;
    let dir = std::env::temp_dir().join(format!("tablero-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::refused(format!("{}: {e}", dir.display())))?;
    let sample = dir.join("online_retail_sample.csv");
    std::fs::write(&sample, SAMPLE)
        .map_err(|e| Failure::refused(format!("{}: {e}", sample.display())))?;

    step(quiet, "uploading the sample (UCI Online Retail subset)");
    let uploaded = tablero_app::data::upload(
        &ws,
        &sample,
        Some("online_retail.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    );
    let _ = std::fs::remove_dir_all(&dir);
    uploaded?;
    step(quiet, "cleaning and building features");
    run_job(
        &ws,
        JobRequest::Clean {
            raw_key: "online_retail.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        },
    )?;
    run_job(
        &ws,
        JobRequest::Features {
            clean_key: "online_retail/transactions.parquet".into(),
            preset: Preset::Standard,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        },
    )?;
    step(quiet, "training and comparing 7 candidates (10-fold CV)");
    let train = run_job(
        &ws,
        JobRequest::Train {
            features_key: "online_retail/features.parquet".into(),
            group: "default".into(),
            config: TrainConfig::default(),
            resources: None,
        },
    )?;
    let report = match train.report {
        Some(StageReport::Train(report)) => *report,
        _ => {
            return Err(Failure::refused(format!(
                "{} did not report a trained version",
                train.id
            )))
        }
    };
    let version = report.version;
    step(
        quiet,
        &format!("approving version {version} as {LEAD} (four eyes)"),
    );
    let lead = backend::open(root, kind, Some(LEAD))?;
    tablero_app::models::approve(
        &lead,
        "default",
        version,
        "demo: CV metrics reviewed",
        false,
    )?;

    step(quiet, "starting the endpoint and promoting");
    let key = tablero_app::keys::create(&ws, "demo", 100_000.0)?.key;
    let started = tablero_app::deploy::start_endpoint(
        &ws,
        &EndpointOptions {
            port,
            metrics_interval: 2,
            ..EndpointOptions::default()
        },
    )?;
    tablero_app::deploy::promote(&ws, "default", version, &|_| {})?;
    let url = started.url.unwrap_or_default();

    step(
        quiet,
        &format!(
            "sending traffic for {seconds} s (the last third with Recency drifted by +400 days)"
        ),
    );
    let records = feature_records(&ws)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let start = Instant::now();
    let total = Duration::from_secs(seconds.max(1));
    let (mut sent, mut ok, mut i) = (0u64, 0u64, 0usize);
    while start.elapsed() < total {
        let drifted = start.elapsed() > total * 2 / 3;
        let mut batch: Vec<Value> = Vec::with_capacity(5);
        for _ in 0..5 {
            let mut r = records[i % records.len()].clone();
            i += 1;
            if drifted {
                if let Some(v) = r.get("Recency").and_then(Value::as_f64) {
                    r["Recency"] = json!(v + 400.0);
                }
            }
            batch.push(r);
        }
        let body = json!({ "records": batch }).to_string();
        if let Ok(resp) = agent
            .post(format!("{url}/v1/predict"))
            .header("x-api-key", &key)
            .send(body.as_str())
        {
            sent += 1;
            ok += u64::from(resp.status().is_success());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the endpoint write its last window and evaluate the alarms.
    std::thread::sleep(Duration::from_millis(2500));
    let since = tablero_app::time::TimeRange::LastHour.since();
    let windows = ws.monitor.metric_windows(&since)?;
    let p99 = windows.iter().filter_map(|w| w.p99_ms).fold(0.0, f64::max);
    let p50s: Vec<f64> = windows.iter().filter_map(|w| w.p50_ms).collect();
    let drift = tablero_app::monitor::drift_since(&ws, "default", version, &since)?;
    let alarms = ws.monitor.alarm_history()?;
    // Charts of the version and of the traffic, to look at.
    let charts_dir = root.join("reports");
    let card = ws.registry.card("default", version)?;
    let mut charts = tablero_core::charts::for_versions(&[&card]);
    charts.extend(tablero_app::monitor::endpoint_charts(&ws, &since)?);
    tablero_app::charts::write_all(&charts, &charts_dir)?;
    Ok(DemoReport {
        charts: charts_dir.display().to_string(),
        workspace: root.display().to_string(),
        leaderboard: report.leaderboard,
        winner: report.winner,
        version,
        approved_by: LEAD.to_string(),
        endpoint: DemoEndpoint { url, api_key: key },
        traffic: Traffic {
            requests: sent,
            succeeded: ok,
        },
        latency_ms: Latency {
            p50_median: p50s.get(p50s.len() / 2).copied(),
            p99_worst: p99,
        },
        drift: drift.into_iter().take(5).collect(),
        alarms,
    })
}

/// What the demo did and where to look.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    /// The charts' folder.
    pub charts: String,
    /// The demo workspace.
    pub workspace: String,
    /// The training leaderboard.
    pub leaderboard: Vec<LeaderboardEntry>,
    /// The winner.
    pub winner: Algorithm,
    /// The version trained, approved and deployed.
    pub version: u32,
    /// The second ML lead who approved it.
    pub approved_by: String,
    /// The endpoint and its key.
    pub endpoint: DemoEndpoint,
    /// The traffic sent.
    pub traffic: Traffic,
    /// Its latency.
    pub latency_ms: Latency,
    /// The five largest drifts.
    pub drift: Vec<FeatureDrift>,
    /// Alarm state changes.
    pub alarms: Vec<AlarmChange>,
}

/// The demo's endpoint.
#[derive(Debug, Serialize)]
pub struct DemoEndpoint {
    /// Its URL.
    pub url: String,
    /// The key made for the demo.
    pub api_key: String,
}

/// Requests the demo sent.
#[derive(Debug, Serialize)]
pub struct Traffic {
    /// Sent.
    pub requests: u64,
    /// Answered 200.
    pub succeeded: u64,
}

/// The endpoint's latency during the demo.
#[derive(Debug, Serialize)]
pub struct Latency {
    /// Median of the windows' p50.
    pub p50_median: Option<f64>,
    /// Worst p99.
    pub p99_worst: f64,
}

fn feature_records(ws: &Backend) -> Result<Vec<Value>, Failure> {
    use tablero_core::store::{Bucket, ObjectKey};
    let bytes = ws.store.read(
        Bucket::Clean,
        &ObjectKey::new("online_retail/features.parquet")?,
    )?;
    let df = tablero_core::table::from_parquet(&bytes)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    // Straight from the table: numbers as numbers, text as text (extra
    // columns such as CustomerID are ignored by the endpoint).
    Ok(tablero_core::table::rows_as_strings(&df)
        .into_iter()
        .map(|row| {
            let record: serde_json::Map<String, Value> = names
                .iter()
                .zip(row)
                .map(|(name, cell)| {
                    let value = match cell.parse::<f64>() {
                        Ok(x) if name != "CustomerID" && name != "RFM_Score" => json!(x),
                        _ => json!(cell),
                    };
                    (name.clone(), value)
                })
                .collect();
            Value::Object(record)
        })
        .collect())
}
