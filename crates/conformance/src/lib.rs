//! `tablero-conformance`: contract tests shared by several crates.
//!
//! * [`suite`]: the backend conformance suite, written once against the
//!   ports of `tablero_core::ports` and instantiated per backend with
//!   [`conformance_suite!`] (one `#[test]` per case per backend). See this
//!   crate's README for how a backend runs it.
//! * [`shape`]: the JSON shape (keys and value types, recursively) of the
//!   replies of the CLI (`--json`) and of the desktop app's IPC, recorded
//!   in `tests/shapes/` and checked so that keys are only ever added.

pub mod shape;
pub mod suite;
