//! Buckets, object keys and what a listing tells about objects (the
//! port is [`crate::ports::ObjectStore`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The three buckets of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// CSVs as uploaded.
    Raw,
    /// Clean transactions and features tables, with their reports.
    Clean,
    /// Model artifacts and cards.
    Models,
}

impl Bucket {
    /// All buckets.
    pub const ALL: [Bucket; 3] = [Bucket::Raw, Bucket::Clean, Bucket::Models];

    /// `raw`, `clean` or `models`.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Raw => "raw",
            Bucket::Clean => "clean",
            Bucket::Models => "models",
        }
    }
}

impl std::str::FromStr for Bucket {
    type Err = Error;
    fn from_str(s: &str) -> Result<Bucket> {
        Bucket::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| Error::UnknownBucket(s.to_string()))
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated object key: relative, `/`-separated, no `..`, no empty or
/// hidden (`.`-prefixed) segments, no NUL or backslash, at most 1024 bytes.
///
/// ```
/// use tablero_core::store::ObjectKey;
/// assert!(ObjectKey::new("2024/sales.csv").is_ok());
/// assert!(ObjectKey::new("../etc/passwd").is_err());
/// assert!(ObjectKey::new("/abs").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates a key.
    pub fn new(key: &str) -> Result<ObjectKey> {
        let bad = |reason| Error::InvalidKey {
            key: key.to_string(),
            reason,
        };
        if key.is_empty() {
            return Err(bad("the key is empty"));
        }
        if key.len() > 1024 {
            return Err(bad("the key is longer than 1024 bytes"));
        }
        if key.contains('\0') {
            return Err(bad("the key contains a NUL byte"));
        }
        if key.contains('\\') {
            return Err(bad("use / to separate key segments, not \\"));
        }
        if key.starts_with('/') {
            return Err(bad("the key must be relative (no leading /)"));
        }
        for seg in key.split('/') {
            if seg.is_empty() {
                return Err(bad("the key has an empty segment (//)"));
            }
            if seg == ".." || seg == "." {
                return Err(bad("the key may not contain . or .. segments"));
            }
            if seg.starts_with('.') {
                return Err(bad("key segments may not start with '.'"));
            }
        }
        Ok(ObjectKey(key.to_string()))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key without its last extension (`a/b.csv` → `a/b`).
    pub fn stem(&self) -> &str {
        let last = self.0.rsplit('/').next().unwrap_or(&self.0);
        match last.rfind('.') {
            Some(dot) if dot > 0 => &self.0[..self.0.len() - (last.len() - dot)],
            _ => &self.0,
        }
    }

    /// The folder part (`a/b/c.parquet` → `a/b`), empty at top level.
    pub fn parent(&self) -> &str {
        self.0.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `head` and `list` tell about an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ObjectInfo {
    /// Bucket.
    pub bucket: Bucket,
    /// Key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modified (RFC 3339, UTC).
    pub modified: String,
    /// `STANDARD` locally; S3's class on AWS.
    pub storage_class: String,
    /// User metadata stored with the object (e.g. `ingest`: the column mapping).
    pub metadata: BTreeMap<String, String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Page {
    /// Objects, sorted by key.
    pub objects: Vec<ObjectInfo>,
    /// Pass to the next `list` call; `None` on the last page.
    pub next_token: Option<String>,
}

/// An object in a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ObjectRef {
    /// Bucket.
    pub bucket: Bucket,
    /// Key.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for bad in [
            "", "/a", "a//b", "a/../b", "..", "a\0b", "a\\b", ".hidden", "a/.tmp",
        ] {
            assert!(ObjectKey::new(bad).is_err(), "{bad:?} should be refused");
        }
        let k = ObjectKey::new("2024/sales.v2.csv").unwrap();
        assert_eq!(k.stem(), "2024/sales.v2");
        assert_eq!(k.parent(), "2024");
        assert_eq!(ObjectKey::new("x").unwrap().stem(), "x");
    }
}
