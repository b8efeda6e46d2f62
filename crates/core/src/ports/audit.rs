//! The audit port: who did what, when, before → after. Append-only.

use serde::{Deserialize, Serialize};

use super::Result;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who acted.
    pub actor: String,
    /// The OS user (or cloud identity) running the command.
    pub os_user: String,
    /// What: `upload`, `delete`, `job.submit`, …
    pub action: String,
    /// On what (`raw/sales.csv`, `job-000003`, …).
    pub target: String,
    /// State before.
    pub before: Option<String>,
    /// State after.
    pub after: Option<String>,
    /// Comment.
    pub comment: Option<String>,
}

/// An action to record; the backend adds who and when.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditEvent {
    /// What: `upload`, `delete`, `endpoint.start`, …
    pub action: String,
    /// On what.
    pub target: String,
    /// State before.
    pub before: Option<String>,
    /// State after.
    pub after: Option<String>,
    /// Comment.
    pub comment: Option<String>,
}

impl AuditEvent {
    /// `action` on `target`, with no before, after or comment yet.
    pub fn new(action: impl Into<String>, target: impl Into<String>) -> AuditEvent {
        AuditEvent {
            action: action.into(),
            target: target.into(),
            ..AuditEvent::default()
        }
    }

    /// With the state before.
    pub fn before(mut self, before: impl Into<String>) -> AuditEvent {
        self.before = Some(before.into());
        self
    }

    /// With the state after.
    pub fn after(mut self, after: impl Into<String>) -> AuditEvent {
        self.after = Some(after.into());
        self
    }
}

/// The append-only audit trail.
pub trait Audit: Send + Sync {
    /// Appends an entry for the acting identity, now.
    fn append_audit(&self, event: &AuditEvent) -> Result<()>;
    /// Entries at or after `since` (RFC 3339), oldest first.
    fn audit_since(&self, since: &str) -> Result<Vec<AuditEntry>>;
}
