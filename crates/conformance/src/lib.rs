//! `tablero-conformance`: contract tests shared by several crates.
//!
//! * [`shape`]: the JSON shape (keys and value types, recursively) of the
//!   replies of the CLI (`--json`) and of the desktop app's IPC, recorded
//!   in `tests/shapes/` and checked so that keys are only ever added.

pub mod shape;
