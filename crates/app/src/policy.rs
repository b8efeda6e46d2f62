//! The workspace policy, and the audit trail that records what was done under it.

use serde::{Deserialize, Serialize};
use tablero_core::ports::{Action, AuditEntry, Backend, Result};

/// The four-eyes rule as set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FourEyes {
    /// On or off.
    pub four_eyes: bool,
}

/// Audit entries since a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditLog {
    /// The start (RFC 3339).
    pub since: String,
    /// The entries, oldest first.
    pub entries: Vec<AuditEntry>,
}

/// The audit trail since `since` (RFC 3339).
pub fn audit(b: &Backend, since: &str) -> Result<AuditLog> {
    Ok(AuditLog {
        since: since.to_string(),
        entries: b.audit.audit_since(since)?,
    })
}

/// Turns the four-eyes rule on or off (an ML lead's decision, audited).
pub fn set_four_eyes(b: &Backend, on: bool) -> Result<FourEyes> {
    b.identity.authorize(Action::ChangePolicy)?;
    b.identity.set_four_eyes(on)?;
    Ok(FourEyes { four_eyes: on })
}
