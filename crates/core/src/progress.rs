//! How a running step reports progress and learns it should stop (a leaf
//! module: it depends only on the crate's error).

use crate::error::{Error, Result};

/// Receives progress from a running step and may stop it.
pub trait Progress {
    /// Reports `fraction` (0..1) done and what is being done. Returns
    /// [`Error::Cancelled`] when the job should stop.
    fn update(&self, fraction: f64, phase: &str) -> Result<()>;
}

/// A `Progress` that ignores updates and never cancels.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _fraction: f64, _phase: &str) -> Result<()> {
        Ok(())
    }
}

impl<F: Fn(f64, &str) -> bool> Progress for F {
    fn update(&self, fraction: f64, phase: &str) -> Result<()> {
        if self(fraction, phase) {
            Ok(())
        } else {
            Err(Error::Cancelled)
        }
    }
}
