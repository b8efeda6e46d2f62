//! The API key port: keys for the endpoint (SQLite locally; API Gateway on
//! AWS). A key is shown once, when created; only its SHA-256 is kept.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Result;

/// Default per-key rate limit, requests per second.
pub const DEFAULT_RATE: f64 = 1000.0;

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiKey {
    /// Name.
    pub name: String,
    /// SHA-256 of the key (hex).
    pub sha256: String,
    /// Requests per second allowed.
    pub rate: f64,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

/// SHA-256 (hex) of an API key: what is stored and compared.
///
/// ```
/// assert_eq!(tablero_core::ports::key_hash("abc").len(), 64);
/// ```
pub fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a key's name (1 to 64 letters, digits, `-` and `_`) and rate (a
/// positive number of requests per second).
pub fn check_key(name: &str, rate: f64) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(super::BackendError::refused(format!(
            "key name {name:?}: use 1 to 64 letters, digits, '-' or '_'"
        )));
    }
    if !(rate > 0.0 && rate.is_finite()) {
        return Err(super::BackendError::refused(
            "--rate must be a positive number of requests per second",
        ));
    }
    Ok(())
}

/// Creates, lists and revokes the endpoint's API keys.
pub trait ApiKeys: Send + Sync {
    /// Creates a key allowed `rate` requests per second (checked with
    /// [`check_key`] by the caller); returns the key, which is never shown
    /// again. A name in use is refused.
    fn create_key(&self, name: &str, rate: f64) -> Result<String>;
    /// All keys, revoked ones included.
    fn api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revokes a key; the endpoint refuses it within a second.
    fn revoke_key(&self, name: &str) -> Result<()>;
}
