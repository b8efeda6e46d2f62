//! The workspace policy.

use tablero_core::ports::{Action, Backend, Result};

/// Turns the four-eyes rule on or off (an ML lead's decision, audited).
pub fn set_four_eyes(b: &Backend, on: bool) -> Result<()> {
    b.identity.authorize(Action::ChangePolicy)?;
    b.identity.set_four_eyes(on)
}
