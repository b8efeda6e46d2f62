//! `tablero --backend aws` as a user runs it, against moto's server on
//! 127.0.0.1 (started here; buckets, group and usage plan made by
//! scripts/aws-provision.py): the same commands and JSON as on local, the
//! caller's IAM identity, `--as` refused in words. Built with the `aws`
//! feature only.
#![cfg(feature = "aws")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

fn python() -> String {
    std::env::var("TABLERO_MOTO_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Moto {
    url: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(python())
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts (scripts/setup.sh installs it; TABLERO_MOTO_PYTHON names its python)");
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed().as_secs() < 60, "moto did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Moto {
        url: format!("http://127.0.0.1:{port}"),
        child,
    }
}

fn provision(args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(repo().join("scripts/aws-provision.py"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The AWS credentials of `role` assumed as `session`.
fn credentials(url: &str, role: &str, session: &str) -> Vec<(String, String)> {
    provision(&[
        "credentials",
        "--endpoint",
        url,
        "--role",
        role,
        "--session",
        session,
    ])
    .lines()
    .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

struct Ws {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn run(ws: &Ws, creds: &[(String, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tablero"));
    cmd.args(args)
        .env("TABLERO_WORKSPACE", &ws.root)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    for (k, v) in creds {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn json(ws: &Ws, creds: &[(String, String)], args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let out = run(ws, creds, &a);
    let text = String::from_utf8(out.stdout).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not one JSON document ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), doc)
}

#[test]
fn the_cli_runs_the_pipeline_on_aws() {
    let moto = moto();
    let dir = tempfile::tempdir().unwrap();
    let ws = Ws {
        root: dir.path().join("ws"),
        _dir: dir,
    };
    let none: Vec<(String, String)> = Vec::new();
    assert!(run(&ws, &none, &["init"]).status.success());
    provision(&[
        "workspace",
        "--endpoint",
        &moto.url,
        "--workspace",
        ws.root.to_str().unwrap(),
    ]);
    let admin = credentials(&moto.url, "tablero-admin", "tom");
    let lead = credentials(&moto.url, "tablero-ml-lead", "lena");

    let (code, checks) = json(&ws, &admin, &["aws", "check"]);
    assert_eq!(code, 0, "{checks}");
    assert_eq!(checks[0]["call"], "sts:GetCallerIdentity");
    assert!(
        checks[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("tablero-admin/tom"),
        "{checks}"
    );
    assert_eq!(checks.as_array().unwrap().len(), 4, "{checks}");

    let sample = repo().join("assets/sample/online_retail_sample.csv");
    let (code, up) = json(
        &ws,
        &admin,
        &["data", "upload", sample.to_str().unwrap(), "--key", "s.csv"],
    );
    assert_eq!(code, 0, "{up}");
    assert_eq!(up["rows"], 29_070);
    let (_, ls) = json(&ws, &admin, &["data", "ls", "raw"]);
    assert_eq!(ls["objects"][0]["key"], "s.csv", "{ls}");
    assert!(
        ls["objects"][0]["metadata"]["ingest"].is_string(),
        "the ingest spec is kept: {ls}"
    );
    let (code, preview) = json(&ws, &admin, &["data", "preview", "raw", "s.csv"]);
    assert_eq!(code, 0, "{preview}");

    let (code, clean) = json(&ws, &admin, &["etl", "clean", "s.csv"]);
    assert_eq!(code, 0, "{clean}");
    let (code, features) = json(&ws, &admin, &["etl", "features", "s/transactions.parquet"]);
    assert_eq!(code, 0, "{features}");
    // `etl run` over S3: the same reports, the rows handed over in memory.
    let (code, both) = json(
        &ws,
        &admin,
        &["etl", "run", "s.csv", "--clean-out", "r/t.parquet"],
    );
    assert_eq!(code, 0, "{both}");
    assert_eq!(both["clean"]["report"], clean["report"]);
    assert_eq!(both["features"]["report"], features["report"]);
    assert_eq!(both["features"]["output"]["key"], "r/features.parquet");
    let id = both["features"]["id"].as_str().unwrap();
    let (_, shown) = json(&ws, &admin, &["jobs", "show", id]);
    assert!(shown["logs"].to_string().contains("handed over"), "{shown}");
    let (code, job) = json(
        &ws,
        &admin,
        &[
            "train",
            "s/features.parquet",
            "--folds",
            "3",
            "--candidates",
            "lr",
        ],
    );
    assert_eq!(code, 0, "{job}");
    let version = job["report"]["version"].as_u64().unwrap().to_string();

    // Four eyes: the trainer cannot approve; the ML lead can.
    let (code, err) = json(
        &ws,
        &admin,
        &["models", "approve", &version, "--comment", "mine"],
    );
    assert_eq!(
        (code, err["error"]["kind"].as_str()),
        (1, Some("refused")),
        "{err}"
    );
    let (code, ok) = json(
        &ws,
        &lead,
        &["models", "approve", &version, "--comment", "metrics fine"],
    );
    assert_eq!(code, 0, "{ok}");
    let (_, ls) = json(&ws, &lead, &["models", "ls"]);
    assert_eq!(ls["versions"][0]["status"], "Approved", "{ls}");
    assert_eq!(ls["versions"][0]["created_by"], "tablero-admin/tom");
    assert_eq!(ls["versions"][0]["decided_by"], "tablero-ml-lead/lena");
    assert_eq!(
        ls["versions"][0]["dataset_uri"], "s3://tablero-clean/s/features.parquet",
        "the card names the training data where it is"
    );

    // The ML lead's role does not offer uploads; --as is refused in words.
    let (code, err) = json(
        &ws,
        &lead,
        &["data", "upload", sample.to_str().unwrap(), "--key", "x.csv"],
    );
    assert_eq!(
        (code, err["error"]["kind"].as_str()),
        (1, Some("permission")),
        "{err}"
    );
    let (code, err) = json(&ws, &lead, &["--as", "tom", "models", "ls"]);
    assert_eq!(err["error"]["kind"], "unsupported", "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AWS credentials"),
        "{err}"
    );
    assert_eq!(code, 1);

    // Ops: promotion to the ECS service (moto never rolls it out: the
    // reply says it is in progress), its status, history, stop, alarms.
    let ops = credentials(&moto.url, "tablero-ops", "otto");
    let (code, done) = json(&ws, &ops, &["deploy", "promote", &version]);
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["phase"], "in_progress", "{done}");
    assert_eq!(done["deployment"]["version"].to_string(), version);
    assert_eq!(done["deployment"]["actor"], "tablero-ops/otto");
    let (_, status) = json(&ws, &ops, &["endpoint", "status"]);
    assert_eq!(status["tasks"]["desired"], 1, "{status}");
    assert!(
        status["revision"]
            .as_str()
            .unwrap()
            .starts_with("tablero-serve:"),
        "{status}"
    );
    assert_eq!(
        status["serving"]["version"].to_string(),
        version,
        "{status}"
    );
    let (_, history) = json(&ws, &ops, &["deploy", "history"]);
    assert_eq!(history["history"][0]["action"], "promote", "{history}");
    let (code, stopped) = json(&ws, &ops, &["endpoint", "stop"]);
    assert_eq!(
        (code, stopped["stopped"].as_bool()),
        (0, Some(true)),
        "{stopped}"
    );
    let (_, status) = json(&ws, &ops, &["endpoint", "status"]);
    assert_eq!(status["tasks"]["desired"], 0, "{status}");
    let (code, alarms) = json(&ws, &ops, &["monitor", "alarms"]);
    assert_eq!(code, 0, "{alarms}");
    // The endpoint's metrics by default, and the platform's (none yet).
    let (code, metrics) = json(&ws, &ops, &["monitor", "metrics"]);
    assert_eq!(
        (code, metrics["requests"].as_u64()),
        (0, Some(0)),
        "{metrics}"
    );
    let (code, service) = json(&ws, &ops, &["monitor", "service", "--since", "1h"]);
    assert_eq!(code, 0, "{service}");
    assert!(
        service["series"].as_array().unwrap().is_empty(),
        "{service}"
    );
    assert_eq!(alarms["alarms"].as_array().unwrap().len(), 3, "{alarms}");
    // The human output follows the rollout on stderr.
    let out = run(&ws, &ops, &["deploy", "rollback"]);
    assert!(!out.status.success(), "nothing to roll back to");
    let out = run(&ws, &ops, &["endpoint", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ECS: 0 of 0 tasks running"), "{text}");

    let (_, audit) = json(&ws, &lead, &["audit", "--since", "1h"]);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "upload",
        "job.submit",
        "model.register",
        "model.approve",
        "deploy.promote",
        "endpoint.stop",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}
