//! The desktop app's composition point: the one module of the app that
//! names a backend crate. It chooses the backend (`--backend`, else
//! `TABLERO_BACKEND`, else the workspace's `[backend] kind`, else local),
//! builds it once per workspace the panel opens, and hands its ports to the
//! commands. It also runs the endpoint process (`serve-endpoint`). The AWS
//! backend is in builds with the `aws` feature (the release bundle).

use std::path::{Path, PathBuf};

use tablero_core::ports::{Backend, BackendError, BackendKind, SettingsCheck};
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

/// The backend of the workspace at `root`, acting as the OS user (on AWS:
/// as the AWS credentials); it starts the endpoint as `program
/// serve-endpoint --workspace ROOT --backend KIND …`.
pub fn open(root: &Path, flag: Option<&str>, program: &Path) -> Result<Backend, UiError> {
    let kind = kind(root, flag)?;
    let ws = tablero_local::Workspace::open(root)
        .map_err(BackendError::from)?
        .with_launcher(tablero_local::Launcher {
            program: program.to_path_buf(),
            args: vec![
                "serve-endpoint".into(),
                "--workspace".into(),
                root.into(),
                "--backend".into(),
                kind.name().into(),
            ],
        });
    match kind {
        BackendKind::Local => Ok(ws.into_backend()),
        BackendKind::Aws => Ok(aws(ws)?),
    }
}

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
        tablero_core::ports::ErrorKind::Unsupported,
        "this build of Tablero has no AWS backend: use a release package, or build with \
         `cargo build --release -p tablero-desktop --features aws`",
    )
}

/// Selects the backend of the workspace at `root` (`[backend] kind`).
pub fn select(root: &Path, kind: BackendKind) -> Result<(), UiError> {
    Ok(tablero_local::config::set_backend_kind(root, kind.name())?)
}

/// The workspace's `[aws]` table as TOML, or an example to start from.
pub fn aws_settings(root: &Path) -> Result<String, UiError> {
    #[cfg(feature = "aws")]
    {
        let path = root.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| BackendError::refused(format!("{}: {e}", path.display())))?;
        Ok(
            match tablero_aws::AwsConfig::parse(&text, &path.display().to_string()) {
                Ok(c) => c.to_toml(),
                Err(_) => tablero_aws::AwsConfig::example().to_string(),
            },
        )
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = root;
        Err(no_aws().into())
    }
}

/// Checks an `[aws]` table (STS, then each bucket), saying which call
/// failed and why.
pub fn aws_check(text: &str) -> Result<Vec<SettingsCheck>, UiError> {
    #[cfg(feature = "aws")]
    {
        let config = tablero_aws::AwsConfig::parse(text, "the Settings form")?;
        Ok(tablero_aws::check(&config))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = text;
        Err(no_aws().into())
    }
}

/// Saves an `[aws]` table into the workspace's tablero.toml (keeping the
/// rest) and selects the AWS backend.
pub fn aws_save(root: &Path, text: &str) -> Result<(), UiError> {
    #[cfg(feature = "aws")]
    {
        let config = tablero_aws::AwsConfig::parse(text, "the Settings form")?;
        config.save(&root.join(CONFIG_FILE))?;
        Ok(())
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (root, text);
        Err(no_aws().into())
    }
}

/// Checks that the workspace at `root` opens (its configuration and
/// database are readable), saying what is wrong when not.
pub fn check(root: &Path) -> Result<(), UiError> {
    tablero_local::Workspace::open(root).map_err(BackendError::from)?;
    if kind(root, None)? == BackendKind::Aws {
        #[cfg(feature = "aws")]
        tablero_aws::AwsConfig::load(&root.join(CONFIG_FILE))?;
        #[cfg(not(feature = "aws"))]
        return Err(no_aws().into());
    }
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
    let ws = tablero_local::Workspace::open(root).map_err(BackendError::from)?;
    let backend = match kind(root, flag)? {
        BackendKind::Local => ws.into_backend(),
        BackendKind::Aws => aws(ws)?,
    };
    let state = tablero_local::endpoint::state_file(root);
    tablero_serve::run(Sources::from_backend(&backend), args.options(Some(state)))
}

/// The platform's default workspace folder.
pub fn default_root() -> PathBuf {
    tablero_local::workspace::default_root()
}
