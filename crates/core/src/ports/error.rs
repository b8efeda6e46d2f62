//! The one error of every port, with the kinds the CLI's JSON errors and
//! the desktop app's refusals name (docs/cli.md, "Errors").

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of refusal or failure an error is. Each kind is documented in
/// docs/cli.md; every kind but `usage` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad arguments (exit 2).
    Usage,
    /// No such object, job, version or trash entry.
    NotFound,
    /// No workspace where one was expected.
    NotInitialised,
    /// A refused upload: the file is not a readable transactions CSV.
    InvalidInput,
    /// An object key that is not allowed.
    InvalidKey,
    /// The acting identity lacks a role (locally) or a cloud permission.
    Permission,
    /// Anything else the backend or a rule refuses.
    Refused,
    /// The action was cancelled by its user; nothing was stored.
    Cancelled,
    /// This backend cannot do this; the message says why.
    Unsupported,
    /// The backend cannot be reached (no network, service down).
    Offline,
}

impl ErrorKind {
    /// Every kind, in the order docs/cli.md lists them.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Usage,
        ErrorKind::NotFound,
        ErrorKind::NotInitialised,
        ErrorKind::InvalidInput,
        ErrorKind::InvalidKey,
        ErrorKind::Permission,
        ErrorKind::Refused,
        ErrorKind::Cancelled,
        ErrorKind::Unsupported,
        ErrorKind::Offline,
    ];

    /// The name in JSON: `not_found`, `permission`, …
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::NotFound => "not_found",
            ErrorKind::NotInitialised => "not_initialised",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::Permission => "permission",
            ErrorKind::Refused => "refused",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Offline => "offline",
        }
    }

    /// The CLI's exit code for it: 2 for `usage`, else 1.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a port refuses or fails at: a kind, a message for the user, the
/// causes behind it, and for `permission` the role or cloud permission
/// that is missing.
///
/// ```
/// use tablero_core::ports::{BackendError, ErrorKind};
/// let e = BackendError::permission("ana cannot approve models: it needs the ml_lead role", "ml_lead");
/// assert_eq!(e.kind(), ErrorKind::Permission);
/// assert_eq!(e.missing(), Some("ml_lead"));
/// assert_eq!(e.to_string(), "ana cannot approve models: it needs the ml_lead role");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BackendError {
    kind: ErrorKind,
    message: String,
    causes: Vec<String>,
    missing: Option<String>,
}

impl BackendError {
    /// An error of `kind` with a message for the user.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> BackendError {
        BackendError {
            kind,
            message: message.into(),
            causes: Vec::new(),
            missing: None,
        }
    }

    /// A refusal.
    pub fn refused(message: impl Into<String>) -> BackendError {
        BackendError::new(ErrorKind::Refused, message)
    }

    /// Nothing by that name.
    pub fn not_found(message: impl Into<String>) -> BackendError {
        BackendError::new(ErrorKind::NotFound, message)
    }

    /// Input the user can correct.
    pub fn invalid_input(message: impl Into<String>) -> BackendError {
        BackendError::new(ErrorKind::InvalidInput, message)
    }

    /// Cancelled by its user; nothing was stored.
    pub fn cancelled(message: impl Into<String>) -> BackendError {
        BackendError::new(ErrorKind::Cancelled, message)
    }

    /// The acting identity lacks `missing` (a role, or a cloud permission
    /// such as `s3:PutObject`).
    pub fn permission(message: impl Into<String>, missing: impl Into<String>) -> BackendError {
        BackendError {
            missing: Some(missing.into()),
            ..BackendError::new(ErrorKind::Permission, message)
        }
    }

    /// This backend cannot do `what`, because `why`.
    pub fn unsupported(what: &str, why: &str) -> BackendError {
        BackendError::new(
            ErrorKind::Unsupported,
            format!("{what} is not supported here: {why}"),
        )
    }

    /// The backend cannot be reached.
    pub fn offline(message: impl Into<String>) -> BackendError {
        BackendError::new(ErrorKind::Offline, message)
    }

    /// An error of `kind` from another error: its message, and the
    /// messages of its sources as causes (those the message does not
    /// already say).
    pub fn from_error(kind: ErrorKind, e: &(dyn std::error::Error + 'static)) -> BackendError {
        let message = e.to_string();
        let mut causes: Vec<String> = Vec::new();
        let mut source = e.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) && !causes.iter().any(|c| c.contains(&text)) {
                causes.push(text);
            }
            source = s.source();
        }
        BackendError {
            causes,
            ..BackendError::new(kind, message)
        }
    }

    /// With one more cause.
    pub fn with_cause(mut self, cause: impl fmt::Display) -> BackendError {
        self.causes.push(cause.to_string());
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message for the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What lies behind the message (an OS error, a database error), most
    /// immediate first.
    pub fn causes(&self) -> &[String] {
        &self.causes
    }

    /// For `permission`: the role or cloud permission that is missing.
    pub fn missing(&self) -> Option<&str> {
        self.missing.as_deref()
    }

    /// The message followed by its causes, `message: cause: cause`.
    pub fn detailed(&self) -> String {
        let mut out = self.message.clone();
        for c in &self.causes {
            out.push_str(": ");
            out.push_str(c);
        }
        out
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BackendError {}

impl From<crate::Error> for BackendError {
    fn from(e: crate::Error) -> BackendError {
        let kind = match &e {
            crate::Error::Ingest(_) => ErrorKind::InvalidInput,
            crate::Error::InvalidKey { .. } => ErrorKind::InvalidKey,
            crate::Error::Cancelled => ErrorKind::Cancelled,
            _ => ErrorKind::Refused,
        };
        BackendError::from_error(kind, &e)
    }
}

/// `Result` with [`BackendError`].
pub type Result<T, E = BackendError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_their_documented_names_and_exit_codes() {
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names,
            [
                "usage",
                "not_found",
                "not_initialised",
                "invalid_input",
                "invalid_key",
                "permission",
                "refused",
                "cancelled",
                "unsupported",
                "offline"
            ]
        );
        for k in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
            assert_eq!(k.exit_code(), if k == ErrorKind::Usage { 2 } else { 1 });
        }
    }

    #[test]
    fn causes_follow_the_message() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("reading x")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = BackendError::from_error(ErrorKind::Refused, &Outer(io));
        assert_eq!(e.to_string(), "reading x");
        assert_eq!(e.detailed(), "reading x: gone");
        // A cause the message already says is not said twice.
        let again = BackendError::from_error(
            ErrorKind::Refused,
            &Outer(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "reading x",
            )),
        );
        assert_eq!(again.detailed(), "reading x");
        let core = BackendError::from(crate::Error::Cancelled);
        assert_eq!(core.kind(), ErrorKind::Cancelled);
    }
}
