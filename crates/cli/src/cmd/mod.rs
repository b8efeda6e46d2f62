//! One module per command group: each handler calls `tablero-app` (or a
//! port) and renders the typed reply.

pub(crate) mod data;
pub(crate) mod deploy;
pub(crate) mod models;
pub(crate) mod monitor;
pub(crate) mod pipeline;
