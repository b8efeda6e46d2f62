//! The ports are synchronous; the SDK is async. Every call runs on one
//! runtime owned by this crate, from any thread, inside another runtime or
//! not (the desktop app calls the ports from Tauri's blocking threads).

use std::future::Future;
use std::sync::OnceLock;

use tablero_core::ports::{BackendError, Result};

fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tablero-aws")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| BackendError::refused(format!("cannot start the AWS client's runtime: {e}")))
}

/// Runs `f` to its end on the AWS runtime and returns what it returned.
pub(crate) fn block_on<T, F>(f: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let rt = runtime()?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(f.await);
    });
    rx.recv()
        .map_err(|_| BackendError::refused("an AWS call stopped before it answered"))?
}
