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
use tablero_serve::{ServeArgs, Sources};

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
    /// Port, address, metrics window.
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let env = std::env::var("TABLERO_BACKEND").ok();
    let kind =
        tablero_local::choose_backend(&args.workspace, args.backend.as_deref(), env.as_deref())?;
    let ws = tablero_local::Workspace::open(&args.workspace).context("opening the workspace")?;
    let backend = match kind {
        BackendKind::Local => ws.into_backend(),
        #[cfg(feature = "aws")]
        BackendKind::Aws => {
            let config = tablero_aws::AwsConfig::load(&ws.config_path())?;
            tablero_aws::compose(ws, config, None)?
        }
        #[cfg(not(feature = "aws"))]
        BackendKind::Aws => anyhow::bail!(
            "this build of tablero-serve has no AWS backend: build it with --features aws"
        ),
    };
    let state = tablero_local::endpoint::state_file(&args.workspace);
    tablero_serve::run(
        Sources::from_backend(&backend),
        args.serve.options(Some(state)),
    )
}
