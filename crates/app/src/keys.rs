//! API keys (ops): checked names and rates.

use serde::{Deserialize, Serialize};
use tablero_core::ports::{check_key, Action, ApiKey, Backend, Result};

/// Creates a key allowed `rate` requests per second; the key is shown once.
pub fn create(b: &Backend, name: &str, rate: f64) -> Result<NewKey> {
    b.identity.authorize(Action::CreateKey)?;
    check_key(name, rate)?;
    Ok(NewKey {
        name: name.to_string(),
        key: b.keys.create_key(name, rate)?,
        rate,
    })
}

/// Revokes a key.
pub fn revoke(b: &Backend, name: &str) -> Result<Revoked> {
    b.identity.authorize(Action::RevokeKey)?;
    b.keys.revoke_key(name)?;
    Ok(Revoked {
        revoked: name.to_string(),
    })
}

/// A new key: shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewKey {
    /// Its name.
    pub name: String,
    /// The key itself (never shown again).
    pub key: String,
    /// Requests per second allowed.
    pub rate: f64,
}

/// Every key (never the keys themselves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyList {
    /// The keys, revoked ones included.
    pub keys: Vec<ApiKey>,
}

/// A revoked key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Revoked {
    /// Its name.
    pub revoked: String,
}

/// Every key.
pub fn list(b: &Backend) -> Result<KeyList> {
    Ok(KeyList {
        keys: b.keys.api_keys()?,
    })
}
