//! The CLI's composition point: the one module of `tablero` that names a
//! backend crate. It chooses the backend (`--backend`, else
//! `TABLERO_BACKEND`, else the workspace's `[backend] kind`, else local),
//! builds it once, and hands its ports to the rest of the program. The AWS
//! backend is in builds with the `aws` feature (the release packages).

use std::path::{Path, PathBuf};

use tablero_core::ports::{Backend, BackendError, BackendKind, ErrorKind, SettingsCheck};
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
/// `tablero --workspace ROOT --backend KIND endpoint serve …`.
fn launcher(root: &Path, kind: BackendKind) -> Result<tablero_local::Launcher, BackendError> {
    let program = std::env::current_exe()
        .map_err(|e| BackendError::refused(format!("cannot find this program: {e}")))?;
    Ok(tablero_local::Launcher {
        program,
        args: vec![
            "--workspace".into(),
            root.into(),
            "--backend".into(),
            kind.name().into(),
            "endpoint".into(),
            "serve".into(),
        ],
    })
}

/// The AWS backend over the workspace at `root` (its `[aws]` table).
#[cfg(feature = "aws")]
fn aws(ws: tablero_local::Workspace) -> Result<Backend, BackendError> {
    let config = tablero_aws::AwsConfig::load(&ws.config_path())?;
    tablero_aws::compose(ws, config, None)
}

#[cfg(not(feature = "aws"))]
fn aws(_ws: tablero_local::Workspace) -> Result<Backend, BackendError> {
    Err(no_aws())
}

#[cfg(not(feature = "aws"))]
fn no_aws() -> BackendError {
    BackendError::new(
        ErrorKind::Unsupported,
        "this build of tablero has no AWS backend: use a release package, or build with \
         `cargo build --release -p tablero-cli --features aws`",
    )
}

/// Checks the workspace's `[aws]` table: who the credentials are, and each
/// bucket (`tablero aws check`).
pub fn aws_check(root: &Path) -> Result<Vec<SettingsCheck>, Failure> {
    #[cfg(feature = "aws")]
    {
        let config =
            tablero_aws::AwsConfig::load(&root.join(tablero_local::workspace::CONFIG_FILE))?;
        Ok(tablero_aws::check(&config))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = root;
        Err(no_aws().into())
    }
}

/// The backend of the workspace at `root`, acting as `user` when given.
pub fn open(root: &Path, flag: Option<&str>, user: Option<&str>) -> Result<Backend, Failure> {
    match kind(root, flag)? {
        BackendKind::Aws => {
            if let Some(u) = user {
                return Err(BackendError::new(
                    ErrorKind::Unsupported,
                    format!(
                        "--as {u} is refused on the AWS backend: you act as your AWS credentials; \
                         use another profile (AWS_PROFILE or [aws] profile) instead"
                    ),
                )
                .into());
            }
            let ws = tablero_local::Workspace::open(root)
                .map_err(BackendError::from)?
                .with_launcher(launcher(root, BackendKind::Aws)?);
            Ok(aws(ws)?)
        }
        BackendKind::Local => {
            let ws = tablero_local::Workspace::open(root)
                .map_err(BackendError::from)?
                .with_launcher(launcher(root, BackendKind::Local)?);
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
                backend: ws
                    .with_launcher(launcher(root, BackendKind::Local)?)
                    .into_backend(),
                config,
            })
        }
        BackendKind::Aws => {
            // The workspace keeps jobs, deployments and metrics; `[aws]`
            // says where the buckets and the registry are.
            let ws = tablero_local::Workspace::init(root).map_err(BackendError::from)?;
            let config = ws.config_path();
            let ws = ws.with_launcher(launcher(root, BackendKind::Aws)?);
            Ok(Initialised {
                backend: aws(ws)?,
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
