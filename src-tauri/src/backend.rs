//! The desktop app's composition point: the one module of the app that
//! names a backend crate. It chooses the backend (`--backend`, else
//! `TABLERO_BACKEND`, else the workspace's `[backend] kind`, else local),
//! builds it once per workspace the panel opens, and hands its ports to the
//! commands. It also runs the endpoint process (`serve-endpoint`).

use std::path::{Path, PathBuf};

use tablero_core::ports::{Backend, BackendError, BackendKind};
use tablero_serve::{ServeArgs, Sources};

use crate::dto::UiError;

/// The file whose presence makes a folder a workspace.
pub const CONFIG_FILE: &str = tablero_local::workspace::CONFIG_FILE;

/// Whether `root` holds a workspace.
pub fn is_workspace(root: &Path) -> bool {
    tablero_local::workspace::is_workspace(root)
}

fn kind(root: &Path, flag: Option<&str>) -> Result<BackendKind, BackendError> {
    let env = std::env::var("TABLERO_BACKEND").ok();
    tablero_local::choose_backend(root, flag, env.as_deref())
}

/// The backend of the workspace at `root`, acting as the OS user; it
/// starts the endpoint as `program serve-endpoint --workspace ROOT …`.
pub fn open(root: &Path, flag: Option<&str>, program: &Path) -> Result<Backend, UiError> {
    match kind(root, flag)? {
        BackendKind::Local => Ok(tablero_local::Workspace::open(root)
            .map_err(BackendError::from)?
            .with_launcher(tablero_local::Launcher {
                program: program.to_path_buf(),
                args: vec!["serve-endpoint".into(), "--workspace".into(), root.into()],
            })
            .into_backend()),
    }
}

/// Checks that the workspace at `root` opens (its configuration and
/// database are readable), saying what is wrong when not.
pub fn check(root: &Path) -> Result<(), UiError> {
    tablero_local::Workspace::open(root).map_err(BackendError::from)?;
    Ok(())
}

/// Creates a workspace at `root` (an existing one is left as it is).
pub fn init(root: &Path) -> Result<(), UiError> {
    tablero_local::Workspace::init(root).map_err(BackendError::from)?;
    Ok(())
}

/// The panel's backend at start-up: the workspace at `root`, created when
/// there is none.
pub fn open_or_init(root: &Path, flag: Option<&str>, program: &Path) -> Result<Backend, UiError> {
    if !is_workspace(root) {
        init(root)?;
    }
    open(root, flag, program)
}

/// Runs the endpoint of the workspace at `root` in this process until it
/// is stopped (`tablero-desktop serve-endpoint`).
pub fn serve_endpoint(root: &Path, flag: Option<&str>, args: &ServeArgs) -> anyhow::Result<()> {
    let backend = match kind(root, flag)? {
        BackendKind::Local => tablero_local::Workspace::open(root)
            .map_err(BackendError::from)?
            .into_backend(),
    };
    let state = tablero_local::endpoint::state_file(root);
    tablero_serve::run(Sources::from_backend(&backend), args.options(Some(state)))
}

/// The platform's default workspace folder.
pub fn default_root() -> PathBuf {
    tablero_local::workspace::default_root()
}
