//! The `tablero` binary as a user runs it: its `--json` documents, its exit
//! codes, and its refusal to prompt in JSON mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let cli = Cli {
            dir: tempfile::tempdir().unwrap(),
        };
        let out = cli.run(&["init", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        cli
    }

    fn ws(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tablero"))
            .args(args)
            .env("TABLERO_WORKSPACE", self.ws())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs with --json; returns (exit code, the one JSON document).
    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.run(&a);
        let text = String::from_utf8(out.stdout).unwrap();
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON document ({e}): {text}"));
        (out.status.code().unwrap(), doc)
    }
}

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv")
        .display()
        .to_string()
}

impl Cli {
    /// Sets `[limits] memory_mb` in the workspace's tablero.toml.
    fn set_memory_mb(&self, mb: u64) {
        let path = self.ws().join("tablero.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let start = text.find("memory_mb = ").unwrap();
        let end = start + text[start..].find('\n').unwrap();
        let text = format!("{}memory_mb = {mb}{}", &text[..start], &text[end..]);
        std::fs::write(&path, text).unwrap();
    }

    fn log_of(&self, id: &str) -> String {
        let (code, job) = self.json(&["jobs", "show", id]);
        assert_eq!(code, 0, "{job}");
        job["logs"].to_string()
    }
}

/// `etl run`: a clean job and a features job in one process, the clean
/// rows handed to the features stage in memory. Its tables and reports
/// are those of `etl clean` then `etl features`, to the byte; a clean job
/// that fails runs nothing more; a budget too small to keep the rows has
/// the features stage read the table back.
#[test]
fn etl_run_equals_clean_then_features() {
    let cli = Cli::new();
    assert_eq!(
        cli.json(&["data", "upload", &sample(), "--key", "s.csv"]).0,
        0
    );
    let feature_args = ["--cutoff", "2011-09-01", "--horizon-days", "60"];
    let mut args = vec![
        "etl",
        "run",
        "s.csv",
        "--clean-out",
        "a/t.parquet",
        "--features-out",
        "a/f.parquet",
    ];
    args.extend(feature_args);
    let (code, run) = cli.json(&args);
    assert_eq!(code, 0, "{run}");
    assert_eq!(run["clean"]["kind"], "clean");
    assert_eq!(run["clean"]["status"], "succeeded");
    assert_eq!(run["clean"]["output"]["key"], "a/t.parquet");
    assert_eq!(run["features"]["kind"], "features");
    assert_eq!(run["features"]["status"], "succeeded");
    assert_eq!(run["features"]["input"]["key"], "a/t.parquet");
    assert_eq!(run["features"]["output"]["key"], "a/f.parquet");
    assert_eq!(run["features"]["report"]["horizon_days"], 60);
    let log = cli.log_of(run["features"]["id"].as_str().unwrap());
    assert!(log.contains("handed over"), "{log}");

    let (code, clean) = cli.json(&["etl", "clean", "s.csv", "--out", "b/t.parquet"]);
    assert_eq!(code, 0, "{clean}");
    let mut args = vec!["etl", "features", "b/t.parquet", "--out", "b/f.parquet"];
    args.extend(feature_args);
    let (code, features) = cli.json(&args);
    assert_eq!(code, 0, "{features}");
    let log = cli.log_of(features["id"].as_str().unwrap());
    assert!(!log.contains("handed over"), "{log}");
    assert_eq!(run["clean"]["report"], clean["report"]);
    assert_eq!(run["features"]["report"], features["report"]);
    let bucket = cli.ws().join("buckets/clean");
    for (a, b) in [
        ("a/t.parquet", "b/t.parquet"),
        ("a/f.parquet", "b/f.parquet"),
    ] {
        let (a, b) = (
            std::fs::read(bucket.join(a)).unwrap(),
            std::fs::read(bucket.join(b)).unwrap(),
        );
        assert!(a == b, "{a:?} and {b:?} differ");
    }

    // Room for the clean stage but not for the rows it would keep: the
    // features stage reads the table back, and says why in the clean log.
    // (The clean stage needs 320 MiB and 80 bytes a row, 323 MiB for the
    // sample's rows; the kept rows 60 bytes a row, 2 MiB more.)
    cli.set_memory_mb(323);
    let (code, run) = cli.json(&["etl", "run", "s.csv", "--clean-out", "c/t.parquet"]);
    assert_eq!(code, 0, "{run}");
    let clean_log = cli.log_of(run["clean"]["id"].as_str().unwrap());
    assert!(clean_log.contains("not kept"), "{clean_log}");
    let log = cli.log_of(run["features"]["id"].as_str().unwrap());
    assert!(!log.contains("handed over"), "{log}");
    assert_eq!(run["features"]["status"], "succeeded");

    // A clean job that fails: no features job, exit 1.
    cli.set_memory_mb(1);
    let (code, run) = cli.json(&["etl", "run", "s.csv", "--clean-out", "d/t.parquet"]);
    assert_eq!(code, 1, "{run}");
    assert_eq!(run["clean"]["status"], "failed");
    assert_eq!(run["features"], Value::Null);
    let (_, ls) = cli.json(&["data", "ls", "clean", "d/"]);
    assert_eq!(ls["objects"], serde_json::json!([]), "{ls}");

    // An input that is not there is refused before any job is queued.
    let (code, err) = cli.json(&["etl", "run", "nowhere.csv"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err["error"]["kind"], "not_found", "{err}");
}

#[test]
fn the_pipeline_through_the_cli_prints_the_documented_json() {
    let cli = Cli::new();
    let (code, up) = cli.json(&["data", "upload", &sample(), "--key", "s.csv"]);
    assert_eq!(code, 0, "{up}");
    assert_eq!(up["object"]["key"], "s.csv");
    assert_eq!(up["rows"], 29_070);
    assert_eq!(up["ingest"]["mapping"][0]["canonical"], "invoice_id");

    let (code, job) = cli.json(&["etl", "clean", "s.csv"]);
    assert_eq!(code, 0, "{job}");
    for field in [
        "id",
        "kind",
        "status",
        "started_at",
        "finished_at",
        "output",
        "report",
        "error",
    ] {
        assert!(
            job.get(field).is_some(),
            "job document lacks {field}: {job}"
        );
    }
    assert_eq!(job["kind"], "clean");
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["error"], Value::Null);
    assert_eq!(
        job["output"],
        serde_json::json!({"bucket": "clean", "key": "s/transactions.parquet"})
    );
    assert_eq!(job["report"]["rows_out"], 24_161);
    assert_eq!(job["report"]["rules"][1]["rule"], "duplicate");
    assert_eq!(job["report"]["rules"][1]["removed"], 244);

    let (code, f) = cli.json(&[
        "etl",
        "features",
        "s/transactions.parquet",
        "--cutoff",
        "2011-09-01",
        "--horizon-days",
        "60",
    ]);
    assert_eq!(code, 0, "{f}");
    assert_eq!(f["report"]["cutoff"], "2011-09-01 00:00:00");
    assert_eq!(f["report"]["cutoff_source"], "given");
    assert_eq!(f["report"]["horizon_days"], 60);
    assert_eq!(f["output"]["key"], "s/features.parquet");

    let (_, ls) = cli.json(&["data", "ls", "clean"]);
    let keys: Vec<&str> = ls["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec![
            "s/features.parquet",
            "s/features.report.json",
            "s/transactions.parquet",
            "s/transactions.report.json"
        ]
    );
    let (_, page) = cli.json(&[
        "data",
        "ls",
        "clean",
        "s/",
        "--page-size",
        "3",
        "--page-token",
        "s/features.parquet",
    ]);
    assert_eq!(page["objects"].as_array().unwrap().len(), 3);
    assert_eq!(page["next_token"], Value::Null);

    let (code, p) = cli.json(&[
        "data",
        "preview",
        "clean",
        "s/features.parquet",
        "--rows",
        "5",
    ]);
    assert_eq!(code, 0);
    assert_eq!(p["rows"].as_array().unwrap().len(), 5);
    assert_eq!(p["total_rows"], f["report"]["customers"]);
    assert_eq!(p["schema"][0]["name"], "CustomerID");
    let (code, p) = cli.json(&["data", "preview", "raw", "s.csv", "--rows", "3"]);
    assert_eq!(code, 0);
    assert_eq!(p["format"], "csv");
    assert_eq!(p["rows"][0][0], "536385");
    assert_eq!(p["schema"][4]["dtype"], "datetime");

    let out = cli.dir.path().join("features.csv");
    let (code, g) = cli.json(&[
        "data",
        "get",
        "clean",
        "s/features.parquet",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{g}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("CustomerID,Recency,Frequency,"));
    assert_eq!(
        text.lines().count() as u64,
        f["report"]["customers"].as_u64().unwrap() + 1
    );
    let (code, _) = cli.json(&[
        "data",
        "get",
        "clean",
        "s/features.parquet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 1,
        "an existing file is not overwritten without --force"
    );

    let (_, jobs) = cli.json(&["jobs", "ls"]);
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 2);
    let (code, shown) = cli.json(&["jobs", "show", job["id"].as_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(shown["id"], job["id"]);
    assert!(shown["logs"].as_array().unwrap().len() >= 2);

    let (_, audit) = cli.json(&["audit", "--since", "1h"]);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["workspace.init", "upload", "job.submit", "job.submit"]
    );
}

#[test]
fn exit_codes_distinguish_failure_refusal_and_usage() {
    let cli = Cli::new();
    assert_eq!(
        cli.json(&["data", "upload", &sample(), "--key", "s.csv"]).0,
        0
    );
    assert_eq!(cli.json(&["etl", "clean", "s.csv"]).0, 0);

    // A failed job: exit 1, the job document says why.
    let (code, job) = cli.json(&[
        "etl",
        "features",
        "s/transactions.parquet",
        "--preset",
        "parity",
    ]);
    assert_eq!(code, 1);
    assert_eq!(job["status"], "failed");
    assert!(job["error"].as_str().unwrap().contains("--preset standard"));

    // A refused action: exit 1 with an error document.
    let (code, err) = cli.json(&["etl", "clean", "missing.csv"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["kind"], "not_found");
    let bad = cli.dir.path().join("bad.csv");
    std::fs::write(&bad, "a;b\n1;2\n").unwrap();
    let (code, err) = cli.json(&["data", "upload", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["kind"], "invalid_input");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("missing required column"));

    // Bad usage: exit 2, still one JSON document.
    let (code, err) = cli.json(&["data", "ls", "nowhere"]);
    assert_eq!(code, 2);
    assert_eq!(err["error"]["kind"], "usage");
    let (code, _) = cli.json(&[
        "etl",
        "features",
        "s/transactions.parquet",
        "--cutoff",
        "yesterday",
    ]);
    assert_eq!(code, 2);

    // A destructive command never prompts in JSON mode.
    let (code, err) = cli.json(&["data", "rm", "raw", "s.csv"]);
    assert_eq!(code, 2);
    assert!(err["error"]["message"].as_str().unwrap().contains("--yes"));
    assert!(
        cli.ws().join("buckets/raw/s.csv").exists(),
        "nothing was deleted"
    );
    // Without --json and with no answer on stdin, nothing is deleted either.
    let out = cli.run(&["data", "rm", "raw", "s.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(cli.ws().join("buckets/raw/s.csv").exists());
    let (code, done) = cli.json(&["data", "rm", "raw", "s.csv", "--yes"]);
    assert_eq!(code, 0, "{done}");
    assert!(!cli.ws().join("buckets/raw/s.csv").exists());
    assert!(
        Path::new(done["trash"].as_str().unwrap()).exists(),
        "the object is kept in the trash"
    );

    // Undo: the trash lists it, restore puts it back with its mapping.
    let id = done["trash_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("raw/") && id.ends_with("/s.csv"), "{id}");
    let (code, trash) = cli.json(&["data", "trash"]);
    assert_eq!(code, 0);
    assert_eq!(trash["trash"][0]["id"], id.as_str());
    assert_eq!(trash["trash"][0]["key"], "s.csv");
    assert!(trash["trash"][0]["size"].as_u64().unwrap() > 0);
    let (code, restored) = cli.json(&["data", "restore", &id]);
    assert_eq!(code, 0, "{restored}");
    assert_eq!(restored["restored"]["key"], "s.csv");
    assert!(restored["restored"]["metadata"]["ingest"].is_string());
    assert!(cli.ws().join("buckets/raw/s.csv").exists());
    assert_eq!(
        cli.json(&["data", "trash"]).1["trash"],
        serde_json::json!([])
    );
    let (code, err) = cli.json(&["data", "restore", &id]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing in the trash"));
}

#[test]
fn human_output_reads_well_and_errors_go_to_stderr() {
    let cli = Cli::new();
    let out = cli.run(&["data", "upload", &sample()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Uploaded raw/online_retail_sample.csv"),
        "{text}"
    );
    assert!(
        text.contains("CustomerID           → customer_id"),
        "{text}"
    );
    let out = cli.run(&["etl", "clean", "online_retail_sample.csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("SUCCEEDED") && text.contains("24,161 rows out"),
        "{text}"
    );
    let out = cli.run(&["etl", "clean", "nope.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("error: raw/nope.csv does not exist"));
    let out = Command::new(env!("CARGO_BIN_EXE_tablero"))
        .args(["data", "ls", "raw"])
        .env("TABLERO_WORKSPACE", cli.dir.path().join("elsewhere"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("run `tablero init`"));
}

#[test]
fn training_and_approval_through_the_cli() {
    let cli = Cli::new();
    let me = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_tablero"))
            .args(["init", "--json"])
            .env("TABLERO_WORKSPACE", cli.ws())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let me: Value = serde_json::from_str(&me).unwrap();
    let me = me["user"].as_str().unwrap().to_string();
    std::fs::write(
        cli.ws().join("tablero.toml"),
        format!(
            "[roles]\n\"{me}\" = [\"analyst\", \"ml_lead\", \"ops\"]\nlead = [\"ml_lead\"]\nana = [\"analyst\"]\n\
             [policy]\nfour_eyes = true\nallow_as = true\n"
        ),
    )
    .unwrap();
    assert_eq!(
        cli.json(&["data", "upload", &sample(), "--key", "s.csv"]).0,
        0
    );
    assert_eq!(cli.json(&["etl", "clean", "s.csv"]).0, 0);
    assert_eq!(
        cli.json(&["etl", "features", "s/transactions.parquet"]).0,
        0
    );

    let (code, job) = cli.json(&[
        "train",
        "s/features.parquet",
        "--folds",
        "3",
        "--candidates",
        "lr,nb,tree",
        "--sort",
        "auc",
    ]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["kind"], "train");
    let report = &job["report"];
    assert_eq!(report["version"], 1);
    let board = report["leaderboard"].as_array().unwrap();
    assert_eq!(board.len(), 3);
    assert!(board[0]["auc"]["mean"].as_f64().unwrap() >= board[1]["auc"]["mean"].as_f64().unwrap());
    for key in [
        "model",
        "accuracy",
        "auc",
        "recall",
        "precision",
        "f1",
        "kappa",
        "mcc",
        "train_seconds",
    ] {
        assert!(board[0].get(key).is_some(), "leaderboard entry lacks {key}");
    }
    assert_eq!(report["winner"], board[0]["model"]);
    for key in [
        "accuracy",
        "auc",
        "recall",
        "precision",
        "f1",
        "kappa",
        "mcc",
    ] {
        assert!(report["holdout"][key].is_number(), "holdout lacks {key}");
    }
    assert!(report["leakage"].is_array());
    assert_eq!(
        job["output"],
        serde_json::json!({"bucket": "models", "key": "default/v1/model.json"})
    );

    let (code, _) = cli.json(&["train", "s/features.parquet", "--candidates", "svm"]);
    assert_eq!(code, 2, "unknown candidate is bad usage");
    // SageMaker's resources on a backend that trains here: bad usage, said.
    let (code, err) = cli.json(&[
        "train",
        "s/features.parquet",
        "--instance-type",
        "ml.c5.xlarge",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.to_string().contains("SageMaker training"), "{err}");
    assert_eq!(
        cli.json(&[
            "train",
            "s/features.parquet",
            "--folds",
            "3",
            "--candidates",
            "lr"
        ])
        .0,
        0
    );

    let (_, ls) = cli.json(&["models", "ls"]);
    let versions = ls["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["status"], "PendingManualApproval");

    let (code, shown) = cli.json(&["models", "show", "1"]);
    assert_eq!(code, 0);
    assert_eq!(shown["card"]["version"], 1);
    assert!(
        shown["card"]["baseline"]["features"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
    assert!(shown["card"]["roc"].as_array().unwrap().len() > 2);

    let (code, cmp) = cli.json(&["models", "compare", "1", "2"]);
    assert_eq!(code, 0);
    assert_eq!(cmp["versions"], serde_json::json!([1, 2]));
    let auc = cmp["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "holdout.auc")
        .unwrap();
    let (a, b) = (
        auc["values"][0].as_f64().unwrap(),
        auc["values"][1].as_f64().unwrap(),
    );
    assert!((auc["deltas"][1].as_f64().unwrap() - (b - a)).abs() < 1e-12);

    // The trainer may not approve (four eyes); an analyst may not either.
    let (code, err) = cli.json(&["models", "approve", "1", "--comment", "ok"]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("four-eyes"));
    let (code, err) = cli.json(&["models", "approve", "1", "--comment", "ok", "--as", "ana"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["kind"], "permission");
    let (code, v) = cli.json(&[
        "models",
        "approve",
        "1",
        "--comment",
        "good enough",
        "--as",
        "lead",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "Approved");
    assert_eq!(v["decided_by"], "lead");
    let (code, v) = cli.json(&[
        "models",
        "reject",
        "2",
        "--comment",
        "fewer candidates",
        "--as",
        "lead",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["status"], "Rejected");
    let (_, approved) = cli.json(&["models", "ls", "--status", "approved"]);
    assert_eq!(approved["versions"].as_array().unwrap().len(), 1);
    let (code, _) = cli.json(&["models", "approve", "9", "--comment", "x", "--as", "lead"]);
    assert_eq!(code, 1);

    let (_, audit) = cli.json(&["audit", "--since", "1h"]);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "model.register",
        "model.approve",
        "model.reject",
        "policy.edited",
    ] {
        assert!(actions.contains(&a), "audit lacks {a}: {actions:?}");
    }
    let (code, _) = cli.json(&["policy", "four-eyes", "off"]);
    assert_eq!(code, 0);
    let (_, audit) = cli.json(&["audit", "--since", "1h"]);
    assert_eq!(
        audit["entries"].as_array().unwrap().last().unwrap()["action"],
        "policy.four_eyes"
    );

    // Human output of the leaderboard and the card.
    let out = cli.run(&["models", "show", "1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("default version 1") && text.contains("holdout:"),
        "{text}"
    );
}

/// Stops the endpoint when a test ends, even a failing one.
struct StopEndpoint<'a>(&'a Cli);

impl Drop for StopEndpoint<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["endpoint", "stop"]);
    }
}

#[test]
fn endpoint_keys_promotion_and_rollback_through_the_cli() {
    let cli = Cli::new();
    let me: Value =
        serde_json::from_str(&String::from_utf8(cli.run(&["init", "--json"]).stdout).unwrap())
            .unwrap();
    let me = me["user"].as_str().unwrap().to_string();
    std::fs::write(
        cli.ws().join("tablero.toml"),
        format!("[roles]\n\"{me}\" = [\"analyst\", \"ml_lead\", \"ops\"]\nana = [\"analyst\"]\n[policy]\nfour_eyes = false\nallow_as = true\n"),
    )
    .unwrap();
    for args in [
        vec!["data", "upload", &sample(), "--key", "s.csv"],
        vec!["etl", "clean", "s.csv"],
        vec!["etl", "features", "s/transactions.parquet"],
        vec![
            "train",
            "s/features.parquet",
            "--folds",
            "3",
            "--candidates",
            "lr",
        ],
        vec![
            "train",
            "s/features.parquet",
            "--folds",
            "3",
            "--candidates",
            "nb",
        ],
        vec![
            "train",
            "s/features.parquet",
            "--folds",
            "3",
            "--candidates",
            "tree",
        ],
        vec!["models", "approve", "1", "--comment", "ok"],
        vec!["models", "approve", "2", "--comment", "ok"],
    ] {
        let (code, doc) = cli.json(&args);
        assert_eq!(code, 0, "{args:?}: {doc}");
    }
    let (code, err) = cli.json(&["endpoint", "start", "--port", "0", "--as", "ana"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["kind"], "permission");

    let (code, started) = cli.json(&["endpoint", "start", "--port", "0"]);
    assert_eq!(code, 0, "{started}");
    let _guard = StopEndpoint(&cli);
    assert_eq!(started["running"], true);
    assert_eq!(started["serving"], Value::Null);
    let url = started["url"].as_str().unwrap().to_string();
    let (code, again) = cli.json(&["endpoint", "start", "--port", "0"]);
    assert_eq!(code, 1);
    assert!(again["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already running"));

    let (code, created) = cli.json(&["keys", "create", "--name", "web", "--rate", "5000"]);
    assert_eq!(code, 0);
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("tbk_") && key.len() == 68);
    let (_, listed) = cli.json(&["keys", "ls"]);
    assert!(
        !listed.to_string().contains(&key),
        "the key itself is never listed"
    );
    assert_eq!(listed["keys"][0]["name"], "web");

    let (code, err) = cli.json(&["deploy", "promote", "3"]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("only Approved versions"));
    let (code, err) = cli.json(&["deploy", "rollback"]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing is deployed"));

    let (code, promoted) = cli.json(&["deploy", "promote", "1"]);
    assert_eq!(code, 0, "{promoted}");
    assert_eq!(promoted["endpoint"]["serving"]["version"], 1);
    let (code, err) = cli.json(&["deploy", "promote", "1"]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("version 1 is already deployed"));
    let (code, err) = cli.json(&["deploy", "rollback"]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is the first deployment"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let card: Value = cli.json(&["models", "show", "1"]).1;
    let record = tablero_conformance::typical_record(&card);
    assert!(!record.is_empty());
    let body = serde_json::json!({"records": [record]}).to_string();
    let mut resp = agent
        .post(format!("{url}/v1/predict"))
        .header("x-api-key", &key)
        .send(body.as_str())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let reply: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(reply["model_version"], 1);

    assert_eq!(
        cli.json(&["deploy", "promote", "2"]).1["endpoint"]["serving"]["version"],
        2
    );
    let (_, status) = cli.json(&["deploy", "status"]);
    assert_eq!(status["deployed"]["version"], 2);
    assert_eq!(
        status["endpoint"]["serving"]["version"], 2,
        "read from the endpoint itself"
    );
    let (code, rolled) = cli.json(&["deploy", "rollback"]);
    assert_eq!(code, 0);
    assert_eq!(rolled["deployment"]["version"], 1);
    assert_eq!(rolled["endpoint"]["serving"]["version"], 1);
    let (_, history) = cli.json(&["deploy", "history"]);
    let actions: Vec<(&str, u64)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["action"].as_str().unwrap(),
                d["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![("rollback", 1), ("promote", 2), ("promote", 1)]
    );

    assert_eq!(cli.json(&["keys", "revoke", "web"]).0, 0);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let resp = agent
        .post(format!("{url}/v1/predict"))
        .header("x-api-key", &key)
        .send(body.as_str())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401, "a revoked key is refused");

    let (code, stopped) = cli.json(&["endpoint", "stop"]);
    assert_eq!(code, 0);
    assert_eq!(stopped["stopped"], true);
    // One JSON line per request: key name, route, status, latency, model
    // version — and never the key itself.
    let log = std::fs::read_to_string(cli.ws().join("logs/endpoint.log")).unwrap();
    assert!(!log.contains(&key), "the key leaked into the log");
    let requests: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let fields: Vec<(&str, &str, u64, Option<u64>)> = requests
        .iter()
        .map(|l| {
            let f = &l["fields"];
            assert!(f["latency_ms"].as_f64().unwrap() >= 0.0, "{l}");
            (
                f["key"].as_str().unwrap(),
                f["route"].as_str().unwrap(),
                f["status"].as_u64().unwrap(),
                f["model_version"].as_u64(),
            )
        })
        .collect();
    assert!(
        fields.contains(&("web", "/v1/predict", 200, Some(1))),
        "{fields:?}"
    );
    assert_eq!(
        fields.last(),
        Some(&("-", "/v1/predict", 401, None)),
        "the revoked key's request is logged without a name"
    );
    // The endpoint wrote its last metrics window when it stopped.
    let (code, metrics) = cli.json(&["monitor", "metrics", "--since", "1h"]);
    assert_eq!(code, 0);
    assert!(metrics["requests"].as_u64().unwrap() >= 2, "{metrics}");
    assert!(metrics["windows"][0]["p99_ms"].as_f64().is_some());
    let (code, err) = cli.json(&["monitor", "metrics", "--endpoint", "prod"]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`local`"));
    let (code, drift) = cli.json(&["monitor", "drift", "--since", "1h", "--version", "1"]);
    assert_eq!(code, 0, "{drift}");
    let features = drift["features"].as_array().unwrap();
    assert!(features.iter().any(|f| f["feature"] == "Recency"));
    assert!(features.iter().all(|f| f["psi"].as_f64().unwrap() >= 0.0));
    let (code, alarms) = cli.json(&["monitor", "alarms"]);
    assert_eq!(code, 0);
    let rules: Vec<&str> = alarms["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["feature_drift", "error_rate", "latency_p99"]);
    assert_eq!(alarms["rules"]["feature_psi"], 0.25);
    assert_eq!(cli.json(&["endpoint", "status"]).1["running"], false);

    // Promotion diff: v2 against v1 in production and the live sample.
    let (code, diff) = cli.json(&["deploy", "diff", "2", "--since", "1h"]);
    assert_eq!(code, 0, "{diff}");
    assert_eq!(diff["candidate"]["version"], 2);
    assert_eq!(diff["production"]["version"], 1);
    // One record was scored before the key was revoked: too few to judge.
    assert_eq!(diff["drift"]["live_records"], 1, "{diff}");
    assert_eq!(diff["drift"]["enough"], false);
    let auc = diff["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["metric"] == "holdout.auc")
        .unwrap();
    assert!(auc["delta"].is_number());

    // Reports: charts as SVG and PNG.
    let out = cli.dir.path().join("report");
    let (code, rep) = cli.json(&["report", "1,2", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{rep}");
    for name in [
        "roc",
        "metrics",
        "confusion_v1",
        "confusion_v2",
        "importance_v2",
    ] {
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{name}");
        let png = std::fs::read(out.join(format!("{name}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}");
    }
    let roc = std::fs::read_to_string(out.join("roc.svg")).unwrap();
    assert!(
        roc.contains("v1 ") && roc.contains("v2 "),
        "both versions overlaid"
    );
    let (code, rep) = cli.json(&[
        "report",
        "endpoint",
        "--since",
        "1h",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{rep}");
    assert_eq!(rep["files"].as_array().unwrap().len(), 8);
    assert!(out.join("drift.png").exists() && out.join("latency.svg").exists());
    let (code, err) = cli.json(&["report", "latest", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("endpoint"));
    let (_, audit) = cli.json(&["audit", "--since", "1h"]);
    let acts: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "endpoint.start",
        "key.create",
        "deploy.promote",
        "deploy.rollback",
        "key.revoke",
        "endpoint.stop",
    ] {
        assert!(acts.contains(&a), "audit lacks {a}: {acts:?}");
    }
}

#[test]
fn demo_runs_the_whole_product_on_a_fresh_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tablero"))
            .arg("--workspace")
            .arg(&ws)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    struct Stop<'a>(&'a dyn Fn(&[&str]) -> Output);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = (self.0)(&["endpoint", "stop"]);
        }
    }
    let _stop = Stop(&run);
    let out = run(&["demo", "--seconds", "3", "--port", "0", "--json"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    // Its JSON contract (see tests/shapes.rs).
    let mut contract = tablero_conformance::shape::Contract::named("cli-demo");
    contract.reply("demo", &v);
    contract.check();
    assert_eq!(v["version"], 1);
    assert_eq!(v["approved_by"], "demo-lead");
    assert_eq!(v["leaderboard"].as_array().unwrap().len(), 7);
    assert!(v["traffic"]["requests"].as_u64().unwrap() > 10);
    assert_eq!(v["traffic"]["requests"], v["traffic"]["succeeded"]);
    assert_eq!(
        v["drift"][0]["feature"], "Recency",
        "the drifted segment shows: {}",
        v["drift"]
    );
    let alarms = v["alarms"].as_array().unwrap();
    assert!(
        alarms
            .iter()
            .any(|a| a["rule"] == "feature_drift" && a["state"] == "ALARM"),
        "{alarms:?}"
    );
    let charts = std::path::PathBuf::from(v["charts"].as_str().unwrap());
    for name in [
        "roc",
        "leaderboard",
        "requests",
        "latency",
        "score",
        "drift",
    ] {
        assert!(charts.join(format!("{name}.svg")).exists(), "{name}.svg");
        assert!(charts.join(format!("{name}.png")).exists(), "{name}.png");
    }
    // The demo refuses a workspace that is not fresh.
    let again = run(&["demo", "--seconds", "1", "--port", "0", "--json"]);
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn the_backend_is_chosen_by_flag_environment_or_workspace_and_unknown_ones_are_refused() {
    let cli = Cli::new();
    let (code, init) = cli.json(&["init"]);
    assert_eq!(code, 0);
    assert_eq!(init["backend"], "local");
    let config = std::fs::read_to_string(cli.ws().join("tablero.toml")).unwrap();
    assert!(config.contains("[backend]\nkind = \"local\""), "{config}");
    assert_eq!(cli.json(&["data", "ls", "raw", "--backend", "local"]).0, 0);

    // An unknown kind, from the flag or the environment, is refused in words.
    let (code, err) = cli.json(&["data", "ls", "raw", "--backend", "cloud"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["kind"], "refused");
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("unknown backend \"cloud\" (--backend)") && msg.contains("local"),
        "{msg}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tablero"))
        .args(["data", "ls", "raw", "--json"])
        .env("TABLERO_WORKSPACE", cli.ws())
        .env("TABLERO_BACKEND", "cloud")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("(TABLERO_BACKEND)"));

    // The workspace's own choice, and a file without [backend] means local.
    std::fs::write(
        cli.ws().join("tablero.toml"),
        config.replace("kind = \"local\"", "kind = \"cloud\""),
    )
    .unwrap();
    let (code, err) = cli.json(&["data", "ls", "raw"]);
    assert_eq!(code, 1);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("[backend] kind in"));
    // The flag wins over the file.
    assert_eq!(cli.json(&["data", "ls", "raw", "--backend", "local"]).0, 0);
    std::fs::write(
        cli.ws().join("tablero.toml"),
        config.replace("[backend]\nkind = \"local\"\n", ""),
    )
    .unwrap();
    assert_eq!(cli.json(&["data", "ls", "raw"]).0, 0);
}
