//! How a refusal becomes an exit code, a kind and a message.

use tablero_core::ports::{BackendError, ErrorKind};

/// An error with the exit code it maps to.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn refused(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            kind: ErrorKind::Refused,
            message: message.into(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            kind: ErrorKind::Usage,
            message: message.into(),
        }
    }
}

impl From<BackendError> for Failure {
    fn from(e: BackendError) -> Failure {
        Failure {
            code: e.kind().exit_code(),
            kind: e.kind(),
            message: e.detailed(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        match e.downcast_ref::<BackendError>() {
            Some(b) => Failure::from(b.clone()),
            None => Failure::refused(format!("{e:#}")),
        }
    }
}

impl From<tablero_core::Error> for Failure {
    fn from(e: tablero_core::Error) -> Failure {
        Failure::from(BackendError::from(e))
    }
}
