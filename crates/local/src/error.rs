//! The one error type of `tablero-local`.

use std::path::PathBuf;

use tablero_core::ports::{BackendError, ErrorKind};

/// What the local backend can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pipeline step or domain check refused.
    #[error(transparent)]
    Core(#[from] tablero_core::Error),
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The workspace database failed.
    #[error("workspace database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// No workspace at the path.
    #[error("no Tablero workspace at {0}; run `tablero init` (or pass --workspace DIR)")]
    NotInitialised(PathBuf),
    /// `tablero.toml` is unreadable or invalid.
    #[error("{path}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No such object.
    #[error("{bucket}/{key} does not exist (list with `tablero data ls {bucket}`)")]
    NotFound {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// No such job.
    #[error("no job {0} (list with `tablero jobs ls`)")]
    JobNotFound(String),
    /// The actor lacks a role.
    #[error("{actor} cannot {action}: it needs the {role} role (roles are set in {config})")]
    Permission {
        /// Who tried.
        actor: String,
        /// What.
        action: String,
        /// The role needed (or "one of …").
        role: String,
        /// The config file that sets roles.
        config: String,
    },
    /// A job that cannot take the requested action.
    #[error("{0}")]
    Refused(String),
    /// Another port refused (a port of this backend called from within it).
    #[error(transparent)]
    Port(#[from] BackendError),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The kind of refusal, as the CLI's JSON errors and the desktop app
    /// name it: `permission`, `not_found`, `not_initialised`,
    /// `invalid_input` (a refused upload), `invalid_key`, `cancelled` or
    /// `refused`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Permission { .. } => ErrorKind::Permission,
            Error::NotFound { .. } | Error::JobNotFound(_) => ErrorKind::NotFound,
            Error::NotInitialised(_) => ErrorKind::NotInitialised,
            Error::Core(tablero_core::Error::Ingest(_)) => ErrorKind::InvalidInput,
            Error::Core(tablero_core::Error::InvalidKey { .. }) => ErrorKind::InvalidKey,
            Error::Core(tablero_core::Error::Cancelled) => ErrorKind::Cancelled,
            Error::Port(e) => e.kind(),
            _ => ErrorKind::Refused,
        }
    }
}

/// Every port of the local backend answers with [`BackendError`]: the
/// kind above, the message, and the causes behind it.
impl From<Error> for BackendError {
    fn from(e: Error) -> BackendError {
        match e {
            Error::Port(e) => e,
            Error::Permission { ref role, .. } => {
                BackendError::permission(e.to_string(), role.clone())
            }
            e => BackendError::from_error(e.kind(), &e),
        }
    }
}
