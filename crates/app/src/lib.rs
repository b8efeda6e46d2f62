//! `tablero-app`: the use-case layer. Every action of the panel and the CLI
//! as a function over [`tablero_core::ports::Backend`], with the rules of
//! the product applied once for every backend: who may do it
//! (`Action::roles`), the approval rules ([`models`]), the deployment rules
//! ([`deploy`]), the checks before a job is queued ([`jobs`]), API keys
//! ([`keys`]), the policy ([`policy`]); uploads, previews, exports,
//! deletion and its undo ([`data`]); drift, the endpoint's charts, alarm
//! states and the promotion diff ([`monitor`]); time ranges ([`time`]).
//!
//! It knows no backend: it reads and writes the user's own files (an
//! upload's source, an export's destination) and talks to the backend only
//! through the ports.

pub mod charts;
pub mod data;
pub mod deploy;
pub mod jobs;
pub mod keys;
pub mod models;
pub mod monitor;
pub mod policy;
pub mod session;
pub mod time;
