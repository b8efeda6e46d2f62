//! The local endpoint's lifecycle: it runs as its own process (it survives
//! the panel or terminal that started it); the workspace talks to it over
//! loopback with the admin token it writes to `<workspace>/endpoint.json`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tablero_core::ports::{AuditEvent, EndpointOptions, EndpointStatus, EndpointStopped, Serving};

use crate::error::{Error, Result};
use crate::workspace::Workspace;

fn refused(message: impl Into<String>) -> Error {
    Error::Refused(message.into())
}

/// How to run the endpoint as a process: a program and the arguments
/// before `--port N --host H --metrics-interval S` (e.g. `tablero
/// --workspace W endpoint serve`).
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The executable.
    pub program: PathBuf,
    /// Its leading arguments.
    pub args: Vec<OsString>,
}

/// The file in which a running endpoint records itself.
pub fn state_file(root: &Path) -> PathBuf {
    root.join("endpoint.json")
}

/// What the running endpoint wrote about itself.
struct Running {
    url: String,
    token: String,
    pid: u64,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// The endpoint, if one is running and answers.
fn running(root: &Path) -> Option<Running> {
    let text = std::fs::read_to_string(state_file(root)).ok()?;
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

fn serving(v: &Value) -> Option<Serving> {
    Some(Serving {
        group: v["group"].as_str()?.to_string(),
        version: u32::try_from(v["version"].as_u64()?).ok()?,
    })
}

/// Asks a running endpoint to load the deployed version: what it serves
/// then, `None` when no endpoint runs.
pub(crate) fn notify(root: &Path) -> Result<Option<Option<Serving>>> {
    match running(root) {
        Some(r) => admin(&r, "POST", "/admin/reload").map(|v| Some(serving(&v["serving"]))),
        None => Ok(None),
    }
}

impl Workspace {
    /// Starts the endpoint and waits until it answers.
    pub(crate) fn start(&self, options: &EndpointOptions) -> Result<EndpointStatus> {
        let Some(launcher) = self.launcher() else {
            return Err(Error::Port(tablero_core::ports::BackendError::unsupported(
                "starting the endpoint from this program",
                "start it with `tablero endpoint start` or from the desktop panel",
            )));
        };
        let root = self.root();
        if let Some(r) = running(root) {
            return Err(refused(format!(
                "the endpoint is already running at {} (pid {})",
                r.url, r.pid
            )));
        }
        let _ = std::fs::remove_file(state_file(root));
        let logs = root.join("logs");
        std::fs::create_dir_all(&logs).map_err(Error::io(&logs))?;
        let log_path = logs.join("endpoint.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(Error::io(&log_path))?;
        let err_log = log.try_clone().map_err(Error::io(&log_path))?;
        let mut cmd = std::process::Command::new(&launcher.program);
        cmd.args(&launcher.args)
            .arg("--port")
            .arg(options.port.to_string())
            .arg("--host")
            .arg(&options.host)
            .arg("--metrics-interval")
            .arg(options.metrics_interval.max(1).to_string())
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
                self.audit(&AuditEvent::new("endpoint.start", "local").after(&r.url))?;
                return Ok(EndpointStatus {
                    running: true,
                    url: Some(r.url),
                    pid: Some(r.pid),
                    serving: serving(&status["serving"]),
                    uptime_seconds: status["uptime_seconds"].as_u64(),
                    log: Some(log_path.display().to_string()),
                    ..EndpointStatus::default()
                });
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
    pub(crate) fn stop(&self) -> Result<EndpointStopped> {
        let Some(r) = running(self.root()) else {
            return Ok(EndpointStopped {
                running: false,
                stopped: false,
                url: None,
            });
        };
        admin(&r, "POST", "/admin/shutdown")?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while running(self.root()).is_some() {
            if Instant::now() > deadline {
                return Err(refused(format!(
                    "the endpoint (pid {}) did not stop within 15 s",
                    r.pid
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.audit(&AuditEvent::new("endpoint.stop", "local").before(&r.url))?;
        Ok(EndpointStopped {
            running: false,
            stopped: true,
            url: Some(r.url),
        })
    }

    /// The endpoint's own view: running, URL, what it serves, uptime.
    pub(crate) fn status(&self) -> Result<EndpointStatus> {
        match running(self.root()) {
            Some(r) => {
                let s = admin(&r, "GET", "/admin/status")?;
                Ok(EndpointStatus {
                    running: true,
                    url: Some(r.url),
                    pid: Some(r.pid),
                    serving: serving(&s["serving"]),
                    uptime_seconds: s["uptime_seconds"].as_u64(),
                    log: Some(
                        self.root()
                            .join("logs")
                            .join("endpoint.log")
                            .display()
                            .to_string(),
                    ),
                    ..EndpointStatus::default()
                })
            }
            None => Ok(EndpointStatus::default()),
        }
    }
}
