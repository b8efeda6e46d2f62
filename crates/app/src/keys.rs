//! API keys (ops): checked names and rates.

use tablero_core::ports::{check_key, Action, Backend, Result};

/// Creates a key allowed `rate` requests per second; returns the key, shown
/// once.
pub fn create(b: &Backend, name: &str, rate: f64) -> Result<String> {
    b.identity.authorize(Action::CreateKey)?;
    check_key(name, rate)?;
    b.keys.create_key(name, rate)
}

/// Revokes a key.
pub fn revoke(b: &Backend, name: &str) -> Result<()> {
    b.identity.authorize(Action::RevokeKey)?;
    b.keys.revoke_key(name)
}
