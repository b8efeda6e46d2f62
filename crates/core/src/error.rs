//! The one error type of `tablero-core`.

use crate::ingest::IngestError;

/// Everything a pipeline step or a domain check can refuse, with the context
/// a person needs to act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CSV was refused at upload or could not be read by a stage.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// An object key that is not allowed (absolute, `..`, NUL, empty).
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A bucket name that is not one of raw, clean, models.
    #[error("unknown bucket {0:?}: use raw, clean or models")]
    UnknownBucket(String),
    /// A stage was given input produced for another preset or stage.
    #[error("{0}")]
    WrongInput(String),
    /// A Parquet file could not be written or read.
    #[error("parquet: {0}")]
    Parquet(String),
    /// A cut-off, horizon or other parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A chart could not be drawn.
    #[error("chart: {0}")]
    Chart(String),
    /// The job was cancelled while running.
    #[error("cancelled")]
    Cancelled,
}

impl From<polars::prelude::PolarsError> for Error {
    fn from(e: polars::prelude::PolarsError) -> Self {
        Error::Parquet(e.to_string())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
