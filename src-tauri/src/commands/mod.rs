//! The Tauri commands, by view (docs/desktop.md): each one is a call into
//! `tablero-app` (or a port) on the panel's backend — built once per
//! workspace by [`crate::backend`] — on a blocking thread, returning the
//! same typed reply the CLI prints. Jobs run in the background and report
//! through `job://progress` events.

pub mod data;
pub mod deploy;
pub mod models;
pub mod monitor;
pub mod pipeline;
pub mod session;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use tablero_core::ports::Backend;

use crate::dto::UiError;

type Reply<T> = Result<T, UiError>;

/// The workspace the panel shows and its backend.
struct Opened {
    root: PathBuf,
    backend: Backend,
}

/// The panel's state: the backend of the workspace it shows (built once,
/// replaced when another workspace is opened), acting as one user at a time.
pub struct Panel {
    current: Arc<RwLock<Arc<Opened>>>,
    /// `--backend`, for the workspaces opened later.
    kind: Option<String>,
    /// The program that runs the endpoint (`PROGRAM serve-endpoint …`).
    program: PathBuf,
    /// Paths whose running upload the user cancelled.
    cancelled_uploads: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl Panel {
    /// A panel over the workspace at `root` (created when missing), acting
    /// as the OS user, that starts the endpoint as `program serve-endpoint …`.
    pub fn open(root: PathBuf, program: PathBuf, kind: Option<String>) -> Reply<Panel> {
        let backend = crate::backend::open_or_init(&root, kind.as_deref(), &program)?;
        Ok(Panel {
            current: Arc::new(RwLock::new(Arc::new(Opened { root, backend }))),
            kind,
            program,
            cancelled_uploads: Arc::new(Mutex::new(std::collections::HashSet::new())),
        })
    }

    fn opened(&self) -> Arc<Opened> {
        self.current
            .read()
            .map(|o| o.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Runs `f` on a blocking thread with the backend.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Backend) -> Reply<T> + Send + 'static,
    ) -> Reply<T> {
        let opened = self.opened();
        tauri::async_runtime::spawn_blocking(move || f(&opened.backend))
            .await
            .map_err(|e| UiError::refused(format!("the operation stopped unexpectedly: {e}")))?
    }
}

fn group_or_default(group: Option<String>) -> String {
    group.unwrap_or_else(|| "default".into())
}
