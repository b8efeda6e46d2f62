//! The desktop app's IPC contract: the shape (keys and value types,
//! recursively) of a reply of every command, through Tauri's real IPC
//! path (the mock runtime, no window), recorded in
//! `tests/shapes/desktop.json`. Keys may be added, never removed or
//! retyped (a deliberate change is recorded anew with
//! `TABLERO_BLESS_SHAPES=1` and documented in docs/desktop.md).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tablero_conformance::shape::Contract;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

struct Scenario {
    webview: WebviewWindow<MockRuntime>,
    contract: Contract,
}

impl Scenario {
    /// Invokes `cmd` with `args` and records the reply's (or the
    /// refusal's) shape under the command's name.
    fn call(&mut self, cmd: &str, args: Value) -> Result<Value, Value> {
        let reply = get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap());
        match &reply {
            Ok(v) => self.contract.reply(cmd, v),
            Err(e) => self.contract.reply(&format!("{cmd} (refused)"), e),
        }
        reply
    }

    fn ok(&mut self, cmd: &str, args: Value) -> Value {
        match self.call(cmd, args) {
            Ok(v) => v,
            Err(e) => panic!("{cmd}: {e}"),
        }
    }

    /// Waits for a job started by a command to end; returns `job_show`.
    fn finish(&mut self, started: &Value) -> Value {
        let id = started["job_id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let shown = self.ok("job_show", json!({ "id": id }));
            let status = shown["job"]["status"].as_str().unwrap().to_string();
            if matches!(status.as_str(), "succeeded" | "failed" | "cancelled") {
                return shown;
            }
            assert!(Instant::now() < deadline, "{id} did not end: {shown}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn succeed(&mut self, started: &Value) -> Value {
        let shown = self.finish(started);
        assert_eq!(shown["job"]["status"], "succeeded", "{shown}");
        shown
    }
}

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/sample/online_retail_sample.csv")
        .display()
        .to_string()
}

/// Stops the endpoint the scenario started, whatever happens.
struct StopEndpoint(PathBuf);

impl Drop for StopEndpoint {
    fn drop(&mut self) {
        if let Ok(text) = std::fs::read_to_string(self.0.join("endpoint.json")) {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                if let Some(pid) = v["pid"].as_u64() {
                    let _ = std::process::Command::new("kill")
                        .arg(pid.to_string())
                        .status();
                }
            }
        }
    }
}

#[test]
fn every_command_keeps_its_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    // The panel starts on one workspace; the scenario opens a new one.
    let first = dir.path().join("first");
    tablero_desktop::backend::init(&first).unwrap();
    let panel = tablero_desktop::commands::Panel::open(
        first,
        PathBuf::from(env!("CARGO_BIN_EXE_tablero-desktop")),
        None,
    )
    .unwrap();
    let app = tablero_desktop::with_commands(mock_builder())
        .manage(panel)
        .build(mock_context(noop_assets()))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let mut s = Scenario {
        webview,
        contract: Contract::named("desktop"),
    };

    // Session: a new workspace, a second ML lead, users may switch.
    let session = s.ok("workspace_open", json!({ "path": root }));
    let me = session["user"].as_str().unwrap().to_string();
    std::fs::write(
        root.join("tablero.toml"),
        format!(
            "[roles]\n\"{me}\" = [\"analyst\", \"ml_lead\", \"ops\"]\nlead = [\"ml_lead\"]\n\
             [policy]\nfour_eyes = true\nallow_as = true\n"
        ),
    )
    .unwrap();
    s.ok("session", json!({}));
    s.ok("settings", json!({}));

    // Data.
    let sample = sample();
    s.ok("data_inspect", json!({ "path": sample }));
    s.ok("data_upload", json!({ "path": sample, "key": "s.csv" }));
    s.ok("data_upload_cancel", json!({ "path": sample }));
    s.ok("data_list", json!({ "bucket": "raw" }));
    s.ok(
        "data_preview",
        json!({ "bucket": "raw", "key": "s.csv", "rows": 3 }),
    );

    // Pipeline.
    s.ok("training_options", json!({}));
    let started = s.ok("etl_clean", json!({ "rawKey": "s.csv" }));
    s.succeed(&started);
    let started = s.ok(
        "etl_features",
        json!({ "cleanKey": "s/transactions.parquet" }),
    );
    s.succeed(&started);
    s.ok(
        "data_preview",
        json!({ "bucket": "clean", "key": "s/features.parquet", "rows": 3 }),
    );
    for candidate in ["lr", "nb", "tree"] {
        let started = s.ok(
            "train",
            json!({ "featuresKey": "s/features.parquet", "folds": 3, "candidates": [candidate] }),
        );
        s.succeed(&started);
    }
    // A full leaderboard takes seconds: cancelled at once, it registers nothing.
    let started = s.ok("train", json!({ "featuresKey": "s/features.parquet" }));
    let id = started["job_id"].as_str().unwrap().to_string();
    s.ok("job_cancel", json!({ "id": id }));
    assert_eq!(s.finish(&started)["job"]["status"], "cancelled");
    s.ok("jobs_list", json!({}));

    // Models.
    s.ok("models_list", json!({}));
    s.ok("model_show", json!({ "version": 1 }));
    s.ok("models_compare", json!({ "versions": [1, 2] }));
    s.ok("model_actions", json!({ "version": 1 }));
    s.ok("switch_user", json!({ "name": "lead" }));
    s.ok("notifications", json!({}));
    s.ok("model_actions", json!({ "version": 1 }));
    s.ok("model_approve", json!({ "version": 1, "comment": "ok" }));
    s.ok("model_approve", json!({ "version": 2, "comment": "ok" }));
    s.ok("model_reject", json!({ "version": 3, "comment": "no" }));
    s.ok("switch_user", json!({ "name": me }));

    // Deploy (keys are made with the CLI; here, with the library).
    let key = {
        use tablero_core::ports::ApiKeys;
        let ws = tablero_local::Workspace::open(&root).unwrap();
        ws.create_key("web", 1000.0).unwrap()
    };
    s.ok("endpoint_status", json!({}));
    let started = s.ok("endpoint_start", json!({ "port": 0, "metricsInterval": 1 }));
    let _stop = StopEndpoint(root.clone());
    let url = started["url"].as_str().unwrap().to_string();
    s.ok("endpoint_status", json!({}));
    s.ok("promotion_diff", json!({ "version": 1 }));
    s.ok("deploy_promote", json!({ "version": 1 }));
    s.ok("deploy_promote", json!({ "version": 2 }));
    s.ok("deploy_rollback", json!({}));
    s.ok("deploy_history", json!({}));

    // Traffic.
    let card = s.ok("model_show", json!({ "version": 1 }));
    tablero_conformance::send_typical_traffic(&url, &key, &card, 5);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = s.ok("monitor", json!({ "range": "1h" }));
        if m["requests"].as_u64().unwrap_or(0) >= 5 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the endpoint wrote no metrics: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.ok("promotion_diff", json!({ "version": 2 }));
    let png = dir.path().join("latency.png");
    s.ok(
        "export_chart_png",
        json!({ "chart": "latency", "range": "1h", "path": png }),
    );
    s.ok("notifications", json!({}));
    s.ok("endpoint_stop", json!({}));

    // Deletion and undo.
    let trashed = s.ok("data_delete", json!({ "bucket": "raw", "key": "s.csv" }));
    s.ok("data_trash", json!({}));
    s.ok("data_restore", json!({ "id": trashed["id"] }));

    // A refusal.
    assert!(s.call("model_show", json!({ "version": 99 })).is_err());
    s.contract.check();
}
