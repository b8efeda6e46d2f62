//! The object store port: the three buckets, folders locally, S3 on AWS.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::Result;
use crate::store::{Bucket, ObjectInfo, ObjectKey, Page};

/// A deleted object the store keeps and can put back (the workspace trash
/// locally; a noncurrent version on a versioned bucket).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrashEntry {
    /// What [`ObjectStore::restore_deleted`] takes (`<bucket>/<time>/<key>`
    /// locally).
    pub id: String,
    /// Bucket it was deleted from.
    pub bucket: Bucket,
    /// Its key there.
    pub key: String,
    /// When it was deleted (RFC 3339, UTC).
    pub deleted_at: String,
    /// Size in bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: u64,
    /// Where it is kept (a file in the workspace trash locally).
    pub path: String,
}

/// Where the restore of an archived object stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RestoreState {
    /// Asked for; the object is not readable yet.
    Requested,
    /// Readable again until the restore expires.
    Restored,
}

/// A request to bring an archived object (S3 Glacier, Deep Archive) back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ArchiveRestore {
    /// Bucket.
    pub bucket: Bucket,
    /// Key.
    pub key: String,
    /// Where it stands.
    pub state: RestoreState,
    /// Days the restored copy stays readable.
    pub days: u32,
}

/// Buckets of objects with metadata. Writes are atomic: an object is never
/// visible half-written, and an aborted upload leaves nothing behind (on
/// S3: no orphaned multipart parts).
///
/// Two restores are named apart: [`ObjectStore::restore_deleted`] takes a
/// deleted object back from the trash; [`ObjectStore::restore_archived`]
/// asks for an archived object to be readable again.
pub trait ObjectStore: Send + Sync {
    /// Objects whose key starts with `prefix`, sorted by key, `limit` at a
    /// time, continuing after `token` (the previous page's `next_token`).
    fn list(&self, bucket: Bucket, prefix: &str, token: Option<&str>, limit: usize)
        -> Result<Page>;

    /// One object's size, modification time, storage class and metadata.
    fn head(&self, bucket: Bucket, key: &ObjectKey) -> Result<ObjectInfo>;

    /// The whole object.
    fn read(&self, bucket: Bucket, key: &ObjectKey) -> Result<Vec<u8>>;

    /// `len` bytes from `start` (fewer at the end of the object).
    fn read_range(&self, bucket: Bucket, key: &ObjectKey, start: u64, len: u64) -> Result<Vec<u8>>;

    /// The object as an open file, for a store that keeps objects as files
    /// on this machine: read in place, without a copy per ranged read.
    /// `None` (the default) when it does not: read it by ranges
    /// ([`ObjectReader`]). The file is the object as it was when opened,
    /// whatever replaces it later.
    fn open_file(&self, bucket: Bucket, key: &ObjectKey) -> Result<Option<std::fs::File>> {
        let _ = (bucket, key);
        Ok(None)
    }

    /// Streams `len` bytes from `body` into an object with its metadata,
    /// replacing any object at `key`. `progress(done, total)` is called as
    /// bytes are stored; when it returns `Break` the upload stops, nothing
    /// becomes visible, and the error is `cancelled`. A body shorter or
    /// longer than `len` is refused the same way.
    fn put(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        body: &mut dyn Read,
        len: u64,
        metadata: &BTreeMap<String, String>,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<ObjectInfo>;

    /// Deletes an object, keeping it where [`ObjectStore::restore_deleted`]
    /// can take it back (the trash locally; a noncurrent version on a
    /// versioned bucket); returns where.
    fn delete(&self, bucket: Bucket, key: &ObjectKey) -> Result<TrashEntry>;

    /// Deleted objects that can be taken back, newest first.
    fn trash(&self) -> Result<Vec<TrashEntry>>;

    /// Puts a deleted object (a [`TrashEntry::id`]) back at its key, with
    /// its metadata. Refused when an object has that key now.
    fn restore_deleted(&self, id: &str) -> Result<ObjectInfo>;

    /// Where an object is, as a URI people and other tools use (recorded in
    /// model cards): `tablero://<bucket>/<key>` unless the store has a
    /// better one (`s3://<bucket name>/<key>` on S3).
    fn uri(&self, bucket: Bucket, key: &str) -> String {
        format!("tablero://{bucket}/{key}")
    }

    /// Asks for an archived object to be readable for `days` days.
    fn restore_archived(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        days: u32,
    ) -> Result<ArchiveRestore>;
}

/// Writes `bytes` as one object, without progress.
/// An object read as a stream, `chunk` bytes per ranged read: a file of
/// any size through the same port, in memory bounded by one chunk.
pub struct ObjectReader<'a> {
    store: &'a dyn ObjectStore,
    bucket: Bucket,
    key: ObjectKey,
    size: u64,
    pos: u64,
    chunk: u64,
    buf: Vec<u8>,
    buf_pos: usize,
}

impl<'a> ObjectReader<'a> {
    /// Reads `key` (of `size` bytes, from [`ObjectStore::head`]).
    pub fn new(
        store: &'a dyn ObjectStore,
        bucket: Bucket,
        key: &ObjectKey,
        size: u64,
        chunk: usize,
    ) -> ObjectReader<'a> {
        ObjectReader {
            store,
            bucket,
            key: key.clone(),
            size,
            pos: 0,
            chunk: chunk.max(1) as u64,
            buf: Vec::new(),
            buf_pos: 0,
        }
    }
}

impl std::io::Read for ObjectReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf_pos == self.buf.len() {
            if self.pos >= self.size || out.is_empty() {
                return Ok(0);
            }
            let len = self.chunk.min(self.size - self.pos);
            self.buf = self
                .store
                .read_range(self.bucket, &self.key, self.pos, len)
                .map_err(|e| std::io::Error::other(format!("{}/{}: {e}", self.bucket, self.key)))?;
            self.buf_pos = 0;
            if self.buf.is_empty() {
                return Ok(0);
            }
            self.pos += self.buf.len() as u64;
        }
        let n = out.len().min(self.buf.len() - self.buf_pos);
        out[..n].copy_from_slice(&self.buf[self.buf_pos..self.buf_pos + n]);
        self.buf_pos += n;
        Ok(n)
    }
}

pub fn put_bytes(
    store: &dyn ObjectStore,
    bucket: Bucket,
    key: &ObjectKey,
    bytes: &[u8],
    metadata: &BTreeMap<String, String>,
) -> Result<ObjectInfo> {
    let mut body = bytes;
    store.put(
        bucket,
        key,
        &mut body,
        bytes.len() as u64,
        metadata,
        &mut |_, _| ControlFlow::Continue(()),
    )
}
