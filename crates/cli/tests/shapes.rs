//! The CLI's JSON contract: the shape (keys and value types, recursively)
//! of a reply of every command, recorded in `tests/shapes/cli.json`. Keys
//! may be added, never removed or retyped (a deliberate contract change is
//! recorded anew with `TABLERO_BLESS_SHAPES=1` and documented in
//! docs/cli.md). The demo's reply is checked by the demo test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tablero_conformance::shape::Contract;

struct Scenario {
    dir: tempfile::TempDir,
    contract: Contract,
}

impl Scenario {
    fn ws(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    /// Runs `tablero ARGS --json` and records the reply's shape as `name`.
    fn reply(&mut self, name: &str, args: &[&str]) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_tablero"))
            .args(args)
            .arg("--json")
            .env("TABLERO_WORKSPACE", self.ws())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not one JSON document ({e}): {text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        self.contract.reply(name, &doc);
        doc
    }

    /// As [`Scenario::reply`], and the command must succeed.
    fn ok(&mut self, name: &str, args: &[&str]) -> Value {
        let doc = self.reply(name, args);
        let refused = doc.as_object().is_some_and(|o| o.len() == 1) && doc["error"].is_object();
        assert!(!refused, "{args:?}: {doc}");
        doc
    }
}

struct StopEndpoint(PathBuf);

impl Drop for StopEndpoint {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_tablero"))
            .args(["endpoint", "stop"])
            .env("TABLERO_WORKSPACE", &self.0)
            .output();
    }
}

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv")
        .display()
        .to_string()
}

#[test]
fn every_command_keeps_its_json_shape() {
    let mut s = Scenario {
        dir: tempfile::tempdir().unwrap(),
        contract: Contract::named("cli"),
    };
    let init = s.ok("init", &["init"]);
    let me = init["user"].as_str().unwrap().to_string();
    std::fs::write(
        s.ws().join("tablero.toml"),
        format!(
            "[roles]\n\"{me}\" = [\"analyst\", \"ml_lead\", \"ops\"]\nlead = [\"ml_lead\"]\n\
             [policy]\nfour_eyes = true\nallow_as = true\n"
        ),
    )
    .unwrap();
    let sample = sample();
    let out = s.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();

    // Data.
    s.ok(
        "data upload",
        &["data", "upload", &sample, "--key", "s.csv"],
    );
    s.ok("data ls", &["data", "ls", "raw"]);
    s.ok(
        "data ls",
        &["data", "ls", "raw", "--page-size", "1", "--page-token", "a"],
    );
    s.ok(
        "data preview",
        &["data", "preview", "raw", "s.csv", "--rows", "3"],
    );
    let csv = out.join("s.csv");
    s.ok(
        "data get",
        &[
            "data",
            "get",
            "raw",
            "s.csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    );

    // Pipeline.
    s.ok("etl clean", &["etl", "clean", "s.csv"]);
    s.ok(
        "etl features",
        &["etl", "features", "s/transactions.parquet"],
    );
    s.ok(
        "data preview",
        &[
            "data",
            "preview",
            "clean",
            "s/features.parquet",
            "--rows",
            "3",
        ],
    );
    for candidates in ["lr", "nb", "tree"] {
        s.ok(
            "train",
            &[
                "train",
                "s/features.parquet",
                "--folds",
                "3",
                "--candidates",
                candidates,
            ],
        );
    }
    s.ok("jobs ls", &["jobs", "ls"]);
    s.ok("jobs show", &["jobs", "show", "job-000001"]);
    let refused = s.reply("jobs cancel", &["jobs", "cancel", "job-000001"]);
    assert_eq!(refused["error"]["kind"], "refused", "{refused}");

    // Models.
    s.ok("models ls", &["models", "ls"]);
    s.ok("models show", &["models", "show", "1"]);
    s.ok("models compare", &["models", "compare", "1", "2"]);
    s.ok(
        "models approve",
        &["models", "approve", "1", "--comment", "ok", "--as", "lead"],
    );
    s.ok(
        "models approve",
        &["models", "approve", "2", "--comment", "ok", "--as", "lead"],
    );
    s.ok(
        "models reject",
        &["models", "reject", "3", "--comment", "no", "--as", "lead"],
    );
    s.ok("policy four-eyes", &["policy", "four-eyes", "on"]);
    let charts = out.join("charts");
    s.ok(
        "report",
        &["report", "1,2", "--out", charts.to_str().unwrap()],
    );

    // Endpoint, keys, deployments.
    let created = s.ok("keys create", &["keys", "create", "--name", "web"]);
    let key = created["key"].as_str().unwrap().to_string();
    s.ok("keys ls", &["keys", "ls"]);
    s.ok("endpoint status", &["endpoint", "status"]);
    let started = s.ok(
        "endpoint start",
        &[
            "endpoint",
            "start",
            "--port",
            "0",
            "--metrics-interval",
            "1",
        ],
    );
    let _stop = StopEndpoint(s.ws());
    let url = started["url"].as_str().unwrap().to_string();
    s.ok("endpoint status", &["endpoint", "status"]);
    s.ok("deploy status", &["deploy", "status"]);
    s.ok("deploy diff", &["deploy", "diff", "1"]);
    s.ok("deploy promote", &["deploy", "promote", "1"]);
    s.ok("deploy promote", &["deploy", "promote", "2"]);
    s.ok("deploy rollback", &["deploy", "rollback"]);
    s.ok("deploy status", &["deploy", "status"]);
    s.ok("deploy history", &["deploy", "history"]);

    // Traffic, then what the endpoint saw.
    let card = s.ok("models show", &["models", "show", "1"]);
    tablero_conformance::send_typical_traffic(&url, &key, &card, 5);
    // Windows of one second: wait for the endpoint to write them.
    let mut seen = false;
    for _ in 0..100 {
        let m = s.ok("monitor metrics", &["monitor", "metrics", "--since", "1h"]);
        if m["requests"].as_u64().unwrap_or(0) >= 5 {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(seen, "the endpoint wrote its metrics");
    s.ok("monitor drift", &["monitor", "drift", "--since", "1h"]);
    s.ok("monitor alarms", &["monitor", "alarms"]);
    s.ok("deploy diff", &["deploy", "diff", "2", "--since", "1h"]);
    let endpoint_charts = out.join("endpoint");
    s.ok(
        "report",
        &[
            "report",
            "endpoint",
            "--out",
            endpoint_charts.to_str().unwrap(),
        ],
    );
    s.ok("keys revoke", &["keys", "revoke", "web"]);
    s.ok("endpoint stop", &["endpoint", "stop"]);

    // Deletion and undo, the audit log.
    let rm = s.ok("data rm", &["data", "rm", "raw", "s.csv", "--yes"]);
    s.ok("data trash", &["data", "trash"]);
    let id = rm["trash_id"].as_str().unwrap().to_string();
    s.ok("data restore", &["data", "restore", &id]);
    s.ok("audit", &["audit", "--since", "1h"]);

    // The error envelope, for a refusal and for bad usage.
    s.reply("error", &["models", "show", "99"]);
    s.reply("error", &["data", "ls", "nowhere"]);
    s.contract.check();
}
