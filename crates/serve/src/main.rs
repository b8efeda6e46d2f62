//! `tablero-serve --workspace DIR [--port 8080] [--host 127.0.0.1]`: serves the
//! workspace's deployed model. Writes `<workspace>/endpoint.json` (pid, port,
//! admin token) while it runs; stops on SIGINT/SIGTERM or `POST /admin/shutdown`.
//!
//! This is the binary's composition point: the one place in `tablero-serve`
//! that names a backend. It builds the backend once and gives the server its
//! three seams over the backend's ports.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tablero_core::ports::BackendKind;
use tablero_serve::{RunOptions, Sources};

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
    /// Backend (default: the workspace's `[backend] kind`, else local).
    #[arg(long)]
    backend: Option<String>,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Seconds per metrics window written to the workspace (1 or more).
    #[arg(long, default_value_t = 60)]
    metrics_interval: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let env = std::env::var("TABLERO_BACKEND").ok();
    let kind =
        tablero_local::choose_backend(&args.workspace, args.backend.as_deref(), env.as_deref())?;
    let backend = match kind {
        BackendKind::Local => tablero_local::Workspace::open(&args.workspace)
            .context("opening the workspace")?
            .into_backend(),
    };
    let state = tablero_local::endpoint::state_file(&args.workspace);
    let options = RunOptions::new(&args.host, args.port, args.metrics_interval, Some(state));
    tablero_serve::run(Sources::from_backend(&backend), options)
}
