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
