//! `tablero-local`: the embedded backend. A workspace is one folder:
//!
//! ```text
//! tablero.toml          users, roles, policy, limits
//! tablero.db            SQLite: jobs, job logs, audit log
//! buckets/raw|clean|models/<key>
//! meta/<bucket>/<key>.json   object metadata (the upload's column mapping)
//! tmp/                  staging for atomic writes
//! trash/<bucket>/<time>/<key>  deleted and replaced objects
//! ```
//!
//! Only this crate knows SQLite and the workspace folders.

pub mod config;
pub mod db;
pub mod deploy;
pub mod error;
pub mod folder;
pub mod monitor;
pub mod registry;
pub mod workspace;

pub use error::{Error, Result};
pub use workspace::Workspace;
