//! The local endpoint's lifecycle: it runs as its own process (it survives
//! the panel or terminal that started it); callers talk to it over loopback
//! with the admin token it writes to `<workspace>/endpoint.json`. Used by the
//! CLI (`tablero endpoint …`, `deploy …`) and the desktop app.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tablero_local::config::Role;
use tablero_local::{Error, Workspace};

type Result<T> = std::result::Result<T, Error>;

fn refused(message: impl Into<String>) -> Error {
    Error::Refused(message.into())
}

/// How to run the server as a process: a program and the arguments before
/// `--port N --metrics-interval S` (e.g. `tablero --workspace W endpoint serve`).
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The executable.
    pub program: PathBuf,
    /// Its leading arguments.
    pub args: Vec<OsString>,
}

impl Launcher {
    /// This executable with the given leading arguments.
    pub fn this_program(args: Vec<OsString>) -> Result<Launcher> {
        let program = std::env::current_exe()
            .map_err(|e| refused(format!("cannot find this program: {e}")))?;
        Ok(Launcher { program, args })
    }
}

/// What the running endpoint wrote about itself.
pub struct Running {
    /// Base URL on loopback.
    pub url: String,
    /// Admin token.
    pub token: String,
    /// Process id.
    pub pid: u64,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// The endpoint, if one is running and answers.
pub fn running(root: &Path) -> Option<Running> {
    let text = std::fs::read_to_string(root.join("endpoint.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let r = Running {
        url: v["url"].as_str()?.to_string(),
        token: v["admin_token"].as_str()?.to_string(),
        pid: v["pid"].as_u64()?,
    };
    let resp = agent().get(format!("{}/healthz", r.url)).call().ok()?;
    resp.status().is_success().then_some(r)
}

fn admin(r: &Running, method: &str, path: &str) -> Result<Value> {
    let url = format!("{}{path}", r.url);
    let resp = if method == "POST" {
        agent()
            .post(&url)
            .header("x-admin-token", &r.token)
            .send("")
    } else {
        agent().get(&url).header("x-admin-token", &r.token).call()
    };
    let mut resp =
        resp.map_err(|e| refused(format!("the endpoint at {} did not answer: {e}", r.url)))?;
    let status = resp.status();
    let body: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(refused(format!(
            "the endpoint refused {path}: {status} {body}"
        )));
    }
    Ok(body)
}

/// Asks a running endpoint to load the deployed version; `None` when no
/// endpoint runs.
pub fn notify(root: &Path) -> Result<Option<Value>> {
    match running(root) {
        Some(r) => admin(&r, "POST", "/admin/reload").map(Some),
        None => Ok(None),
    }
}

/// Starts the endpoint and waits until it answers.
pub fn start(
    ws: &Workspace,
    launcher: &Launcher,
    port: u16,
    metrics_interval: u64,
) -> Result<Value> {
    ws.require_role(Role::Ops, "start the endpoint")?;
    let root = ws.root();
    if let Some(r) = running(root) {
        return Err(refused(format!(
            "the endpoint is already running at {} (pid {})",
            r.url, r.pid
        )));
    }
    let _ = std::fs::remove_file(root.join("endpoint.json"));
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| refused(format!("{}: {e}", logs.display())))?;
    let log_path = logs.join("endpoint.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| refused(format!("{}: {e}", log_path.display())))?;
    let err_log = log.try_clone().map_err(|e| refused(e.to_string()))?;
    let mut cmd = std::process::Command::new(&launcher.program);
    cmd.args(&launcher.args)
        .arg("--port")
        .arg(port.to_string())
        .arg("--metrics-interval")
        .arg(metrics_interval.max(1).to_string())
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err_log);
    #[cfg(unix)]
    {
        // Its own process group: closing the terminal or Ctrl-C here does not stop it.
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| refused(format!("cannot start tablero-serve: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(r) = running(root) {
            let status = admin(&r, "GET", "/admin/status")?;
            ws.record("endpoint.start", "local", None, Some(&r.url))?;
            return Ok(
                json!({"running": true, "url": r.url, "pid": r.pid, "serving": status["serving"], "log": log_path}),
            );
        }
        if let Ok(Some(exit)) = child.try_wait() {
            return Err(refused(format!(
                "the endpoint exited ({exit}) before answering; see {}",
                log_path.display()
            )));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(refused(format!(
                "tablero-serve did not answer within 20 s; see {}",
                log_path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the endpoint; in-flight requests finish first.
pub fn stop(ws: &Workspace) -> Result<Value> {
    ws.require_role(Role::Ops, "stop the endpoint")?;
    let Some(r) = running(ws.root()) else {
        return Ok(json!({"running": false, "stopped": false}));
    };
    admin(&r, "POST", "/admin/shutdown")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while running(ws.root()).is_some() {
        if Instant::now() > deadline {
            return Err(refused(format!(
                "the endpoint (pid {}) did not stop within 15 s",
                r.pid
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ws.record("endpoint.stop", "local", Some(&r.url), None)?;
    Ok(json!({"running": false, "stopped": true, "url": r.url}))
}

/// The endpoint's own view: running, URL, what it serves, uptime.
pub fn status(root: &Path) -> Result<Value> {
    match running(root) {
        Some(r) => {
            let s = admin(&r, "GET", "/admin/status")?;
            Ok(
                json!({"running": true, "url": r.url, "pid": r.pid, "serving": s["serving"], "uptime_seconds": s["uptime_seconds"]}),
            )
        }
        None => Ok(json!({"running": false, "serving": null})),
    }
}
