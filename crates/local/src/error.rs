//! The one error type of `tablero-local`.

use std::path::PathBuf;

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
    /// An object exists where a new one would go.
    #[error("{bucket}/{key} already exists; choose another --key, or pass --replace (the old object goes to the workspace trash)")]
    Exists {
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
    /// A file larger than the workspace allows.
    #[error("{path} is {size} bytes, over the workspace limit of {limit} bytes ([limits] max_upload_bytes in tablero.toml)")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A job that cannot take the requested action.
    #[error("{0}")]
    Refused(String),
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
    /// `invalid_input` (a refused upload), `invalid_key` or `refused`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Permission { .. } => "permission",
            Error::NotFound { .. } | Error::JobNotFound(_) => "not_found",
            Error::NotInitialised(_) => "not_initialised",
            Error::Core(tablero_core::Error::Ingest(_)) => "invalid_input",
            Error::Core(tablero_core::Error::InvalidKey { .. }) => "invalid_key",
            _ => "refused",
        }
    }
}
