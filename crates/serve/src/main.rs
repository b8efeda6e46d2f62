//! `tablero-serve --workspace DIR [--port 8080] [--host 127.0.0.1]`: serves the
//! workspace's deployed model. Writes `<workspace>/endpoint.json` (pid, port,
//! admin token) while it runs; stops on SIGINT/SIGTERM or `POST /admin/shutdown`.

use std::path::PathBuf;

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
    /// Seconds per metrics window written to the workspace (1 or more).
    #[arg(long, default_value_t = 60)]
    metrics_interval: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tablero_serve::run(
        &args.workspace,
        &args.host,
        args.port,
        std::time::Duration::from_secs(args.metrics_interval.max(1)),
    )
}
