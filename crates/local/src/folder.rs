//! Buckets as folders: `buckets/<bucket>/<key>` under the workspace, object
//! metadata in `meta/<bucket>/<key>.json`, staging in `tmp/`, deleted
//! objects in `trash/`. Every write is staged and renamed into place, so a
//! crash never leaves a partial object visible.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tablero_core::ports::{self, ArchiveRestore, BackendError, ObjectStore, TrashEntry};
use tablero_core::store::{Bucket, ObjectInfo, ObjectKey, Page};

use crate::error::{Error, Result};
use crate::listing::ListingIndex;

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The local `ObjectStore`.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
    index: Arc<ListingIndex>,
}

impl FolderStore {
    /// A store over the workspace at `root`.
    pub fn new(root: &Path) -> FolderStore {
        FolderStore {
            root: root.to_path_buf(),
            index: Arc::new(ListingIndex::new(root)),
        }
    }

    /// Creates the folders.
    pub fn create_dirs(&self) -> Result<()> {
        for b in Bucket::ALL {
            let p = self.bucket_dir(b);
            fs::create_dir_all(&p).map_err(Error::io(&p))?;
        }
        for d in ["tmp", "trash", "meta"] {
            let p = self.root.join(d);
            fs::create_dir_all(&p).map_err(Error::io(&p))?;
        }
        Ok(())
    }

    fn bucket_dir(&self, b: Bucket) -> PathBuf {
        self.root.join("buckets").join(b.name())
    }

    /// The file holding an object.
    pub fn path_of(&self, b: Bucket, key: &ObjectKey) -> PathBuf {
        self.bucket_dir(b).join(key.as_str())
    }

    /// An object's file, open for reading, and its path.
    fn open_object(&self, b: Bucket, key: &ObjectKey) -> Result<(File, PathBuf), Error> {
        let path = self.path_of(b, key);
        match File::open(&path) {
            Ok(f) => Ok((f, path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound {
                bucket: b.name().into(),
                key: key.to_string(),
            }),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }

    fn meta_path(&self, b: Bucket, key: &ObjectKey) -> PathBuf {
        self.root
            .join("meta")
            .join(b.name())
            .join(format!("{}.json", key.as_str()))
    }

    /// Removes an object's metadata file (after removing a half-registered
    /// object).
    pub(crate) fn remove_meta(&self, b: Bucket, key: &ObjectKey) {
        let _ = fs::remove_file(self.meta_path(b, key));
    }

    /// A fresh staging file path on the same file system as the buckets.
    pub fn staging_path(&self) -> PathBuf {
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        self.root
            .join("tmp")
            .join(format!("{}-{nanos}-{n}.part", std::process::id()))
    }

    /// Removes staged parts left in `tmp/` by processes that are gone (an
    /// upload killed outright): a part's name starts with its writer's
    /// process id. Parts of live processes are left alone; without
    /// `/proc` nothing is removed.
    pub fn sweep_staging(&self) {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else {
            return;
        };
        let me = std::process::id();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if name.ends_with(".part") && pid != me && !Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Whether an object exists.
    pub fn exists(&self, b: Bucket, key: &ObjectKey) -> bool {
        self.path_of(b, key).is_file()
    }

    /// Moves an object (and its metadata) into the trash; returns where.
    pub fn move_to_trash(&self, b: Bucket, key: &ObjectKey) -> Result<PathBuf> {
        self.index
            .change(b, key.as_str(), || self.move_to_trash_unindexed(b, key))
    }

    fn move_to_trash_unindexed(&self, b: Bucket, key: &ObjectKey) -> Result<PathBuf> {
        let src = self.path_of(b, key);
        if !src.is_file() {
            return Err(Error::NotFound {
                bucket: b.name().into(),
                key: key.to_string(),
            });
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ").to_string();
        let dest = self
            .root
            .join("trash")
            .join(b.name())
            .join(&stamp)
            .join(key.as_str());
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(Error::io(p))?;
        }
        fs::rename(&src, &dest).map_err(Error::io(&src))?;
        let meta = self.meta_path(b, key);
        if meta.is_file() {
            let _ = fs::rename(
                &meta,
                dest.with_file_name(format!("{}.meta.json", file_name(key))),
            );
        }
        self.prune_empty_dirs(b, key);
        Ok(dest)
    }

    fn trash_dir(&self, b: Bucket, stamp: &str) -> PathBuf {
        self.root.join("trash").join(b.name()).join(stamp)
    }

    /// Deleted objects still in the trash: (bucket, stamp, key, size),
    /// newest first.
    pub fn trashed(&self) -> Result<Vec<(Bucket, String, String, u64)>> {
        let mut out = Vec::new();
        for b in Bucket::ALL {
            let dir = self.root.join("trash").join(b.name());
            let stamps = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(Error::Io {
                        path: dir,
                        source: e,
                    })
                }
            };
            for stamp in stamps {
                let stamp = stamp.map_err(Error::io(&dir))?;
                let Some(name) = stamp.file_name().to_str().map(String::from) else {
                    continue;
                };
                if !stamp.path().is_dir() {
                    continue;
                }
                let mut keys = Vec::new();
                crate::listing::walk(&stamp.path(), "", &mut keys, &mut BTreeMap::new())?;
                for key in keys {
                    // `x.csv.meta.json` beside `x.csv` is x.csv's metadata.
                    let is_meta = key
                        .strip_suffix(".meta.json")
                        .is_some_and(|k| stamp.path().join(k).is_file());
                    if is_meta {
                        continue;
                    }
                    let size = fs::metadata(stamp.path().join(&key))
                        .map(|m| m.len())
                        .unwrap_or(0);
                    out.push((b, name.clone(), key, size));
                }
            }
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(&b.2)));
        Ok(out)
    }

    /// Moves a trashed object (and its metadata) back to its key. Refuses
    /// when an object is there now.
    pub fn untrash(&self, b: Bucket, stamp: &str, key: &ObjectKey) -> Result<PathBuf> {
        let src = self.trash_dir(b, stamp).join(key.as_str());
        if stamp.contains(['/', '\\']) || stamp.starts_with('.') || !src.is_file() {
            return Err(Error::Refused(format!(
                "nothing in the trash as {}/{stamp}/{key}; list it with `tablero data trash`",
                b.name()
            )));
        }
        let dest = self.path_of(b, key);
        if dest.exists() {
            return Err(Error::Refused(format!(
                "{}/{key} exists now; delete or move it before restoring the trashed one",
                b.name()
            )));
        }
        self.index.change(b, key.as_str(), || {
            if let Some(p) = dest.parent() {
                fs::create_dir_all(p).map_err(Error::io(p))?;
            }
            fs::rename(&src, &dest).map_err(Error::io(&src))
        })?;
        let meta = src.with_file_name(format!("{}.meta.json", file_name(key)));
        if meta.is_file() {
            let to = self.meta_path(b, key);
            if let Some(p) = to.parent() {
                fs::create_dir_all(p).map_err(Error::io(p))?;
            }
            fs::rename(&meta, &to).map_err(Error::io(&meta))?;
        }
        // Remove the emptied folders up to and including the stamp's.
        let top = self.root.join("trash").join(b.name());
        let mut dir = src.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == top || fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(dest)
    }

    fn prune_empty_dirs(&self, b: Bucket, key: &ObjectKey) {
        let top = self.bucket_dir(b);
        let mut dir = self.path_of(b, key).parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == top || fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }

    fn info(&self, b: Bucket, key: &str, path: &Path) -> Result<ObjectInfo> {
        let md = fs::metadata(path).map_err(Error::io(path))?;
        let modified = md
            .modified()
            .map(|t| {
                chrono::DateTime::<chrono::Utc>::from(t)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
            .unwrap_or_default();
        let metadata = ObjectKey::new(key)
            .ok()
            .and_then(|k| fs::read(self.meta_path(b, &k)).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Ok(ObjectInfo {
            bucket: b,
            key: key.to_string(),
            size: md.len(),
            modified,
            storage_class: "STANDARD".into(),
            metadata,
        })
    }
}

fn file_name(key: &ObjectKey) -> &str {
    key.as_str().rsplit('/').next().unwrap_or(key.as_str())
}

/// Writes `bytes` to a staging file and renames it to `dest`, creating
/// parent folders. The rename is atomic on one file system.
pub(crate) fn write_atomic(
    staging: &Path,
    dest: &Path,
    bytes: &[u8],
    progress: &dyn Fn(u64, u64),
) -> Result<()> {
    let total = bytes.len() as u64;
    let result = (|| {
        let mut f = File::create(staging).map_err(Error::io(staging))?;
        let mut written = 0u64;
        for chunk in bytes.chunks(4 << 20) {
            f.write_all(chunk).map_err(Error::io(staging))?;
            written += chunk.len() as u64;
            progress(written, total);
        }
        f.sync_all().map_err(Error::io(staging))?;
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(Error::io(p))?;
        }
        fs::rename(staging, dest).map_err(Error::io(dest))
    })();
    if result.is_err() {
        let _ = fs::remove_file(staging);
    }
    result
}

/// The trash folder's time stamp as RFC 3339.
fn stamp_time(stamp: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(stamp.trim_end_matches('Z'), "%Y%m%dT%H%M%S%.f")
        .map(|t| {
            t.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
        .unwrap_or_else(|_| stamp.to_string())
}

/// Bytes written to the staging file between progress reports.
const CHUNK: usize = 1 << 20;

impl FolderStore {
    fn entry(&self, bucket: Bucket, stamp: &str, key: &str, size: u64) -> TrashEntry {
        TrashEntry {
            id: format!("{bucket}/{stamp}/{key}"),
            path: self
                .trash_dir(bucket, stamp)
                .join(key)
                .display()
                .to_string(),
            deleted_at: stamp_time(stamp),
            bucket,
            key: key.to_string(),
            size,
        }
    }

    /// Streams `body` into a staging file; returns it and its size. On any
    /// failure or abort the staging file is gone.
    fn stage(
        &self,
        body: &mut dyn Read,
        len: u64,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> ports::Result<PathBuf> {
        let staging = self.staging_path();
        let result = (|| -> ports::Result<()> {
            let mut f = File::create(&staging).map_err(Error::io(&staging))?;
            let mut buf = vec![0u8; CHUNK];
            let mut written = 0u64;
            loop {
                let n = match body.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(BackendError::refused(format!(
                        "reading the upload failed after {written} bytes: {e}; nothing was stored"
                    )))
                    }
                };
                f.write_all(&buf[..n]).map_err(Error::io(&staging))?;
                written += n as u64;
                if written > len {
                    break;
                }
                if progress(written, len).is_break() {
                    return Err(BackendError::cancelled(
                        "upload cancelled; nothing was stored",
                    ));
                }
            }
            if written != len {
                return Err(BackendError::refused(format!(
                    "the upload announced {len} bytes but sent {}{written}; nothing was stored",
                    if written > len { "more than " } else { "" }
                )));
            }
            if len == 0 && progress(0, 0).is_break() {
                return Err(BackendError::cancelled(
                    "upload cancelled; nothing was stored",
                ));
            }
            f.sync_all().map_err(Error::io(&staging))?;
            Ok(())
        })();
        match result {
            Ok(()) => Ok(staging),
            Err(e) => {
                let _ = fs::remove_file(&staging);
                Err(e)
            }
        }
    }
}

impl ObjectStore for FolderStore {
    fn list(
        &self,
        bucket: Bucket,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> ports::Result<Page> {
        let limit = limit.max(1);
        let (keys, more) = self.index.page(bucket, prefix, token, limit)?;
        let mut objects = Vec::with_capacity(keys.len());
        for key in &keys {
            let path = self.bucket_dir(bucket).join(key);
            match self.info(bucket, key, &path) {
                Ok(info) => objects.push(info),
                // Deleted between the listing and the stat: skip it.
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let next_token = if more { keys.last().cloned() } else { None };
        Ok(Page {
            objects,
            next_token,
        })
    }

    fn head(&self, bucket: Bucket, key: &ObjectKey) -> ports::Result<ObjectInfo> {
        let path = self.path_of(bucket, key);
        if !path.is_file() {
            return Err(Error::NotFound {
                bucket: bucket.name().into(),
                key: key.to_string(),
            }
            .into());
        }
        Ok(self.info(bucket, key.as_str(), &path)?)
    }

    fn read(&self, bucket: Bucket, key: &ObjectKey) -> ports::Result<Vec<u8>> {
        let (mut f, path) = self.open_object(bucket, key)?;
        let mut out = Vec::new();
        f.read_to_end(&mut out).map_err(Error::io(&path))?;
        Ok(out)
    }

    fn open_file(&self, bucket: Bucket, key: &ObjectKey) -> ports::Result<Option<File>> {
        Ok(Some(self.open_object(bucket, key)?.0))
    }

    fn read_range(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> ports::Result<Vec<u8>> {
        let (mut f, path) = self.open_object(bucket, key)?;
        f.seek(SeekFrom::Start(start)).map_err(Error::io(&path))?;
        let mut buf = Vec::with_capacity(len.min(64 << 20) as usize);
        f.take(len)
            .read_to_end(&mut buf)
            .map_err(Error::io(&path))?;
        Ok(buf)
    }

    fn put(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        body: &mut dyn Read,
        len: u64,
        metadata: &BTreeMap<String, String>,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> ports::Result<ObjectInfo> {
        // The bytes first, staged: an abort or a failure changes nothing.
        let staged = self.stage(body, len, progress)?;
        let result = (|| -> Result<ObjectInfo> {
            let meta_path = self.meta_path(bucket, key);
            if metadata.is_empty() {
                let _ = fs::remove_file(&meta_path);
            } else {
                let json = serde_json::to_vec_pretty(metadata)
                    .map_err(|e| Error::Refused(e.to_string()))?;
                write_atomic(&self.staging_path(), &meta_path, &json, &|_, _| {})?;
            }
            let dest = self.path_of(bucket, key);
            self.index.change(bucket, key.as_str(), || {
                if let Some(p) = dest.parent() {
                    fs::create_dir_all(p).map_err(Error::io(p))?;
                }
                fs::rename(&staged, &dest).map_err(Error::io(&dest))
            })?;
            self.info(bucket, key.as_str(), &dest)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&staged);
        }
        Ok(result?)
    }

    fn delete(&self, bucket: Bucket, key: &ObjectKey) -> ports::Result<TrashEntry> {
        let size = self.head(bucket, key)?.size;
        let dest = self.move_to_trash(bucket, key)?;
        let stamp = dest
            .strip_prefix(self.root.join("trash").join(bucket.name()))
            .ok()
            .and_then(|rel| rel.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(self.entry(bucket, &stamp, key.as_str(), size))
    }

    fn trash(&self) -> ports::Result<Vec<TrashEntry>> {
        Ok(self
            .trashed()?
            .into_iter()
            .map(|(bucket, stamp, key, size)| self.entry(bucket, &stamp, &key, size))
            .collect())
    }

    fn restore_deleted(&self, id: &str) -> ports::Result<ObjectInfo> {
        let mut parts = id.splitn(3, '/');
        let (Some(bucket), Some(stamp), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Refused(format!(
                "{id:?} is not a trash id (<bucket>/<time>/<key>); list them with `tablero data trash`"
            ))
            .into());
        };
        let bucket: Bucket = bucket.parse()?;
        let key = ObjectKey::new(key)?;
        self.untrash(bucket, stamp, &key)?;
        self.head(bucket, &key)
    }

    fn restore_archived(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        _days: u32,
    ) -> ports::Result<ArchiveRestore> {
        self.head(bucket, key)?;
        Err(BackendError::unsupported(
            "restoring an archived object",
            "a local workspace keeps every object readable (storage class STANDARD); there is nothing to restore",
        ))
    }
}
