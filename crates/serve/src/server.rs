//! Running the server: the listener, the metrics flusher and key refresher,
//! graceful shutdown, the flags and the state file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::routes::router;
use crate::source::Sources;
use crate::{App, METRICS_INTERVAL};

/// Serves until `stop` resolves or an admin shutdown; in-flight requests
/// finish first. Keys are re-read every `key_refresh`.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    key_refresh: Duration,
    metrics_interval: Duration,
) -> std::io::Result<()> {
    let flusher = every(metrics_interval, &app, |a| {
        if let Err(e) = a.flush_metrics() {
            tracing::warn!(error = %e, "could not write metrics");
        }
    });
    let refresher = every(key_refresh, &app, |a| {
        if let Err(e) = a.reload_keys() {
            // Tried again in a moment; the keys read last stay in force.
            tracing::debug!(error = %e, "could not re-read the API keys");
        }
    });
    let shutdown_app = app.clone();
    let app_for_flush = app.clone();
    let result = axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        tokio::select! {
            _ = stop => {},
            _ = shutdown_app.shutdown.notified() => {},
        }
    })
    .await;
    refresher.abort();
    flusher.abort();
    let a = app_for_flush;
    let _ = tokio::task::spawn_blocking(move || a.flush_metrics()).await;
    result
}

/// Runs `task` on a blocking thread every `period` until aborted.
fn every(period: Duration, app: &Arc<App>, task: fn(&App)) -> tokio::task::JoinHandle<()> {
    let app = app.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let a = app.clone();
            let _ = tokio::task::spawn_blocking(move || task(&a)).await;
        }
    })
}

/// How to run the endpoint.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Address to bind (`127.0.0.1`: loopback only).
    pub host: String,
    /// Port (0 picks a free one).
    pub port: u16,
    /// Length of a metrics window.
    pub metrics_interval: Duration,
    /// Where to record the running endpoint (pid, URL, admin token) while
    /// it runs, if anywhere (`<workspace>/endpoint.json` locally).
    pub state_file: Option<PathBuf>,
}

/// The endpoint's flags, shared by `tablero-serve`, `tablero endpoint
/// serve` and `tablero-desktop serve-endpoint`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind: 127.0.0.1 answers only this machine; 0.0.0.0
    /// every interface (the admin routes still answer only on loopback).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Seconds per metrics window written to the workspace (1 or more).
    #[arg(long, default_value_t = 60)]
    pub metrics_interval: u64,
}

impl ServeArgs {
    /// How to run: these flags, recording the running endpoint in `state_file`.
    pub fn options(&self, state_file: Option<PathBuf>) -> RunOptions {
        RunOptions::new(&self.host, self.port, self.metrics_interval, state_file)
    }
}

impl RunOptions {
    /// Bind `host:port`, write a metrics window every `metrics_interval`
    /// seconds (at least 1), record the running endpoint in `state_file`.
    pub fn new(
        host: &str,
        port: u16,
        metrics_interval: u64,
        state_file: Option<PathBuf>,
    ) -> RunOptions {
        RunOptions {
            host: host.to_string(),
            port,
            metrics_interval: Duration::from_secs(metrics_interval.max(1)),
            state_file,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            host: "127.0.0.1".into(),
            port: 8080,
            metrics_interval: METRICS_INTERVAL,
            state_file: None,
        }
    }
}

/// Runs the endpoint until SIGINT/SIGTERM or an admin shutdown: JSON logs
/// on stdout, the state file while it runs. What `tablero-serve`, `tablero
/// endpoint serve` and `tablero-desktop serve-endpoint` run.
pub fn run(sources: Sources, options: RunOptions) -> anyhow::Result<()> {
    use anyhow::Context;
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let RunOptions {
        host,
        port,
        metrics_interval,
        state_file,
    } = options;
    runtime.block_on(async {
        let app = App::new(sources).context("loading the model and keys")?;
        let listener = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        let addr = listener.local_addr()?;
        if let Some(file) = &state_file {
            let state = json!({
                "pid": std::process::id(),
                "url": format!("http://{addr}"),
                "port": addr.port(),
                "admin_token": app.admin_token(),
                "started_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            let tmp = file.with_extension("json.part");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&state)?)?;
            std::fs::rename(&tmp, file)?;
        }
        tracing::info!(url = %format!("http://{addr}"), serving = ?app.serving(), "listening");
        let stop = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut term) => {
                        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
                    }
                    Err(_) => {
                        let _ = ctrl_c.await;
                    }
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        };
        let result = serve(
            app,
            listener,
            stop,
            Duration::from_secs(1),
            metrics_interval,
        )
        .await;
        if let Some(file) = &state_file {
            let _ = std::fs::remove_file(file);
        }
        tracing::info!("stopped");
        result.context("serving")
    })
}
