//! The CLI's composition point: the one module of `tablero` that names a
//! backend crate. It chooses the backend (`--backend`, else
//! `TABLERO_BACKEND`, else the workspace's `[backend] kind`, else local),
//! builds it once, and hands its ports to the rest of the program.

use std::path::{Path, PathBuf};

use tablero_core::ports::{Backend, BackendError, BackendKind};
use tablero_serve::{ServeArgs, Sources};

use crate::Failure;

/// The default workspace folder.
pub fn default_root() -> PathBuf {
    tablero_local::workspace::default_root()
}

fn kind(root: &Path, flag: Option<&str>) -> Result<BackendKind, Failure> {
    let env = std::env::var("TABLERO_BACKEND").ok();
    Ok(tablero_local::choose_backend(root, flag, env.as_deref())?)
}

/// How this program runs the endpoint as its own process:
/// `tablero --workspace ROOT endpoint serve …`.
fn launcher(root: &Path) -> Result<tablero_local::Launcher, BackendError> {
    let program = std::env::current_exe()
        .map_err(|e| BackendError::refused(format!("cannot find this program: {e}")))?;
    Ok(tablero_local::Launcher {
        program,
        args: vec![
            "--workspace".into(),
            root.into(),
            "endpoint".into(),
            "serve".into(),
        ],
    })
}

/// The backend of the workspace at `root`, acting as `user` when given.
pub fn open(root: &Path, flag: Option<&str>, user: Option<&str>) -> Result<Backend, Failure> {
    match kind(root, flag)? {
        BackendKind::Local => {
            let ws = tablero_local::Workspace::open(root)
                .map_err(BackendError::from)?
                .with_launcher(launcher(root)?);
            let ws = match user {
                Some(u) => ws.act_as(u).map_err(BackendError::from)?,
                None => ws,
            };
            Ok(ws.into_backend())
        }
    }
}

/// What `init` made.
pub struct Initialised {
    /// The backend of the new workspace.
    pub backend: Backend,
    /// Its configuration file.
    pub config: PathBuf,
}

/// Creates the workspace at `root` (or opens it: nothing is overwritten).
pub fn init(root: &Path, flag: Option<&str>) -> Result<Initialised, Failure> {
    match kind(root, flag)? {
        BackendKind::Local => {
            let ws = tablero_local::Workspace::init(root).map_err(BackendError::from)?;
            let config = ws.config_path();
            Ok(Initialised {
                backend: ws.with_launcher(launcher(root)?).into_backend(),
                config,
            })
        }
    }
}

/// Runs the endpoint in this process (`tablero endpoint serve`).
pub fn serve(root: &Path, flag: Option<&str>, args: &ServeArgs) -> Result<(), Failure> {
    let backend = open(root, flag, None)?;
    let state = tablero_local::endpoint::state_file(root);
    tablero_serve::run(Sources::from_backend(&backend), args.options(Some(state)))?;
    Ok(())
}
