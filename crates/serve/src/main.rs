//! `tablero-serve --workspace DIR [--port 8080] [--host 127.0.0.1]`: serves the
//! workspace's deployed model. Writes `<workspace>/endpoint.json` (pid, port,
//! admin token) while it runs; stops on SIGINT/SIGTERM or `POST /admin/shutdown`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "tablero-serve",
    version,
    about = "Tablero's inference endpoint"
)]
struct Args {
    /// Workspace folder.
    #[arg(long, env = "TABLERO_WORKSPACE")]
    workspace: PathBuf,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .init();
    let args = Args::parse();
    let app = tablero_serve::App::open(&args.workspace).context("opening the workspace")?;
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    let state = serde_json::json!({
        "pid": std::process::id(),
        "url": format!("http://{addr}"),
        "port": addr.port(),
        "admin_token": app.admin_token(),
        "started_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    let file = tablero_serve::state_file(&args.workspace);
    let tmp = file.with_extension("json.part");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&state)?)?;
    std::fs::rename(&tmp, &file)?;
    tracing::info!(url = %format!("http://{addr}"), serving = ?app.serving(), "listening");
    let stop = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        return;
                    }
                };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    };
    let result = tablero_serve::serve(app, listener, stop, Duration::from_secs(1)).await;
    let _ = std::fs::remove_file(&file);
    tracing::info!("stopped");
    result.context("serving")
}
