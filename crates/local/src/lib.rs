//! `tablero-local`: the embedded backend. A workspace is one folder:
//!
//! ```text
//! tablero.toml          users, roles, policy, limits, backend
//! tablero.db            SQLite: jobs, job logs, audit log, registry, deployments, metrics
//! buckets/raw|clean|models/<key>
//! meta/<bucket>/<key>.json   object metadata (the upload's column mapping)
//! index/listing.sqlite  the buckets' sorted keys, for listings (a cache)
//! tmp/                  staging for atomic writes
//! trash/<bucket>/<time>/<key>  deleted and replaced objects
//! ```
//!
//! [`Workspace`] implements every port of `tablero_core::ports`;
//! [`Workspace::into_backend`] hands them to a binary's composition point.
//! Only this crate knows SQLite and the workspace folders.

pub mod config;
pub mod db;
pub mod deploy;
pub mod endpoint;
pub mod error;
pub mod folder;
pub mod listing;
pub mod monitor;
pub mod registry;
pub mod workspace;

pub use endpoint::Launcher;
pub use error::{Error, Result};
pub use workspace::{Remote, Workspace};

use std::path::Path;

use tablero_core::ports::{BackendError, BackendKind};

/// Which backend the workspace at `root` runs on: `flag` (`--backend`),
/// else `env` (`TABLERO_BACKEND`), else `[backend] kind` in its
/// `tablero.toml`, else local. An unknown name is refused in words.
pub fn choose_backend(
    root: &Path,
    flag: Option<&str>,
    env: Option<&str>,
) -> std::result::Result<BackendKind, BackendError> {
    let configured = config::backend_kind(root)?;
    let where_configured = format!(
        "[backend] kind in {}",
        root.join(workspace::CONFIG_FILE).display()
    );
    BackendKind::choose(
        flag.map(|f| (f, "--backend")),
        env.map(|e| (e, "TABLERO_BACKEND")),
        configured
            .as_deref()
            .map(|c| (c, where_configured.as_str())),
    )
}
