//! `tablero-core`: Tablero's domain types, ports and pure pipeline steps.
//!
//! This crate does no I/O: no file system, no network, no SQLite, no cloud
//! SDK. It takes bytes and tables in and gives tables, bytes and reports
//! out; the backends (`tablero-local`, later `tablero-aws`) implement its
//! [`ports`] and decide where the bytes live.
//!
//! The pipeline, as functions:
//! * [`ingest::inspect`] validates a CSV at upload and returns the
//!   [`ingest::IngestSpec`] stored beside it; [`ingest::parse`] reads it again.
//! * [`clean::clean`] applies the clean rules (and the parity steps).
//! * [`features::features`] builds one row per customer with the target.
//! * [`table`] turns tables into Parquet bytes with their metadata and back.

pub mod charts;
pub mod clean;
pub mod dates;
pub mod deploy;
pub mod drift;
pub mod emf;
pub mod error;
pub mod features;
pub mod ingest;
pub mod job;
pub mod monitor;
pub mod ports;
pub mod preset;
pub mod preview;
pub mod progress;
pub mod registry;
pub mod report;
pub mod rowset;
pub mod stages;
pub mod stats;
pub mod store;
pub mod strcol;
pub mod table;
pub mod train;

pub use error::{Error, Result};
