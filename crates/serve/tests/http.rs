//! The endpoint over real HTTP on 127.0.0.1: authentication, rate limits,
//! validation, readiness, promotion under load with zero failed requests,
//! rollback, metrics and graceful shutdown.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tablero_app::data::Upload;
use tablero_core::charts::Chart;
use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::monitor::{FeatureDrift, PromotionDiff};
use tablero_core::ports::{ApiKeys, BackendError, Deployer, Deployment, JobRunner, Registry};
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;
use tablero_local::Workspace;

/// What these tests do to a workspace besides serving it, through its
/// backend (as the CLI would).
trait Ops {
    fn upload(
        &self,
        file: &Path,
        key: Option<&str>,
        opts: &CsvOptions,
        replace: bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Upload, BackendError>;
    fn promote_now(&self, group: &str, version: u32) -> Result<Deployment, BackendError>;
    fn roll_back(&self) -> Result<Deployment, BackendError>;
    fn live_sample(
        &self,
        since: Option<&str>,
    ) -> Result<Vec<(usize, String, String)>, BackendError>;
    fn drift_since(
        &self,
        group: &str,
        version: u32,
        since: &str,
    ) -> Result<Vec<FeatureDrift>, BackendError>;
    fn promotion_diff(
        &self,
        group: &str,
        version: u32,
        since: &str,
    ) -> Result<PromotionDiff, BackendError>;
    fn endpoint_charts(&self, since: &str) -> Result<Vec<(String, Chart)>, BackendError>;
}

impl Ops for Workspace {
    fn upload(
        &self,
        file: &Path,
        key: Option<&str>,
        opts: &CsvOptions,
        replace: bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Upload, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::data::upload(&b, file, key, opts, replace, progress, &|| false)
    }

    fn promote_now(&self, group: &str, version: u32) -> Result<Deployment, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        Ok(tablero_app::deploy::promote(&b, group, version, &|_| {})?.deployment)
    }

    fn roll_back(&self) -> Result<Deployment, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        Ok(tablero_app::deploy::rollback(&b, &|_| {})?.deployment)
    }

    fn live_sample(
        &self,
        since: Option<&str>,
    ) -> Result<Vec<(usize, String, String)>, BackendError> {
        Ok(self
            .sampled(since)?
            .into_iter()
            .map(|s| (s.slot, s.record, s.seen_at))
            .collect())
    }

    fn drift_since(
        &self,
        group: &str,
        version: u32,
        since: &str,
    ) -> Result<Vec<FeatureDrift>, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::monitor::drift_since(&b, group, version, since)
    }

    fn promotion_diff(
        &self,
        group: &str,
        version: u32,
        since: &str,
    ) -> Result<PromotionDiff, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::monitor::promotion_diff(&b, group, version, since)
    }

    fn endpoint_charts(&self, since: &str) -> Result<Vec<(String, Chart)>, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::monitor::endpoint_charts(&b, since)
    }
}

/// [`workspace`] with an API key and version 1 deployed.
fn serving(key_name: &str, rate: f64) -> (tempfile::TempDir, PathBuf, Workspace, String) {
    let (dir, root) = workspace();
    let ws = Workspace::open(&root).unwrap();
    let key = ws.create_key(key_name, rate).unwrap();
    ws.promote_now("default", 1).unwrap();
    (dir, root, ws, key)
}

/// A workspace with two approved versions (v1 logistic regression, v2 naive
/// Bayes) of the sample's standard features, four-eyes off.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let ws = Workspace::init(&root).unwrap();
    let text = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("four_eyes = true", "four_eyes = false");
    std::fs::write(ws.config_path(), text).unwrap();
    let ws = Workspace::open(&root).unwrap();
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv");
    ws.upload(
        &sample,
        Some("s.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
    )
    .unwrap();
    let run = |r| {
        let j = ws.submit(r).unwrap();
        let j = ws.run(&j.id, &|_| {}).unwrap();
        assert_eq!(j.status, JobStatus::Succeeded, "{:?}", j.error);
    };
    run(JobRequest::Clean {
        raw_key: "s.csv".into(),
        preset: Preset::Standard,
        out_key: None,
    });
    run(JobRequest::Features {
        clean_key: "s/transactions.parquet".into(),
        preset: Preset::Standard,
        cutoff: None,
        horizon_days: 90,
        out_key: None,
    });
    for alg in [Algorithm::Lr, Algorithm::Nb] {
        let config = TrainConfig {
            folds: 3,
            candidates: vec![alg],
            ..TrainConfig::default()
        };
        run(JobRequest::Train {
            features_key: "s/features.parquet".into(),
            group: "default".into(),
            config,
            resources: None,
        });
    }
    let b = Workspace::open(&root).unwrap().into_backend();
    tablero_app::models::approve(&b, "default", 1, "test", false).unwrap();
    tablero_app::models::approve(&b, "default", 2, "test", false).unwrap();
    (dir, root)
}

struct Server {
    url: String,
    admin: String,
    app: Arc<tablero_serve::App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let backend = Workspace::open(root).unwrap().into_backend();
        Server::on(tablero_serve::Sources::from_backend(&backend))
    }

    fn on(sources: tablero_serve::Sources) -> Server {
        let app = tablero_serve::App::new(sources).unwrap();
        let admin = app.admin_token().to_string();
        let shared = app.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let stop = async move {
                    let _ = rx.await;
                };
                tablero_serve::serve(
                    app,
                    listener,
                    stop,
                    Duration::from_millis(100),
                    Duration::from_secs(3600),
                )
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Server {
            url: format!("http://{addr}"),
            admin,
            app: shared,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// (status, retry-after, JSON body)
fn post(url: &str, key: Option<&str>, body: &str) -> (u16, Option<String>, Value) {
    let mut req = agent().post(url).header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let mut resp = req.send(body).unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let text = resp.body_mut().read_to_string().unwrap();
    (
        status,
        retry,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn get(url: &str) -> (u16, String) {
    let mut resp = agent().get(url).call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

fn get_with_key(url: &str, key: &str) -> (u16, String) {
    let mut resp = agent().get(url).header("x-api-key", key).call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

fn admin(server: &Server, path: &str) -> Value {
    let mut resp = agent()
        .post(format!("{}{path}", server.url))
        .header("x-admin-token", &server.admin)
        .send("")
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
}

fn admin_get(server: &Server, path: &str) -> Value {
    let mut resp = agent()
        .get(format!("{}{path}", server.url))
        .header("x-admin-token", &server.admin)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
}

/// A valid record for the deployed model: the first customer of the features table.
fn record(root: &Path) -> Value {
    let ws = Workspace::open(root).unwrap();
    let card = ws.card("default", 1).unwrap();
    let mut r = serde_json::Map::new();
    for f in &card.feature_schema {
        match f {
            tablero_core::train::dataset::FeatureSpec::Numeric { name, mean } => {
                r.insert(name.clone(), json!(mean));
            }
            tablero_core::train::dataset::FeatureSpec::Categorical { name, categories } => {
                r.insert(name.clone(), json!(categories[0]));
            }
        }
    }
    Value::Object(r)
}

#[test]
fn readiness_auth_rate_limits_and_validation() {
    let (_d, root) = workspace();
    let ws = Workspace::open(&root).unwrap();
    let key = ws.create_key("app", 1000.0).unwrap();
    let slow = ws.create_key("slow", 2.0).unwrap();
    let mut server = Server::start(&root);
    let predict = format!("{}/v1/predict", server.url);
    let body = json!({"records": [record(&root)]}).to_string();

    assert_eq!(get(&format!("{}/healthz", server.url)).0, 200);
    let (code, text) = get(&format!("{}/health", server.url));
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["service"],
        "tablero-serve"
    );
    // Nothing deployed: not ready, predictions refused with 503.
    assert_eq!(get(&format!("{}/readyz", server.url)).0, 503);
    assert_eq!(post(&predict, Some(&key), &body).0, 503);
    ws.promote_now("default", 1).unwrap();
    assert_eq!(admin(&server, "/admin/reload")["serving"]["version"], 1);
    assert_eq!(get(&format!("{}/readyz", server.url)).0, 200);

    // Authentication.
    let (code, _, err) = post(&predict, None, &body);
    assert_eq!(code, 401);
    assert!(err["error"].as_str().unwrap().contains("missing API key"));
    assert_eq!(post(&predict, Some("tbk_wrong"), &body).0, 401);
    let (code, _, ok) = post(&predict, Some(&key), &body);
    assert_eq!(code, 200, "{ok}");
    assert_eq!(ok["model_version"], 1);
    let p = &ok["predictions"][0];
    let score = p["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score));
    assert_eq!(p["label"], u8::from(score >= 0.5));
    let mut resp = agent()
        .post(&predict)
        .header("authorization", &format!("Bearer {key}"))
        .send(body.as_str())
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        200,
        "{}",
        resp.body_mut().read_to_string().unwrap()
    );

    // Rate limit: 2 per second for this key.
    let codes: Vec<u16> = (0..4)
        .map(|_| post(&predict, Some(&slow), &body).0)
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 429).count(), 2, "{codes:?}");
    let (code, retry, _) = post(&predict, Some(&slow), &body);
    assert_eq!(code, 429);
    assert_eq!(retry.as_deref(), Some("1"));

    // Validation.
    let (code, _, err) = post(&predict, Some(&key), &record(&root).to_string());
    assert_eq!(code, 422);
    assert!(
        err["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("wrap"),
        "{err}"
    );
    let mut missing = record(&root);
    missing.as_object_mut().unwrap().remove("Recency");
    let mut wrong = record(&root);
    wrong["Frequency"] = json!("many");
    let (code, _, err) = post(
        &predict,
        Some(&key),
        &json!({"records": [record(&root), missing, wrong]}).to_string(),
    );
    assert_eq!(code, 422);
    let errors = err["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[0],
        json!({"index": 1, "field": "Recency", "reason": "missing feature"})
    );
    assert_eq!(errors[1]["index"], 2);
    assert_eq!(errors[1]["field"], "Frequency");
    assert!(errors[1]["reason"]
        .as_str()
        .unwrap()
        .contains("expected a number"));
    assert_eq!(post(&predict, Some(&key), "{not json").0, 400);
    // A body over the 1 MB limit is refused (the writer may see the
    // connection close early; only the reply matters).
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let size = 2usize << 20;
    let head = format!(
        "POST /v1/predict HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {key}\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
    );
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&vec![b' '; size]);
    });
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let _ = sender.join();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    // Unknown categories are served (as all zeros) and reported.
    let mut unknown = record(&root);
    unknown["MostFrequentCountry"] = json!("Atlantis");
    let (code, _, ok) = post(
        &predict,
        Some(&key),
        &json!({"records": [unknown]}).to_string(),
    );
    assert_eq!(code, 200);
    assert!(ok["warnings"][0].as_str().unwrap().contains("unknown"));

    // A revoked key is refused once the server re-reads the keys.
    ws.revoke_key("app").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(post(&predict, Some(&key), &body).0, 401);

    let (code, text) = get(&format!("{}/metrics", server.url));
    assert_eq!(code, 200);
    assert!(
        text.contains("tablero_requests_total{route=\"/v1/predict\",status=\"200\"} "),
        "{text}"
    );
    assert!(
        text.contains("tablero_requests_total{route=\"/v1/predict\",status=\"429\"} 3"),
        "{text}"
    );
    assert!(text.contains("tablero_model_version{group=\"default\"} 1"));
    assert!(text.contains("tablero_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert!(text.contains("tablero_prediction_score_count"));
    // Every admin route needs the token (one guard over the admin router);
    // a wrong one is refused like a missing one, and nothing stops.
    for (post, path) in [
        (true, "/admin/reload"),
        (false, "/admin/status"),
        (true, "/admin/shutdown"),
    ] {
        for token in [None, Some("wrong")] {
            let url = format!("{}{path}", server.url);
            let resp = match (post, token) {
                (true, Some(t)) => agent().post(&url).header("x-admin-token", t).send(""),
                (true, None) => agent().post(&url).send(""),
                (false, Some(t)) => agent().get(&url).header("x-admin-token", t).call(),
                (false, None) => agent().get(&url).call(),
            };
            let mut resp = resp.unwrap();
            assert_eq!(resp.status().as_u16(), 401, "{path} with {token:?}");
            let body: Value =
                serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
            assert_eq!(body["error"], "bad admin token", "{path}");
        }
    }
    assert_eq!(admin_get(&server, "/admin/status")["serving"]["version"], 1);
    server.stop();
}

#[test]
fn promotion_under_load_fails_no_request_and_rollback_returns_to_the_previous_deployment() {
    let (_d, root, ws, key) = serving("load", 1_000_000.0);
    let server = Server::start(&root);
    let predict = format!("{}/v1/predict", server.url);
    let body = json!({"records": [record(&root)]}).to_string();
    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (running, predict, body, key) =
                (running.clone(), predict.clone(), body.clone(), key.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut n = 0;
                while running.load(Ordering::Relaxed) && n < 20_000 {
                    let (code, _, reply) = post(&predict, Some(&key), &body);
                    assert_eq!(code, 200, "a request failed during a swap: {reply}");
                    seen.push(reply["model_version"].as_u64().unwrap());
                    n += 1;
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let d = ws.promote_now("default", 2).unwrap();
    assert_eq!((d.version, d.from_version), (2, Some(1)));
    assert_eq!(admin(&server, "/admin/reload")["serving"]["version"], 2);
    std::thread::sleep(Duration::from_millis(150));
    let d = ws.roll_back().unwrap();
    assert_eq!(
        (d.version, d.from_version, d.action.name()),
        (1, Some(2), "rollback")
    );
    assert_eq!(admin(&server, "/admin/reload")["serving"]["version"], 1);
    std::thread::sleep(Duration::from_millis(150));
    running.store(false, Ordering::Relaxed);
    let seen: Vec<u64> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(
        seen.contains(&1) && seen.contains(&2),
        "both versions served"
    );
    // After the last swap, version 1 again.
    assert_eq!(post(&predict, Some(&key), &body).2["model_version"], 1);
    let history: Vec<(&str, u32)> = ws
        .deployments()
        .unwrap()
        .into_iter()
        .map(|d| (d.action.name(), d.version))
        .collect();
    assert_eq!(history, [("rollback", 1), ("promote", 2), ("promote", 1)]);
    // Only Approved versions can be promoted.
    let config = TrainConfig {
        folds: 3,
        candidates: vec![Algorithm::Lr],
        ..TrainConfig::default()
    };
    let j = ws
        .submit(JobRequest::Train {
            features_key: "s/features.parquet".into(),
            group: "default".into(),
            config,
            resources: None,
        })
        .unwrap();
    ws.run(&j.id, &|_| {}).unwrap();
    let err = ws.promote_now("default", 3).unwrap_err().to_string();
    assert!(
        err.contains("only Approved versions can be promoted"),
        "{err}"
    );
}

#[test]
fn shutdown_lets_in_flight_requests_finish() {
    let (_d, root, _ws, key) = serving("k", 1000.0);
    let mut server = Server::start(&root);
    let body = json!({"records": [record(&root)]}).to_string();
    // Start a request and hold back the end of its body.
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "POST /v1/predict HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // Ask the server to stop while the request is in flight.
    let stopper = {
        let url = server.url.clone();
        let token = server.admin.clone();
        std::thread::spawn(move || {
            let resp = agent()
                .post(format!("{url}/admin/shutdown"))
                .header("x-admin-token", &token)
                .send("")
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
        })
    };
    stopper.join().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"model_version\":1"));
    // The server then stops: new connections are refused.
    if let Some(t) = server.thread.take() {
        t.join().unwrap();
    }
    assert!(std::net::TcpStream::connect(&addr).is_err());
    server.stop();
}

/// A multipart body with the CSV in field `file`.
fn multipart(csv: &[u8]) -> (String, Vec<u8>) {
    let boundary = "tablero-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"customers.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
    body.extend_from_slice(csv);
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"output_filename\"\r\n\r\nout.csv\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The sample's features table as CSV (the batch API's input).
fn features_csv(root: &Path) -> Vec<u8> {
    let bytes = std::fs::read(root.join("buckets/clean/s/features.parquet")).unwrap();
    let mut df = tablero_core::table::from_parquet(&bytes).unwrap();
    tablero_core::table::to_csv(&mut df).unwrap()
}

/// The CSV's rows repeated `times` under its header.
fn repeated(csv: &[u8], times: usize) -> Vec<u8> {
    let text = std::str::from_utf8(csv).unwrap();
    let (head, rows) = text.split_once('\n').unwrap();
    format!("{head}\n{}", rows.repeat(times)).into_bytes()
}

/// POSTs a CSV to `/predict` as the multipart field `file`: status and body.
fn post_batch(url: &str, key: &str, csv: &[u8]) -> (u16, String) {
    let (ctype, body) = multipart(csv);
    let mut resp = agent()
        .post(format!("{url}/predict"))
        .header("x-api-key", key)
        .header("content-type", &ctype)
        .send(&body[..])
        .unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn batch_traffic_counts_in_the_metrics_and_the_drift() {
    let (_d, root, ws, key) = serving("batch-metrics", 1000.0);
    let t0 = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let server = Server::start(&root);
    let csv = features_csv(&root);
    let (code, text) = post_batch(&server.url, &key, &csv);
    assert_eq!(code, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    let (code, text) = post_batch(&server.url, &key, b"a,b\n1,2\n");
    assert_eq!(code, 400, "{text}");
    assert_eq!(server.app.flush_metrics().unwrap(), 1);

    let windows = ws.metrics_since(&t0).unwrap();
    assert_eq!(windows.len(), 1);
    let w = &windows[0];
    let summary = &reply["prediction_summary"];
    assert_eq!((w.requests, w.errors), (2, 1));
    assert_eq!(w.predictions, summary["total_customers"].as_u64().unwrap());
    assert_eq!(w.positives, summary["predicted_to_buy"].as_u64().unwrap());
    assert_eq!(w.score_bins.iter().sum::<u64>(), w.predictions);
    for (name, bins) in &w.feature_bins {
        assert_eq!(bins.iter().sum::<u64>(), w.predictions, "{name}");
    }
    // Latency percentiles describe online requests only.
    assert_eq!(w.p99_ms, None);
    // Every scored row is in the live sample (it holds 10,000).
    assert_eq!(ws.live_sample(None).unwrap().len() as u64, w.predictions);
    // The batch was the training customers: nothing drifts.
    let drift = ws.drift_since("default", 1, &t0).unwrap();
    assert!(drift.iter().any(|d| d.feature == "score"));
    for d in &drift {
        assert!(d.psi < 0.1, "{}: {}", d.feature, d.psi);
    }
}

/// The features CSV with its rows sorted by `column`, which is shifted by `add`.
fn sorted_by(csv: &[u8], column: &str, add: f64) -> (Vec<u8>, Vec<f64>) {
    let mut rdr = csv::Reader::from_reader(csv);
    let header = rdr.headers().unwrap().clone();
    let at = header.iter().position(|h| h == column).unwrap();
    let mut rows: Vec<(f64, csv::StringRecord)> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[at].parse::<f64>().unwrap() + add, r)
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&header).unwrap();
    for (v, r) in &rows {
        let mut r: Vec<String> = r.iter().map(String::from).collect();
        r[at] = v.to_string();
        out.write_record(&r).unwrap();
    }
    (
        out.into_inner().unwrap(),
        rows.iter().map(|r| r.0).collect(),
    )
}

#[test]
fn batch_rows_feed_the_live_sample_uniformly() {
    let (_d, root, ws, key) = serving("batch-sample", 1000.0);
    let text = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("live_sample = 10000", "live_sample = 100");
    std::fs::write(ws.config_path(), text).unwrap();
    let server = Server::start(&root);
    let recency = |record: &str| -> f64 {
        let r: Value = serde_json::from_str(record).unwrap();
        assert!(
            r.get("CustomerID").is_none(),
            "only model features are kept"
        );
        r["Recency"].as_f64().unwrap()
    };

    // A batch sorted by Recency: a sample biased to the top or the bottom
    // of the file would miss the mean by far more than sampling noise.
    let (csv, values) = sorted_by(&features_csv(&root), "Recency", 0.0);
    let (code, text) = post_batch(&server.url, &key, &csv);
    assert_eq!(code, 200, "{text}");
    server.app.flush_metrics().unwrap();
    let sample = ws.live_sample(None).unwrap();
    assert_eq!(sample.len(), 100);
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    // Standard error of the mean of 100 of n drawn without replacement.
    let se = sd / 10.0 * ((n - 100.0) / (n - 1.0)).sqrt();
    let got = sample.iter().map(|(_, r, _)| recency(r)).sum::<f64>() / 100.0;
    assert!(
        (got - mean).abs() < 5.0 * se,
        "sample mean {got}, population mean {mean} ± {se}"
    );
    for (_, r, _) in &sample {
        let v = recency(r);
        assert!(values.contains(&v), "{v} was not sent");
    }

    // A second batch as large as the first (Recency shifted out of range):
    // a uniform sample over both holds about half of each.
    let (shifted, _) = sorted_by(&features_csv(&root), "Recency", 100_000.0);
    let (code, text) = post_batch(&server.url, &key, &shifted);
    assert_eq!(code, 200, "{text}");
    server.app.flush_metrics().unwrap();
    let sample = ws.live_sample(None).unwrap();
    assert_eq!(sample.len(), 100);
    let second: Vec<f64> = sample
        .iter()
        .map(|(_, r, _)| recency(r))
        .filter(|v| *v >= 100_000.0)
        .map(|v| v - 100_000.0)
        .collect();
    let m = second.len() as f64;
    assert!(
        (30.0..=70.0).contains(&m),
        "{m} of 100 from the second batch"
    );
    // And those rows are a uniform subset of the second batch, too.
    let got = second.iter().sum::<f64>() / m;
    let se = sd / m.sqrt() * ((n - m) / (n - 1.0)).sqrt();
    assert!(
        (got - mean).abs() < 5.0 * se,
        "second batch: sample mean {got}, population mean {mean} ± {se}"
    );
}

#[test]
fn batch_csv_compatible_with_the_old_api() {
    let (_d, root, _ws, key) = serving("batch", 1000.0);
    let server = Server::start(&root);
    // The features table as CSV: the old API's input (extra columns are kept).
    let csv = features_csv(&root);
    let (code, text) = post_batch(&server.url, &key, &csv);
    assert_eq!(code, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["status"], "success");
    assert_eq!(reply["model_used"], "default/v1");
    assert_eq!(reply["model_was_auto_selected"], true);
    let summary = &reply["prediction_summary"];
    let total = summary["total_customers"].as_u64().unwrap();
    assert_eq!(
        total as usize,
        csv::Reader::from_reader(&csv[..]).records().count()
    );
    assert_eq!(
        summary["predicted_to_buy"].as_u64().unwrap()
            + summary["predicted_not_to_buy"].as_u64().unwrap(),
        total
    );
    let columns: Vec<&str> = reply["columns_in_output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        &columns[columns.len() - 4..],
        [
            "prediction_label",
            "prediction_score",
            "purchase_probability",
            "Prediction"
        ]
    );
    assert_eq!(columns[0], "CustomerID");

    let id = reply["predictions_id"].as_str().unwrap();
    let mut resp = agent()
        .get(format!("{}/predictions/{id}", server.url))
        .header("x-api-key", &key)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.body_mut().read_to_string().unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, columns);
    let n = header.len();
    let mut buyers = 0;
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        rows += 1;
        let label: u8 = rec[n - 4].parse().unwrap();
        let label_score: f64 = rec[n - 3].parse().unwrap();
        let p: f64 = rec[n - 2].parse().unwrap();
        assert_eq!(label, u8::from(p >= 0.5));
        assert!((label_score - if label == 1 { p } else { 1.0 - p }).abs() < 1e-12);
        assert_eq!(
            &rec[n - 1],
            if label == 1 {
                "Buy in 90 days"
            } else {
                "Will not buy in 90 days"
            }
        );
        buyers += usize::from(label);
    }
    assert_eq!(rows as u64, total);
    assert_eq!(buyers as u64, summary["predicted_to_buy"].as_u64().unwrap());
    // The same customers through /v1/predict get the same scores.
    let resp = agent()
        .get(format!("{}/predictions/{id}", server.url))
        .call()
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        401,
        "fetching predictions needs a key"
    );
    let resp = agent()
        .get(format!("{}/predictions/nope", server.url))
        .header("x-api-key", &key)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    // A non-CSV upload is a 400.
    let (code, _) = post_batch(&server.url, &key, b"\x89PNG\r\n\x1a\n\x00\x00binary");
    assert_eq!(code, 400);
    let (code, text) = post_batch(&server.url, &key, b"a,b\n1,2\n");
    assert_eq!(code, 400);
    assert!(text.contains("missing columns"), "{text}");

    // Batches over the JSON routes' 1 MB limit are accepted here (64 MB).
    let big = repeated(&csv, 20);
    assert!(big.len() > 1 << 20);
    let (code, text) = post_batch(&server.url, &key, &big);
    assert_eq!(code, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        reply["prediction_summary"]["total_customers"]
            .as_u64()
            .unwrap(),
        total * 20
    );

    // /models in the old API's shape, from the registry.
    let mut resp = agent()
        .get(format!("{}/models", server.url))
        .call()
        .unwrap();
    let models: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(models["total_models"], 2);
    assert_eq!(models["latest_model"], "default/v2");
    assert!(models["models"][0]["size_bytes"].as_u64().unwrap() > 100);
}

/// Rows of the sample's features table as JSON records.
fn feature_records(root: &Path) -> Vec<serde_json::Map<String, Value>> {
    let csv = features_csv(root);
    let mut rdr = csv::Reader::from_reader(&csv[..]);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| {
                    let value = match v.parse::<f64>() {
                        Ok(x) if h != "CustomerID" && h != "RFM_Score" => json!(x),
                        _ => json!(v),
                    };
                    (h.clone(), value)
                })
                .collect()
        })
        .collect()
}

#[test]
fn drift_is_quiet_on_training_like_traffic_and_loud_on_a_shifted_feature() {
    let (_d, root, ws, key) = serving("drift", 1_000_000.0);
    let t0 = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let server = Server::start(&root);
    let predict = format!("{}/v1/predict", server.url);
    let rows = feature_records(&root);
    let send = |records: &[serde_json::Map<String, Value>]| {
        for chunk in records.chunks(20) {
            let (code, _, reply) = post(
                &predict,
                Some(&key),
                &json!({ "records": chunk }).to_string(),
            );
            assert_eq!(code, 200, "{reply}");
        }
    };
    send(&rows);
    // The next window starts when this one is flushed.
    let t1 = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(server.app.flush_metrics().unwrap(), 1);
    let windows = ws.metrics_since(&t0).unwrap();
    assert_eq!(windows.len(), 1);
    let w = &windows[0];
    assert_eq!((w.version, w.predictions), (1, rows.len() as u64));
    assert_eq!(w.requests, rows.len().div_ceil(20) as u64);
    assert!(w.p50_ms.unwrap() > 0.0 && w.p99_ms.unwrap() >= w.p50_ms.unwrap());
    let quiet = ws.drift_since("default", 1, &t0).unwrap();
    assert!(!quiet.is_empty());
    for d in &quiet {
        assert!(
            d.psi < 0.1,
            "{} drifted on training-like traffic: {}",
            d.feature,
            d.psi
        );
    }

    // The same customers with Recency shifted by 400 days.
    let shifted: Vec<_> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let v = r["Recency"].as_f64().unwrap();
            r.insert("Recency".into(), json!(v + 400.0));
            r
        })
        .collect();
    send(&shifted);
    server.app.flush_metrics().unwrap();
    let loud = ws.drift_since("default", 1, &t1).unwrap();
    let recency = loud.iter().find(|d| d.feature == "Recency").unwrap();
    assert!(recency.psi > 0.25, "Recency PSI {}", recency.psi);
    assert_eq!(recency.level.name(), "drift");
    for d in loud
        .iter()
        .filter(|d| d.feature != "Recency" && d.feature != "score")
    {
        assert!(d.psi < 0.1, "{} should stay quiet: {}", d.feature, d.psi);
    }
}

#[test]
fn live_sample_is_bounded_and_feeds_the_promotion_diff_and_charts() {
    let (_d, root) = workspace();
    let ws = Workspace::open(&root).unwrap();
    let text = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("live_sample = 10000", "live_sample = 250");
    assert!(text.contains("live_sample = 250\n"));
    std::fs::write(ws.config_path(), text).unwrap();
    let ws = Workspace::open(&root).unwrap();
    let key = ws.create_key("sample", 1_000_000.0).unwrap();
    ws.promote_now("default", 1).unwrap();
    let t0 = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let server = Server::start(&root);
    let predict = format!("{}/v1/predict", server.url);
    let rows = feature_records(&root);
    for chunk in rows.chunks(20) {
        let (code, _, reply) = post(
            &predict,
            Some(&key),
            &json!({ "records": chunk }).to_string(),
        );
        assert_eq!(code, 200, "{reply}");
    }
    server.app.flush_metrics().unwrap();

    // A bounded, uniform sample: 250 of the 324 records, each one of them.
    // (Large enough that sampling noise alone stays far below the drift
    // level: PSI over 10 bins of a 100-record sample reaches 0.25 by chance.)
    let sample = ws.live_sample(None).unwrap();
    assert_eq!(sample.len(), 250);
    let ids: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{}|{}", r["Recency"], r["Frequency"]))
        .collect();
    for (_, record, _) in &sample {
        let r: Value = serde_json::from_str(record).unwrap();
        assert!(
            ids.contains(&format!("{}|{}", r["Recency"], r["Frequency"])),
            "{record}"
        );
        assert!(
            r.get("CustomerID").is_none(),
            "only model features are kept"
        );
    }

    // The candidate (v2) against production (v1) and live traffic.
    let diff = ws.promotion_diff("default", 2, &t0).unwrap();
    assert_eq!(diff.candidate.version, 2);
    assert_eq!(diff.production.as_ref().unwrap().version, 1);
    let auc = diff
        .deltas
        .iter()
        .find(|d| d.metric == "holdout.auc")
        .unwrap();
    assert_eq!(auc.delta.unwrap(), auc.candidate - auc.production.unwrap());
    assert_eq!(diff.drift.live_records, 250);
    assert!(diff.drift.enough);
    assert!(!diff.drift.features.is_empty());
    // Live traffic was the training customers: no numeric feature drifts.
    // (PSI over a few hundred records of a many-category feature is dominated by the
    // empty-bin epsilon, so categories are not judged on this sample.)
    for f in diff
        .drift
        .features
        .iter()
        .filter(|f| f.feature != "MostFrequentCountry")
    {
        assert_ne!(f.level.name(), "drift", "{}: {}", f.feature, f.psi);
    }
    // Nothing seen after now.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(
        ws.promotion_diff("default", 2, &later)
            .unwrap()
            .drift
            .live_records,
        0
    );

    // The endpoint's charts from the same windows.
    let charts = ws.endpoint_charts(&t0).unwrap();
    let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["requests", "latency", "score", "drift"]);
    match &charts[0].1 {
        tablero_core::charts::Chart::Requests { points, .. } => {
            assert_eq!(
                points.iter().map(|p| p.requests).sum::<u64>(),
                rows.len().div_ceil(20) as u64
            )
        }
        other => panic!("{other:?}"),
    }
    for (name, chart) in &charts {
        let svg = tablero_core::charts::svg(chart).unwrap();
        assert!(svg.starts_with("<svg"), "{name}");
    }
}

#[test]
fn openapi_document_describes_every_public_route_and_matches_replies() {
    let (_d, root, _ws, key) = serving("doc", 1000.0);
    let server = Server::start(&root);
    let mut resp = agent()
        .get(format!("{}/openapi.json", server.url))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let doc: Value = resp.body_mut().read_json().unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/predict", "post"),
        ("/predict", "post"),
        ("/predictions/{id}", "get"),
        ("/models", "get"),
        ("/health", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} undocumented"
        );
    }
    // The admin routes are documented with their own credential.
    for (path, method) in [
        ("/admin/reload", "post"),
        ("/admin/status", "get"),
        ("/admin/shutdown", "post"),
    ] {
        assert_eq!(
            paths[path][method]["security"][0]["admin_token"],
            json!([]),
            "{method} {path}"
        );
    }
    // The documented reply is what the server sends.
    let record = feature_records(&root).remove(0);
    let (code, _, reply) = post(
        &format!("{}/v1/predict", server.url),
        Some(&key),
        &json!({ "records": [record] }).to_string(),
    );
    assert_eq!(code, 200);
    let schema = &doc["components"]["schemas"]["PredictReply"]["properties"];
    for k in reply.as_object().unwrap().keys() {
        assert!(
            schema.get(k).is_some(),
            "reply field {k} is not in the schema"
        );
    }
    let required = doc["components"]["schemas"]["PredictReply"]["required"]
        .as_array()
        .unwrap();
    for k in required {
        assert!(
            reply.get(k.as_str().unwrap()).is_some(),
            "{k} documented but missing"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["name"],
        "x-api-key"
    );
}

#[test]
fn a_request_over_the_timeout_is_answered_503() {
    let (_d, root, ws, key) = serving("slow", 1000.0);
    let t0 = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let server = Server::start(&root);
    server.app.set_request_timeout(Duration::from_millis(300));
    // A client that announces a whole batch and then stops sending halfway:
    // the handler can only be waiting for the body when the deadline passes,
    // and everything sent has been read, so the reply arrives intact.
    let (ctype, body) = multipart(&features_csv(&root));
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST /predict HTTP/1.1\r\nhost: {addr}\r\nx-api-key: {key}\r\n\
         content-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..body.len() / 2]).unwrap();
    let started = std::time::Instant::now();
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let text = loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed without a reply");
        reply.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&reply).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .expect("a content-length");
            if body.len() >= length {
                break text;
            }
        }
    };
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "answered before the deadline: {text}"
    );
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 503"), "{text}");
    let reply: Value = serde_json::from_str(body).unwrap();
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("took longer than"),
        "{reply}"
    );
    // The abandoned request is counted as an error.
    server.app.flush_metrics().unwrap();
    let windows = ws.metrics_since(&t0).unwrap();
    assert_eq!(
        windows
            .iter()
            .map(|w| (w.requests, w.errors))
            .collect::<Vec<_>>(),
        [(1, 1)]
    );
    // The server is fine afterwards.
    server.app.set_request_timeout(Duration::from_secs(30));
    let resp = agent()
        .get(format!("{}/healthz", server.url))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

mod seams {
    //! The server on its three seams alone: no workspace behind it, as in
    //! a container (the model given, keys checked elsewhere, metrics kept).

    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use tablero_core::monitor::{AlarmChange, LiveSlot, MetricWindow};
    use tablero_core::ports::{key_hash, Result, Serving};
    use tablero_core::train::model::Model;
    use tablero_serve::source::{KeyInfo, KeySource, Listed, MetricsSink, ModelSource};
    use tablero_serve::Sources;

    use super::*;

    struct Given(Model);

    impl ModelSource for Given {
        fn wanted(&self) -> Result<Option<Serving>> {
            Ok(Some(Serving {
                group: "churn".into(),
                version: 7,
            }))
        }
        fn load(&self, _: &Serving) -> Result<Model> {
            Ok(self.0.clone())
        }
        fn catalogue(&self, _: &str) -> Result<Vec<Listed>> {
            Ok(Vec::new())
        }
    }

    struct OneKey(String);

    impl KeySource for OneKey {
        fn keys(&self) -> Result<HashMap<String, KeyInfo>> {
            Ok(HashMap::from([(
                key_hash(&self.0),
                KeyInfo {
                    name: "gateway".into(),
                    rate: 1000.0,
                },
            )]))
        }
    }

    /// Keeps what it is given, shared with the test.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<(Vec<MetricWindow>, Vec<LiveSlot>)>>);

    impl MetricsSink for Kept {
        fn write(&self, windows: &[MetricWindow], sample: &[LiveSlot]) -> Result<Vec<AlarmChange>> {
            let mut kept = self.0.lock().unwrap();
            kept.0.extend_from_slice(windows);
            kept.1.extend_from_slice(sample);
            Ok(Vec::new())
        }
        fn sample_capacity(&self) -> usize {
            10
        }
        fn stored_sample(&self) -> Result<Vec<LiveSlot>> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn the_server_runs_on_its_three_seams_without_a_workspace() {
        // A model trained in a workspace that is then removed entirely.
        let (dir, root) = workspace();
        let model = Workspace::open(&root)
            .unwrap()
            .artifact("default", 1)
            .unwrap()
            .model;
        let card = Workspace::open(&root).unwrap().card("default", 1).unwrap();
        drop(dir);
        assert!(!root.exists());

        let kept = Kept::default();
        let server = Server::on(Sources {
            model: Arc::new(Given(model)),
            keys: Arc::new(OneKey("k-123".into())),
            metrics: Arc::new(kept.clone()),
            endpoint: "container".into(),
        });
        assert_eq!(get(&format!("{}/readyz", server.url)).0, 200);
        let mut record = serde_json::Map::new();
        for f in &card.feature_schema {
            let value = match f {
                tablero_core::train::dataset::FeatureSpec::Numeric { mean, .. } => json!(mean),
                tablero_core::train::dataset::FeatureSpec::Categorical { categories, .. } => {
                    json!(categories.first())
                }
            };
            record.insert(f.name().to_string(), value);
        }
        let body = json!({ "records": [record] }).to_string();
        let url = format!("{}/v1/predict", server.url);
        let (code, _, reply) = post(&url, Some("k-123"), &body);
        assert_eq!(code, 200, "{reply}");
        assert_eq!(reply["model_version"], 7);
        assert_eq!(post(&url, Some("another"), &body).0, 401);
        let (code, text) = get(&format!("{}/models", server.url));
        assert_eq!(code, 200);
        assert!(text.contains("\"total_models\":0"), "{text}");

        server.app.flush_metrics().unwrap();
        let kept = kept.0.lock().unwrap();
        assert_eq!(kept.0.len(), 1);
        let w = &kept.0[0];
        assert_eq!(
            (w.endpoint.as_str(), w.group.as_str(), w.version),
            ("container", "churn", 7)
        );
        assert_eq!((w.requests, w.errors, w.predictions), (2, 0, 1));
        assert_eq!(kept.1.len(), 1, "the scored record joins the live sample");
    }
}

/// The router's routes, read from its source (`routes/mod.rs`, and
/// `routes/admin.rs` nested under `/admin`): `(path, method)`.
fn routes_in_source() -> std::collections::BTreeSet<(String, String)> {
    let read = |file: &str| {
        let src =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap();
        src.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
    };
    let flat = read("src/routes/mod.rs");
    let admin = read("src/routes/admin.rs").replace(".route(\"", ".route(\"/admin");
    let mut out = std::collections::BTreeSet::new();
    for part in format!("{flat}{admin}").split(".route(\"").skip(1) {
        let (path, rest) = part.split_once('"').unwrap();
        let rest = rest.trim_start_matches(',');
        let method = rest.split('(').next().unwrap();
        assert!(
            matches!(method, "get" | "post" | "put" | "delete" | "patch"),
            "{path}: {method}"
        );
        out.insert((path.to_string(), method.to_string()));
    }
    assert!(flat.contains(".nest(\"/admin\""), "the admin nest moved");
    out
}

#[test]
fn the_router_and_the_openapi_document_have_the_same_routes() {
    let (_d, root, _ws, _key) = serving("routes", 1000.0);
    let server = Server::start(&root);
    let doc: Value = agent()
        .get(format!("{}/openapi.json", server.url))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((path.clone(), method.clone()));
        }
    }
    let routed = routes_in_source();
    assert!(routed.len() >= 12, "{routed:?}");
    assert_eq!(routed, documented, "router (left) vs /openapi.json (right)");
    // Every documented route answers, with a documented status or 4xx of
    // the request's own making; none is missing from the server.
    for (path, method) in documented.iter().filter(|(p, _)| p != "/admin/shutdown") {
        let url = format!("{}{}", server.url, path.replace("{id}", "unknown"));
        let status = match method.as_str() {
            "get" => agent().get(&url).call().unwrap().status().as_u16(),
            _ => agent().post(&url).send("").unwrap().status().as_u16(),
        };
        assert!(
            status != 404 || path.contains("{id}"),
            "{method} {path}: 404"
        );
        assert_ne!(status, 405, "{method} {path}");
        assert!(status < 500 || status == 503, "{method} {path}: {status}");
        let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
        assert!(
            responses.contains_key(&status.to_string()) || (400..500).contains(&status),
            "{method} {path}: {status} undocumented"
        );
    }
    // Each error reply of /v1/predict is documented, with a schema.
    let replies = &doc["paths"]["/v1/predict"]["post"]["responses"];
    for code in ["400", "401", "413", "422", "429", "503"] {
        assert!(
            replies[code]["content"]["application/json"]["schema"].is_object(),
            "/v1/predict {code}"
        );
    }
    // Examples for clients and fuzzers.
    for schema in [
        "PredictRequest",
        "PredictReply",
        "ValidationErrors",
        "ErrorReply",
        "BatchReply",
    ] {
        assert!(
            !doc["components"]["schemas"][schema]["example"].is_null(),
            "{schema} has an example"
        );
    }
}

/// Every file under the workspace, as bytes (the database, logs, buckets).
fn all_bytes(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

#[test]
fn keys_are_kept_as_hashes_never_logged_and_prediction_ids_are_not_paths() {
    let (_d, root, _ws, key) = serving("secret", 1000.0);
    let mut server = Server::start(&root);
    let predict = format!("{}/v1/predict", server.url);
    let body = json!({ "records": [record(&root)] }).to_string();
    assert_eq!(post(&predict, Some(&key), &body).0, 200);
    let wrong = format!("{key}x");
    assert_eq!(post(&predict, Some(&wrong), &body).0, 401);
    // A prediction id is looked up, never read as a path.
    for id in [
        "..%2F..%2Ftablero.toml",
        "%2e%2e",
        "..",
        "%2Fetc%2Fpasswd",
        "a%00b",
    ] {
        let (code, text) = get_with_key(&format!("{}/predictions/{id}", server.url), &key);
        assert_eq!(code, 404, "{id}: {text}");
        assert!(
            !text.contains("[backend]") && !text.contains("root:"),
            "{id}: {text}"
        );
    }
    server.stop();
    // Neither the key nor the wrong one is anywhere in the workspace (the
    // database keeps the key's SHA-256 only; logs and the audit trail
    // never name it).
    let hash = tablero_core::ports::key_hash(&key);
    let files = all_bytes(&root);
    let has = |needle: &str| {
        files
            .iter()
            .filter(|(_, b)| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .map(|(p, _)| p.display().to_string())
            .collect::<Vec<_>>()
    };
    assert!(has(&key).is_empty(), "the key in {:?}", has(&key));
    assert!(has(&wrong).is_empty(), "a refused key in {:?}", has(&wrong));
    assert!(!has(&hash).is_empty(), "the key's hash is stored");
}
