//! `tablero endpoint …`: the endpoint's lifecycle lives in
//! `tablero_serve::lifecycle`; the CLI runs the server as
//! `tablero --workspace W endpoint serve` (its own process group, so it
//! survives the terminal).

use serde_json::Value;
use tablero_local::Workspace;
use tablero_serve::lifecycle::{self, Launcher};

pub use tablero_serve::lifecycle::{notify, status, stop};

use crate::Failure;

/// Starts the endpoint and waits until it answers.
pub fn start(ws: &Workspace, port: u16, metrics_interval: u64) -> Result<Value, Failure> {
    let launcher = Launcher::this_program(vec![
        "--workspace".into(),
        ws.root().into(),
        "endpoint".into(),
        "serve".into(),
    ])?;
    Ok(lifecycle::start(ws, &launcher, port, metrics_interval)?)
}
