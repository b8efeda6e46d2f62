//! The endpoint in its container, against moto: a promotion writes a task
//! definition revision whose `MODEL_URI` names the artifact in the models
//! bucket; `tablero-serve` started with that environment (no workspace,
//! keys trusted to API Gateway, EMF metrics on stdout) serves predictions
//! identical to the workspace's endpoint for the same version and request,
//! and every metrics line it prints validates as EMF.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use support::{admin_credentials, AwsHarness, Moto};
use tablero_aws::Clients;
use tablero_conformance::suite::{features, train, Harness, Persona};
use tablero_core::train::dataset::FeatureSpec;
use tablero_core::train::models::Algorithm;

/// `tablero-serve` of this build (the AWS test build makes it with the
/// AWS backend: scripts/setup.sh's TABLERO_AWS_BUILD).
fn serve_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("tablero-serve");
    assert!(
        bin.exists(),
        "{} is not built: run the tests with $TABLERO_AWS_BUILD (scripts/setup.sh)",
        bin.display()
    );
    bin
}

/// A running endpoint: its URL (from its "listening" log line) and the
/// lines it printed.
struct Running {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(mut cmd: Command) -> Running {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take();
    let (tx, rx) = mpsc::channel();
    // Killed and waited for when dropped, a failed start included.
    let mut running = Running {
        child,
        url: String::new(),
        lines: rx,
    };
    std::thread::spawn(move || {
        let Some(stdout) = stdout else { return };
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while running.url.is_empty() {
        let line = running
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the endpoint says where it listens");
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if v["fields"]["message"] == "listening" {
                running.url = v["fields"]["url"].as_str().unwrap().to_string();
            }
        }
    }
    running
}

fn post(url: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = agent
        .post(format!("{url}/v1/predict"))
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let mut resp = req.send(body.to_string()).unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    (
        resp.status().as_u16(),
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn the_container_serves_the_promoted_version_as_the_workspace_endpoint_does() {
    let moto = Moto::shared();
    let h = AwsHarness::new();
    let trainer = h.backend(Persona::Trainer);
    let v = train(&trainer, &features(&trainer), Algorithm::Forest);
    tablero_app::models::approve(&h.backend(Persona::Approver), "default", v, "ok", false).unwrap();
    let ops = h.backend(Persona::Ops);
    tablero_app::deploy::promote(&ops, "default", v, &|_| {}).unwrap();
    let endpoint = h.cfg.endpoint.clone().unwrap();

    // The revision the service runs names the artifact and the version.
    let admin = Clients::new(&h.cfg, Some(admin_credentials())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let env: Vec<(String, String)> = rt.block_on(async {
        let s = admin
            .ecs
            .describe_services()
            .cluster(&endpoint.cluster)
            .services(&endpoint.service)
            .send()
            .await
            .unwrap();
        let arn = s.services()[0].task_definition().unwrap().to_string();
        let td = admin
            .ecs
            .describe_task_definition()
            .task_definition(&arn)
            .send()
            .await
            .unwrap();
        td.task_definition().unwrap().container_definitions()[0]
            .environment()
            .iter()
            .map(|e| {
                (
                    e.name().unwrap().to_string(),
                    e.value().unwrap_or_default().to_string(),
                )
            })
            .collect()
    });
    let var = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let artifact = ops.registry.version("default", v).unwrap().artifact.key;
    assert_eq!(
        var("MODEL_URI"),
        format!("s3://{}/{artifact}", h.cfg.buckets.models)
    );
    assert_eq!(var("MODEL_VERSION"), format!("default/v{v}"));
    assert_eq!(
        var("TABLERO_AUTH"),
        "gateway",
        "the other variables are kept"
    );

    // Records over the model's features.
    let schema = ops.registry.artifact("default", v).unwrap().feature_schema;
    let records: Vec<Value> = (0..5)
        .map(|i| {
            let mut r = serde_json::Map::new();
            for f in &schema {
                let value = match f {
                    FeatureSpec::Numeric { .. } => json!(1.5 * f64::from(i) + 0.25),
                    FeatureSpec::Categorical { categories, .. } => {
                        json!(categories
                            .get(i as usize % categories.len().max(1))
                            .cloned()
                            .unwrap_or_default())
                    }
                };
                r.insert(f.name().to_string(), value);
            }
            Value::Object(r)
        })
        .collect();
    let request = json!({ "records": records });

    // The container: its environment only.
    let creds = admin_credentials();
    let mut container = Command::new(serve_binary());
    container
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--metrics-interval",
            "1",
        ])
        .env_remove("TABLERO_WORKSPACE")
        .env_remove("TABLERO_BACKEND")
        .env("MODEL_URI", var("MODEL_URI"))
        .env("MODEL_VERSION", var("MODEL_VERSION"))
        .env("TABLERO_AUTH", "gateway")
        .env("TABLERO_METRICS", "emf")
        .env("TABLERO_ENDPOINT", &endpoint.name)
        .env(
            "TABLERO_LIVE_SAMPLE_URI",
            format!(
                "s3://{}/{}",
                h.cfg.buckets.models,
                endpoint.live_sample_prefix()
            ),
        )
        .env("AWS_REGION", support::REGION)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOSTNAME", "task-1");
    let container = start(container);

    // The workspace's endpoint on the AWS backend: the deployed version
    // from the ECS service, the model from the registry, keys from API
    // Gateway.
    let key = tablero_app::keys::create(&ops, "container-test", 100.0)
        .unwrap()
        .key;
    let mut workspace = Command::new(serve_binary());
    workspace
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--metrics-interval",
            "60",
        ])
        .env("TABLERO_WORKSPACE", &h.root)
        .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let local = start(workspace);

    let (status, from_local) = post(&local.url, Some(&key), &request);
    assert_eq!(status, 200, "{from_local}");
    let (status, from_container) = post(&container.url, None, &request);
    assert_eq!(status, 200, "{from_container}");
    assert_eq!(from_container["predictions"], from_local["predictions"]);
    assert_eq!(from_container["model_version"], from_local["model_version"]);
    assert_eq!(from_container["predictions"].as_array().unwrap().len(), 5);
    // Without a workspace the gateway checked the key: none is asked here.
    let health = ureq::get(&format!("{}/healthz", container.url))
        .call()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);

    // Its metrics: one EMF line per window on stdout, valid, with the
    // requests above and the window's largest feature PSI.
    let mut emf_lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while emf_lines.is_empty() && std::time::Instant::now() < deadline {
        if let Ok(line) = container.lines.recv_timeout(Duration::from_secs(1)) {
            if line.contains("\"_aws\"") {
                emf_lines.push(line);
            }
        }
    }
    assert!(!emf_lines.is_empty(), "no EMF line within 30 s");
    let doc = tablero_core::emf::parse(&emf_lines[0]).expect("valid EMF");
    let window = doc.window.unwrap();
    assert_eq!((window.requests, window.predictions), (1, 5));
    assert_eq!(window.endpoint, endpoint.name);
    let names: Vec<&str> = doc.directives[0]
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    for m in [
        "Requests",
        "Errors",
        "Predictions",
        "Positives",
        "Latency",
        "MaxFeaturePSI",
    ] {
        assert!(names.contains(&m), "{m} in {names:?}");
    }
    // The live sample is in the models bucket, where the monitor reads it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = ops.monitor.live_sample(None).unwrap().len();
        if n == 5 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "live sample of {n} records"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
