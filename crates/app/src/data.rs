//! Data: upload (validated, stored with the way to read it, audited), look
//! at a file before uploading it, previews, exports to a file, deletion and
//! its undo.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tablero_core::clean::Preset;
use tablero_core::ingest::{self, CsvOptions, IngestSpec, INGEST_META};
use tablero_core::ports::{
    Action, AuditEvent, Backend, BackendError, ErrorKind, Result, TrashEntry,
};
use tablero_core::preview::{self, Preview};
use tablero_core::report::RowExample;
use tablero_core::store::{Bucket, ObjectInfo, ObjectKey};
use tablero_core::table;

/// Bytes of a CSV read for a preview (grown if a row is longer).
const PREVIEW_BYTES: u64 = 1 << 20;

/// Bytes of a local file read to inspect it before an upload.
const INSPECT_BYTES: u64 = 1 << 20;

/// What an upload stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Upload {
    /// The stored object.
    pub object: ObjectInfo,
    /// How the file is read: encoding, delimiter, date format, mapping.
    pub ingest: IngestSpec,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows with a value that does not parse (kept in the raw object; the
    /// clean stage counts them under `unparseable`).
    pub unparseable: u64,
    /// Up to 5 of them.
    pub unparseable_examples: Vec<RowExample>,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// How a local CSV would be read, from its head (see [`inspect_file`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileInspection {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Encoding, delimiter, date format, columns and mapping, when the head
    /// reads as a transactions CSV.
    pub ingest: Option<IngestSpec>,
    /// The header's columns (also when the mapping is incomplete).
    pub columns: Vec<String>,
    /// Data rows read from the head.
    pub rows_sampled: u64,
    /// Whether the head was the whole file.
    pub whole_file: bool,
    /// What would refuse the upload, as far as the head shows.
    pub problems: Vec<String>,
}

/// Formats `data get` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Comma-separated text.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// What `data get` wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// The file written.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
    /// Its size.
    pub bytes: u64,
}

fn io_error(path: &Path, e: &std::io::Error) -> BackendError {
    BackendError::refused(format!("{}: {e}", path.display()))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file read for validation, hashed as it is read.
struct Hashing {
    inner: fs::File,
    hasher: Arc<Mutex<Sha256>>,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut h) = self.hasher.lock() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The file read again to be stored: at its end, its hash must be the
/// validated file's, or the store is told the read failed (and keeps
/// nothing).
struct Verified {
    inner: fs::File,
    hasher: Sha256,
    expect: String,
    checked: bool,
}

impl Read for Verified {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if n == 0 && !buf.is_empty() && !self.checked {
            self.checked = true;
            if hex(&self.hasher.clone().finalize()) != self.expect {
                return Err(std::io::Error::other(
                    "the file changed after it was validated (its SHA-256 differs)",
                ));
            }
        }
        Ok(n)
    }
}

fn too_large(file: &Path, size: u64, limit: u64) -> String {
    format!(
        "{} is {size} bytes, over the workspace limit of {limit} bytes ([limits] max_upload_bytes in tablero.toml)",
        file.display()
    )
}

/// Reads the head of a local CSV (up to 1 MiB, whole rows) and says how it
/// would be read: encoding, delimiter, date format, columns and their
/// mapping, and the problems the head already shows. Writes nothing; the
/// upload validates the whole file again.
pub fn inspect_file(backend: &Backend, file: &Path, opts: &CsvOptions) -> Result<FileInspection> {
    let size = fs::metadata(file).map_err(|e| io_error(file, &e))?.len();
    let mut head = Vec::with_capacity(INSPECT_BYTES.min(size) as usize);
    fs::File::open(file)
        .map_err(|e| io_error(file, &e))?
        .take(INSPECT_BYTES)
        .read_to_end(&mut head)
        .map_err(|e| io_error(file, &e))?;
    let whole_file = (head.len() as u64) == size;
    if !whole_file {
        if let Some(p) = head.iter().rposition(|&b| b == b'\n') {
            head.truncate(p + 1);
        }
    }
    let mut problems = Vec::new();
    let limit = backend.identity.limits().max_upload_bytes;
    if limit > 0 && size > limit {
        problems.push(too_large(file, size, limit));
    }
    let (ingest, columns, rows_sampled) = match ingest::inspect(&head, opts) {
        Ok((spec, parsed)) => {
            let columns = spec.columns.clone();
            (Some(spec), columns, parsed.rows_read)
        }
        Err(e) => {
            let columns = match &e {
                ingest::IngestError::MissingColumns { found, .. } => found.clone(),
                _ => Vec::new(),
            };
            problems.push(e.to_string());
            (None, columns, 0)
        }
    };
    Ok(FileInspection {
        path: file.to_path_buf(),
        size,
        ingest,
        columns,
        rows_sampled,
        whole_file,
        problems,
    })
}

/// Validates a CSV and stores it in the raw bucket with the way to read
/// it; replaces an object at the key only when `replace` (the old one goes
/// to the trash, and comes back if the new one cannot be stored). Stops,
/// storing nothing, when `cancelled` returns true: while the file is
/// validated (within moments), or while it is stored. On any refusal
/// nothing is stored.
pub fn upload(
    backend: &Backend,
    file: &Path,
    key: Option<&str>,
    opts: &CsvOptions,
    replace: bool,
    progress: &dyn Fn(u64, u64),
    cancelled: &dyn Fn() -> bool,
) -> Result<Upload> {
    let stopped = || BackendError::from(tablero_core::Error::Cancelled);
    let check = || if cancelled() { Err(stopped()) } else { Ok(()) };
    backend.identity.authorize(Action::Upload)?;
    let size = fs::metadata(file).map_err(|e| io_error(file, &e))?.len();
    let limit = backend.identity.limits().max_upload_bytes;
    if limit > 0 && size > limit {
        return Err(BackendError::refused(too_large(file, size, limit)));
    }
    let key_text = match key {
        Some(k) => k.to_string(),
        None => file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                BackendError::refused(format!(
                    "{} has no usable file name; give --key",
                    file.display()
                ))
            })?
            .to_string(),
    };
    let key = ObjectKey::new(&key_text)?;
    let exists = match backend.store.head(Bucket::Raw, &key) {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    if exists && !replace {
        return Err(BackendError::refused(format!(
            "raw/{key} already exists; choose another --key, or pass --replace (the old object goes to the workspace trash)"
        )));
    }
    // Every row is validated first, reading the file as a stream and
    // hashing it on the way; then the same bytes are stored, checked
    // against that hash. Memory holds a few blocks, whatever the size.
    // Progress: validating is the first half of `size`, storing the second.
    let hasher = Arc::new(Mutex::new(Sha256::new()));
    let open = || -> std::io::Result<Hashing> {
        let f = fs::File::open(file)?;
        if let Ok(mut h) = hasher.lock() {
            *h = Sha256::new();
        }
        Ok(Hashing {
            inner: f,
            hasher: Arc::clone(&hasher),
        })
    };
    let mut shown = 0u64;
    let mut show = |done: u64| {
        if done > shown {
            shown = done;
            progress(done, size);
        }
    };
    let validated = ingest::validate(open, opts, &mut |read| {
        if cancelled() {
            return Err(ingest::IngestError::Stopped);
        }
        show(read.min(size) / 2);
        Ok(())
    });
    let (spec, parsed) = match validated {
        Ok(v) => v,
        Err(ingest::IngestError::Stopped) => return Err(stopped()),
        Err(ingest::IngestError::Read(e)) => {
            return Err(BackendError::refused(format!(
                "{}: reading failed: {e}; nothing was stored",
                file.display()
            )))
        }
        Err(e) => return Err(tablero_core::Error::from(e).into()),
    };
    check()?;
    let sha = hasher
        .lock()
        .map(|h| hex(&h.clone().finalize()))
        .map_err(|_| BackendError::refused("hashing the file failed; nothing was stored"))?;
    let mut meta = BTreeMap::new();
    meta.insert(
        INGEST_META.to_string(),
        serde_json::to_string(&spec).map_err(|e| BackendError::refused(e.to_string()))?,
    );
    meta.insert("sha256".into(), sha.clone());
    meta.insert("rows".into(), parsed.rows_read.to_string());
    meta.insert("uploaded_by".into(), backend.identity.actor());
    meta.insert(
        "source_name".into(),
        file.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string(),
    );
    check()?;
    let previous = if exists {
        Some(backend.store.delete(Bucket::Raw, &key)?)
    } else {
        None
    };
    let mut body = Verified {
        inner: fs::File::open(file).map_err(|e| io_error(file, &e))?,
        hasher: Sha256::new(),
        expect: sha.clone(),
        checked: false,
    };
    let half = size / 2;
    let stored = backend
        .store
        .put(Bucket::Raw, &key, &mut body, size, &meta, &mut |done, _| {
            show(half + done.min(size).div_ceil(2));
            if cancelled() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    let object = match stored {
        Ok(o) => o,
        Err(e) => {
            // Nothing lost: the object it was to replace goes back.
            if let Some(p) = previous {
                let _ = backend.store.restore_deleted(&p.id);
            }
            return Err(e);
        }
    };
    let mut event = AuditEvent::new("upload", format!("raw/{key}")).after(format!(
        "{} bytes, {} rows, sha256 {sha}",
        size, parsed.rows_read
    ));
    if exists {
        event = event.before("replaced (previous version in trash)");
    }
    backend.audit.append_audit(&event)?;
    Ok(Upload {
        object,
        ingest: spec,
        rows: parsed.rows_read,
        unparseable: parsed.unparseable,
        unparseable_examples: parsed.unparseable_examples,
        sha256: sha,
    })
}

/// First rows, schema and stats of an object (a CSV: only its head is read).
pub fn preview(backend: &Backend, bucket: Bucket, key: &str, rows: usize) -> Result<Preview> {
    let key = ObjectKey::new(key)?;
    let store = &backend.store;
    let info = store.head(bucket, &key)?;
    let head = store.read_range(bucket, &key, 0, 4)?;
    if head == b"PAR1" {
        let bytes = store.read(bucket, &key)?;
        return Ok(preview::preview_parquet(&bytes, rows)?);
    }
    let spec = ingest::stored_spec(&info)?;
    let mut len = PREVIEW_BYTES;
    loop {
        let bytes = store.read_range(bucket, &key, 0, len)?;
        let whole = bytes.len() as u64 >= info.size;
        let p = preview::preview_csv(&bytes, &spec, rows)?;
        if whole || p.rows.len() >= rows {
            return Ok(p);
        }
        len *= 4;
    }
}

/// Copies an object to a file, converting between CSV and Parquet. The
/// file appears whole or not at all.
pub fn export(
    backend: &Backend,
    bucket: Bucket,
    key: &str,
    out: &Path,
    format: Option<FileFormat>,
    overwrite: bool,
) -> Result<Export> {
    let key = ObjectKey::new(key)?;
    let info = backend.store.head(bucket, &key)?;
    if out.exists() && !overwrite {
        return Err(BackendError::refused(format!(
            "{} already exists; pass --force to overwrite it",
            out.display()
        )));
    }
    let bytes = backend.store.read(bucket, &key)?;
    let source = if bytes.starts_with(b"PAR1") {
        FileFormat::Parquet
    } else {
        FileFormat::Csv
    };
    let format = format.unwrap_or(source);
    let data = match (source, format) {
        (a, b) if a == b => bytes,
        (FileFormat::Parquet, FileFormat::Csv) => {
            let mut df = table::from_parquet(&bytes)?;
            table::to_csv(&mut df)?
        }
        _ => {
            // CSV → Parquet: every column as text, exactly as in the file.
            let spec = ingest::stored_spec(&info)?;
            let (header, rows) =
                ingest::head(&bytes, &spec, usize::MAX).map_err(tablero_core::Error::from)?;
            let mut df = table::text_table(&header, &rows)?;
            let meta = table::TableMeta {
                kind: "raw".into(),
                preset: Preset::Standard,
                schema_version: 1,
                absent: Vec::new(),
                roles: None,
            };
            table::to_parquet(&mut df, &meta)?
        }
    };
    write_file_atomic(out, &data)?;
    Ok(Export {
        path: out.to_path_buf(),
        format,
        bytes: data.len() as u64,
    })
}

/// Writes `bytes` beside `out` and renames the file into place.
fn write_file_atomic(out: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = parent.join(format!(
        ".{}.tablero-part",
        out.file_name().and_then(|n| n.to_str()).unwrap_or("export")
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&staging)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&staging, out)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&staging);
        io_error(out, &e)
    })
}

/// Deletes an object (analyst): it goes to the trash, from which
/// [`restore`] takes it back. Audited.
pub fn delete(backend: &Backend, bucket: Bucket, key: &str) -> Result<TrashEntry> {
    backend.identity.authorize(Action::Delete)?;
    let key = ObjectKey::new(key)?;
    let info = backend.store.head(bucket, &key)?;
    let entry = backend.store.delete(bucket, &key)?;
    backend.audit.append_audit(
        &AuditEvent::new("delete", format!("{bucket}/{key}"))
            .before(format!("{} bytes", info.size))
            .after(format!("moved to {}", entry.path)),
    )?;
    Ok(entry)
}

/// Puts a deleted object (a [`TrashEntry::id`]) back where it was, with its
/// metadata (analyst). Refused when another object has that key now.
/// Audited.
pub fn restore(backend: &Backend, id: &str) -> Result<ObjectInfo> {
    backend.identity.authorize(Action::Restore)?;
    let info = backend.store.restore_deleted(id)?;
    backend.audit.append_audit(
        &AuditEvent::new("restore", format!("{}/{}", info.bucket, info.key))
            .before(format!("trash/{id}"))
            .after(format!("{} bytes", info.size)),
    )?;
    Ok(info)
}

/// What `data rm` did: the object deleted and where it is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deleted {
    /// The object.
    pub deleted: tablero_core::store::ObjectRef,
    /// Where it is kept ([`TrashEntry::path`]).
    pub trash: String,
    /// What `data restore` takes ([`TrashEntry::id`]).
    pub trash_id: String,
}

impl From<&TrashEntry> for Deleted {
    fn from(e: &TrashEntry) -> Deleted {
        Deleted {
            deleted: tablero_core::store::ObjectRef {
                bucket: e.bucket,
                key: e.key.clone(),
            },
            trash: e.path.clone(),
            trash_id: e.id.clone(),
        }
    }
}

/// The trash, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrashList {
    /// Deleted objects that can be restored.
    pub trash: Vec<TrashEntry>,
}

/// What `data restore` put back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Restored {
    /// The object, with its metadata.
    pub restored: ObjectInfo,
}

/// An upload being stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UploadCancelling {
    /// The file whose upload stops.
    pub cancelling: String,
}

/// Every object of a bucket under `prefix`, read `page_size` at a time.
pub fn list_all(
    backend: &Backend,
    bucket: Bucket,
    prefix: &str,
    page_size: usize,
) -> Result<tablero_core::store::Page> {
    let mut objects = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = backend
            .store
            .list(bucket, prefix, token.as_deref(), page_size)?;
        objects.extend(page.objects);
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    Ok(tablero_core::store::Page {
        objects,
        next_token: None,
    })
}
