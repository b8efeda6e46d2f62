//! Latency of `POST /v1/predict` at a fixed request rate, one record per
//! request, over real HTTP on 127.0.0.1 (the server in this process on its
//! own threads, as `tablero endpoint start` runs it).
//!
//! Open loop: each request has a scheduled send time and its latency is
//! measured from that time, so a slow reply cannot hide the requests queued
//! behind it (no coordinated omission).
//!
//! `cargo bench -p tablero-serve --bench fixed_rate -- [RATE] [SECONDS] [MODEL]`
//! (defaults: 1000 requests/s, 10 s, the full leaderboard's winner on the
//! bundled sample; MODEL = lr, gbm, rf, et, … picks one candidate).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;
use tablero_local::Workspace;

const CONNECTIONS: usize = 8;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rate: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000.0);
    let seconds: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let only: Option<Algorithm> = args
        .get(2)
        .and_then(|a| Algorithm::ALL.into_iter().find(|alg| alg.id() == a));

    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("ws");
    let (key, body, winner) = prepare(&root, only);
    let backend = Workspace::open(&root)
        .expect("open workspace")
        .into_backend();
    let app = tablero_serve::App::new(tablero_serve::Sources::from_backend(&backend))
        .expect("load the model");
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            addr_tx.send(listener.local_addr().expect("addr")).ok();
            tablero_serve::serve(
                app,
                listener,
                std::future::pending(),
                Duration::from_secs(1),
                Duration::from_secs(60),
            )
            .await
            .expect("serve");
        });
    });
    let addr = addr_rx.recv().expect("server address");
    let request = format!(
        "POST /v1/predict HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nx-api-key: {key}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );

    // Warm up the connections and the model.
    let per_conn = rate / CONNECTIONS as f64;
    let total = (rate * seconds) as usize;
    let start = Instant::now() + Duration::from_millis(200);
    let handles: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let request = request.clone();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream.set_nodelay(true).ok();
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                for _ in 0..20 {
                    exchange(&mut stream, &mut reader, &request);
                }
                let n = total / CONNECTIONS;
                let offset = c as f64 / rate;
                let mut latencies = Vec::with_capacity(n);
                let mut failures = 0usize;
                for i in 0..n {
                    let due = start + Duration::from_secs_f64(offset + i as f64 / per_conn);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    if !exchange(&mut stream, &mut reader, &request) {
                        failures += 1;
                    }
                    latencies.push(due.elapsed().as_secs_f64() * 1e3);
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    let mut failures = 0;
    for h in handles {
        let (l, f) = h.join().expect("client thread");
        all.extend(l);
        failures += f;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1];
    println!(
        "model {winner}: {} requests at {rate} req/s scheduled ({:.0} req/s achieved) over {elapsed:.1} s, {failures} failed",
        all.len(),
        all.len() as f64 / elapsed
    );
    println!(
        "latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999),
        all[all.len() - 1]
    );
}

/// Sends one request and reads the reply; true on 200.
fn exchange(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, request: &str) -> bool {
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return false;
    }
    let ok = line.starts_with("HTTP/1.1 200");
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).is_ok() && ok
}

/// A workspace with the sample trained, approved, promoted, and a key.
/// Returns the key, one record as a request body, and the model's id.
fn prepare(root: &std::path::Path, only: Option<Algorithm>) -> (String, String, String) {
    let ws = Workspace::init(root).expect("init");
    let text = std::fs::read_to_string(ws.config_path())
        .expect("config")
        .replace("four_eyes = true", "four_eyes = false");
    std::fs::write(ws.config_path(), text).expect("config");
    let ws = Workspace::open(root).expect("open").into_backend();
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv");
    tablero_app::data::upload(
        &ws,
        &sample,
        Some("s.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    )
    .expect("upload");
    let run = |r| {
        let j = ws.jobs.submit(r).expect("submit");
        let j = ws.jobs.run(&j.id, &|_| {}).expect("run");
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
    let mut config = TrainConfig::default();
    if let Some(alg) = only {
        config.candidates = vec![alg];
    }
    run(JobRequest::Train {
        features_key: "s/features.parquet".into(),
        group: "default".into(),
        config,
        resources: None,
    });
    tablero_app::models::approve(&ws, "default", 1, "bench", false).expect("approve");
    tablero_app::deploy::promote(&ws, "default", 1, &|_| {}).expect("promote");
    let key = ws.keys.create_key("bench", 1e9).expect("key");
    let card = ws.registry.card("default", 1).expect("card");
    let mut record = serde_json::Map::new();
    for f in &card.feature_schema {
        let value = match f {
            tablero_core::train::dataset::FeatureSpec::Numeric { mean, .. } => {
                serde_json::json!(mean)
            }
            tablero_core::train::dataset::FeatureSpec::Categorical { categories, .. } => {
                serde_json::json!(categories.first())
            }
        };
        record.insert(f.name().to_string(), value);
    }
    let body = serde_json::json!({ "records": [record] }).to_string();
    (key, body, card.evaluation.winner.id().to_string())
}
