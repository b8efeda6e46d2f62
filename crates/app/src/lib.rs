//! `tablero-app`: the actions of the panel and the CLI that combine several
//! ports, written once over [`tablero_core::ports::Backend`] so that every
//! backend gets them: uploading (validation, storage, audit), previews,
//! exports, deletion and its undo ([`data`]); drift, the endpoint's charts,
//! alarm states and the promotion diff ([`monitor`]).
//!
//! It knows no backend: it reads and writes the user's own files (an
//! upload's source, an export's destination) and talks to the backend only
//! through the ports.

pub mod data;
pub mod monitor;
