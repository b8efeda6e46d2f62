//! The bucket listing index: every object's key, sorted, in a SQLite file
//! (`index/listing.sqlite`), so a listing page is a range read of the index
//! instead of a walk of the folder.
//!
//! The folders stay the truth; the index is a cache of their names.
//! Each bucket's index records the modification time of every folder it
//! walked. A listing first compares them with the folders' own: a file
//! added, removed or renamed by hand changes its folder's time, and the
//! bucket is walked again. Tablero's own writes (put, delete, restore)
//! update the index in the same SQLite write transaction as the rename,
//! and only when the folders they touch were as indexed before; a process
//! killed between the rename and the commit leaves a folder time the index
//! does not have, so the next listing walks again. Deleting the file is
//! safe: it is built again on the next listing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use rusqlite::{params, Connection, OptionalExtension};
use tablero_core::store::Bucket;

use crate::error::{Error, Result};

/// The index's file, under the workspace.
pub const INDEX_FILE: &str = "index/listing.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dirs (
    bucket TEXT NOT NULL,
    dir TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    PRIMARY KEY (bucket, dir)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS built (
    bucket TEXT PRIMARY KEY,
    at TEXT NOT NULL
) WITHOUT ROWID;
";

/// The listing index of a workspace's buckets.
pub struct ListingIndex {
    root: PathBuf,
    conn: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for ListingIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListingIndex")
            .field("root", &self.root)
            .finish()
    }
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Refused(format!("the listing index {}: {e}", path.display()))
}

/// A folder's modification time in nanoseconds; `None` when it is gone.
fn mtime_ns(dir: &Path) -> Option<i64> {
    let t = fs::metadata(dir).ok()?.modified().ok()?;
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_nanos()).ok()
}

/// Folders from the bucket's root down to the one holding `key`, as paths
/// relative to the bucket ("" is the bucket itself).
fn dirs_of(key: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut at = 0;
    while let Some(p) = key[at..].find('/') {
        out.push(key[..at + p].to_string());
        at += p + 1;
    }
    out
}

impl ListingIndex {
    /// The index of the workspace at `root` (opened on first use).
    pub fn new(root: &Path) -> ListingIndex {
        ListingIndex {
            root: root.to_path_buf(),
            conn: Mutex::new(None),
        }
    }

    fn path(&self) -> PathBuf {
        self.root.join(INDEX_FILE)
    }

    fn bucket_dir(&self, b: Bucket) -> PathBuf {
        self.root.join("buckets").join(b.name())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| Error::Refused("the listing index's lock was poisoned".into()))?;
        if guard.is_none() {
            let path = self.path();
            if let Some(p) = path.parent() {
                fs::create_dir_all(p).map_err(Error::io(p))?;
            }
            let conn = Connection::open(&path).map_err(sql(&path))?;
            conn.busy_timeout(std::time::Duration::from_secs(30))
                .map_err(sql(&path))?;
            conn.execute_batch(SCHEMA).map_err(sql(&path))?;
            *guard = Some(conn);
        }
        match guard.as_mut() {
            Some(conn) => f(conn),
            None => Err(Error::Refused("the listing index is not open".into())),
        }
    }

    /// Whether the bucket's index was built and every folder it walked has
    /// the time it had then (only the folders in `only`, when given).
    fn fresh(&self, conn: &Connection, b: Bucket, only: Option<&[String]>) -> Result<bool> {
        let path = self.path();
        let built: Option<String> = conn
            .query_row("SELECT at FROM built WHERE bucket = ?1", [b.name()], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql(&path))?;
        if built.is_none() {
            return Ok(false);
        }
        let top = self.bucket_dir(b);
        match only {
            Some(dirs) => {
                let mut stmt = conn
                    .prepare_cached("SELECT mtime_ns FROM dirs WHERE bucket = ?1 AND dir = ?2")
                    .map_err(sql(&path))?;
                for d in dirs {
                    let recorded: Option<i64> = stmt
                        .query_row(params![b.name(), d], |r| r.get(0))
                        .optional()
                        .map_err(sql(&path))?;
                    let now = mtime_ns(&top.join(d));
                    // A folder neither indexed nor present is as indexed.
                    if recorded != now {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            None => {
                let mut stmt = conn
                    .prepare_cached("SELECT dir, mtime_ns FROM dirs WHERE bucket = ?1")
                    .map_err(sql(&path))?;
                let rows = stmt
                    .query_map([b.name()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                    })
                    .map_err(sql(&path))?;
                for row in rows {
                    let (d, t) = row.map_err(sql(&path))?;
                    if mtime_ns(&top.join(&d)) != Some(t) {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    /// Walks the bucket's folder and replaces its index.
    fn rebuild(&self, conn: &mut Connection, b: Bucket) -> Result<()> {
        let path = self.path();
        let mut keys = Vec::new();
        let mut dirs = BTreeMap::new();
        walk(&self.bucket_dir(b), "", &mut keys, &mut dirs)?;
        let tx = conn.transaction().map_err(sql(&path))?;
        tx.execute("DELETE FROM objects WHERE bucket = ?1", [b.name()])
            .map_err(sql(&path))?;
        tx.execute("DELETE FROM dirs WHERE bucket = ?1", [b.name()])
            .map_err(sql(&path))?;
        {
            let mut ins = tx
                .prepare("INSERT OR IGNORE INTO objects (bucket, key) VALUES (?1, ?2)")
                .map_err(sql(&path))?;
            for k in &keys {
                ins.execute(params![b.name(), k]).map_err(sql(&path))?;
            }
            let mut ins = tx
                .prepare("INSERT INTO dirs (bucket, dir, mtime_ns) VALUES (?1, ?2, ?3)")
                .map_err(sql(&path))?;
            for (d, t) in &dirs {
                ins.execute(params![b.name(), d, t]).map_err(sql(&path))?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO built (bucket, at) VALUES (?1, ?2)",
            params![b.name(), chrono::Utc::now().to_rfc3339()],
        )
        .map_err(sql(&path))?;
        tx.commit().map_err(sql(&path))?;
        tracing::info!(
            bucket = b.name(),
            objects = keys.len(),
            "listing index rebuilt"
        );
        Ok(())
    }

    /// Up to `limit` keys starting with `prefix`, after `after`, in order;
    /// and whether more follow. Walks the folder first when it changed
    /// since it was indexed.
    pub fn page(
        &self,
        b: Bucket,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, bool)> {
        let path = self.path();
        self.with(|conn| {
            if !self.fresh(conn, b, None)? {
                self.rebuild(conn, b)?;
            }
            let from = match after {
                Some(a) if a >= prefix => a,
                _ => prefix,
            };
            let strict = after.is_some_and(|a| a >= prefix);
            let query = if strict {
                "SELECT key FROM objects WHERE bucket = ?1 AND key > ?2 ORDER BY key LIMIT ?3"
            } else {
                "SELECT key FROM objects WHERE bucket = ?1 AND key >= ?2 ORDER BY key LIMIT ?3"
            };
            let mut stmt = conn.prepare_cached(query).map_err(sql(&path))?;
            let want = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(params![b.name(), from, want], |r| r.get::<_, String>(0))
                .map_err(sql(&path))?;
            let mut keys = Vec::with_capacity(limit.min(10_000));
            let mut more = false;
            for row in rows {
                let k = row.map_err(sql(&path))?;
                if !k.starts_with(prefix) {
                    break;
                }
                if keys.len() == limit {
                    more = true;
                    break;
                }
                keys.push(k);
            }
            Ok((keys, more))
        })
    }

    /// Runs `change` (a rename into or out of the bucket's folder for
    /// `key`) inside the index's write transaction; afterwards records
    /// `key` as present or not and the new times of its folders, when
    /// those folders were as indexed before. A failure of the index never
    /// fails the change: the next listing walks the folder again.
    pub fn change<T>(&self, b: Bucket, key: &str, change: impl FnOnce() -> Result<T>) -> Result<T> {
        let mut change = Some(change);
        let mut out = None;
        let indexed = self.with(|conn| {
            let path = self.path();
            let dirs = dirs_of(key);
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sql(&path))?;
            let fresh = self.fresh(&tx, b, Some(&dirs))?;
            let result = match change.take() {
                Some(f) => f(),
                None => return Ok(()),
            };
            let ok = result.is_ok();
            out = Some(result);
            if !ok || !fresh {
                return Ok(());
            }
            let top = self.bucket_dir(b);
            let present = top.join(key).is_file();
            if present {
                tx.execute(
                    "INSERT OR IGNORE INTO objects (bucket, key) VALUES (?1, ?2)",
                    params![b.name(), key],
                )
            } else {
                tx.execute(
                    "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
                    params![b.name(), key],
                )
            }
            .map_err(sql(&path))?;
            for d in &dirs {
                match mtime_ns(&top.join(d)) {
                    Some(t) => tx.execute(
                        "INSERT OR REPLACE INTO dirs (bucket, dir, mtime_ns) VALUES (?1, ?2, ?3)",
                        params![b.name(), d, t],
                    ),
                    None => tx.execute(
                        "DELETE FROM dirs WHERE bucket = ?1 AND dir = ?2",
                        params![b.name(), d],
                    ),
                }
                .map_err(sql(&path))?;
            }
            tx.commit().map_err(sql(&path))?;
            Ok(())
        });
        if let Err(e) = indexed {
            tracing::warn!("listing index not updated (the next listing rebuilds it): {e}");
        }
        match (out, change) {
            (Some(result), _) => result,
            // The index could not be opened: the change runs without it.
            (None, Some(f)) => f(),
            (None, None) => Err(Error::Refused("the change did not run".into())),
        }
    }
}

/// Every file under `dir` (not hidden, UTF-8 names) as keys, and every
/// folder with its time, read before its entries.
pub(crate) fn walk(
    dir: &Path,
    rel: &str,
    keys: &mut Vec<String>,
    dirs: &mut BTreeMap<String, i64>,
) -> Result<()> {
    let Some(t) = mtime_ns(dir) else {
        return Ok(());
    };
    dirs.insert(rel.to_string(), t);
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::Io {
                path: dir.to_path_buf(),
                source: e,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(Error::io(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let key = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let ft = entry.file_type().map_err(Error::io(entry.path()))?;
        if ft.is_dir() {
            walk(&entry.path(), &key, keys, dirs)?;
        } else if ft.is_file() {
            keys.push(key);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folders_of_a_key() {
        assert_eq!(dirs_of("a.csv"), vec![""]);
        assert_eq!(dirs_of("x/y/a.csv"), vec!["", "x", "x/y"]);
    }
}
