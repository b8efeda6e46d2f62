//! The object store on S3: the three buckets, versioned, so that a deletion
//! can be undone. Uploads stream in parts and abort on failure or cancel
//! (no orphaned parts); archived objects (GLACIER, DEEP_ARCHIVE) are shown
//! as such and can be restored.
//!
//! An object's metadata (the upload's ingest spec and column mapping) is
//! one JSON map. When it fits S3's user metadata it is the object's
//! `x-amz-meta-tablero-meta`; when it does not (S3 allows 2 KB), it is a
//! sidecar object `.tablero/meta/<sha256>.json` in the same bucket, written
//! first and named by the object's `x-amz-meta-tablero-meta-ref`, so the
//! object and its metadata appear together, atomically. Keys under
//! `.tablero/` are never listed (a Tablero key cannot start with `.`).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::ops::ControlFlow;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, GlacierJobParameters, MetadataDirective,
    RestoreRequest, StorageClass, Tier,
};
use sha2::{Digest, Sha256};
use tablero_core::ports::{
    ArchiveRestore, BackendError, ErrorKind, ObjectStore, RestoreState, Result, TrashEntry,
};
use tablero_core::store::{Bucket, ObjectInfo, ObjectKey, Page};

use crate::clients::rfc3339;
use crate::config::Buckets;
use crate::error::{fail, is_not_found, is_precondition_failed};
use crate::runtime::block_on;

/// User metadata key holding the metadata map inline.
const META: &str = "tablero-meta";
/// User metadata key naming the sidecar that holds it.
const META_REF: &str = "tablero-meta-ref";
/// Where sidecars live; hidden from listings.
const HIDDEN: &str = ".tablero/";
/// Largest inline metadata (S3 allows 2 KB of user metadata in all).
const INLINE_MAX: usize = 1800;
/// Default part size of multipart uploads.
pub const PART_SIZE: usize = 8 << 20;
/// S3's smallest part (all but the last).
const MIN_PART: usize = 5 << 20;

/// The three buckets on S3.
#[derive(Clone, Debug)]
pub struct S3Store {
    s3: aws_sdk_s3::Client,
    buckets: Buckets,
    part_size: usize,
}

/// A JSON map with every non-ASCII character escaped, so it is a valid
/// HTTP header value.
fn ascii_json(map: &BTreeMap<String, String>) -> String {
    let text = serde_json::to_string(map).unwrap_or_else(|_| "{}".into());
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Percent-encodes a key for `x-amz-copy-source` (keeping `/`).
fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Keys listings never show: sidecars and trash records, and in the
/// models bucket the audit trail (shown by the audit view).
fn hidden(bucket: Bucket, key: &str) -> bool {
    key.starts_with(HIDDEN)
        || (bucket == Bucket::Models && key.starts_with(crate::audit::PREFIX))
        || (bucket == Bucket::Clean && key.starts_with(crate::etl::JOBS_PREFIX))
}

/// A deletion made here: which version, when.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct TrashRecord {
    key: String,
    version: String,
    deleted_at: String,
    size: u64,
}

fn record_key(version: &str) -> String {
    format!("{HIDDEN}trash/{version}.json")
}

fn is_archived(class: &str) -> bool {
    matches!(class, "GLACIER" | "DEEP_ARCHIVE")
}

/// `ongoing-request="false", expiry-date="…"` → restored.
fn restore_state(header: Option<&str>) -> Option<RestoreState> {
    let h = header?;
    if h.contains("ongoing-request=\"true\"") {
        Some(RestoreState::Requested)
    } else if h.contains("ongoing-request=\"false\"") {
        Some(RestoreState::Restored)
    } else {
        None
    }
}

/// What a HEAD says, before the metadata is resolved.
struct Head {
    size: u64,
    modified: String,
    class: String,
    user: HashMap<String, String>,
    version: Option<String>,
    restore: Option<RestoreState>,
}

impl S3Store {
    /// The store over `buckets`.
    pub fn new(s3: aws_sdk_s3::Client, buckets: Buckets) -> S3Store {
        S3Store {
            s3,
            buckets,
            part_size: PART_SIZE,
        }
    }

    /// With another part size for multipart uploads (at least 5 MiB).
    pub fn with_part_size(mut self, bytes: usize) -> S3Store {
        self.part_size = bytes.max(MIN_PART);
        self
    }

    /// The S3 bucket behind `bucket`.
    pub fn bucket_name(&self, bucket: Bucket) -> &str {
        self.buckets.name(bucket)
    }

    /// The client.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    async fn head_raw(
        s3: &aws_sdk_s3::Client,
        name: &str,
        key: &str,
        version: Option<&str>,
        shown: &str,
    ) -> Result<Head> {
        let what = format!("read {shown}");
        let out = s3
            .head_object()
            .bucket(name)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    BackendError::not_found(format!("{shown} does not exist"))
                } else {
                    fail("s3:GetObject", &what)(e)
                }
            })?;
        Ok(Head {
            size: out.content_length().unwrap_or(0).max(0) as u64,
            modified: rfc3339(out.last_modified()),
            class: out
                .storage_class()
                .map(|c| c.as_str().to_string())
                .unwrap_or_else(|| "STANDARD".into()),
            user: out.metadata().cloned().unwrap_or_default(),
            version: out
                .version_id()
                .filter(|v| *v != "null")
                .map(str::to_string),
            restore: restore_state(out.restore()),
        })
    }

    /// The metadata map of an object's user metadata (reading its sidecar
    /// when it has one).
    async fn metadata(
        s3: &aws_sdk_s3::Client,
        name: &str,
        user: &HashMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        if let Some(inline) = user.get(META) {
            return serde_json::from_str(inline).map_err(|e| {
                BackendError::refused(format!("the object's {META} metadata is unreadable: {e}"))
            });
        }
        let Some(sha) = user.get(META_REF) else {
            return Ok(BTreeMap::new());
        };
        let key = format!("{HIDDEN}meta/{sha}.json");
        let what = format!("read the metadata of an object in {name}");
        let out = s3
            .get_object()
            .bucket(name)
            .key(&key)
            .send()
            .await
            .map_err(fail("s3:GetObject", &what))?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BackendError::refused(format!("{what}: {e}")))?
            .into_bytes();
        serde_json::from_slice(&bytes).map_err(|e| {
            BackendError::refused(format!("metadata sidecar {key} is unreadable: {e}"))
        })
    }

    fn shown(bucket: Bucket, key: &str) -> String {
        format!("{bucket}/{key}")
    }

    /// What one call on `key` needs: the client, the bucket's name, the
    /// key, and how messages name the object.
    fn target(&self, bucket: Bucket, key: &str) -> (aws_sdk_s3::Client, String, String, String) {
        (
            self.s3.clone(),
            self.bucket_name(bucket).to_string(),
            key.to_string(),
            Self::shown(bucket, key),
        )
    }

    /// Puts `bytes` at `key` only when no object has that key
    /// (`If-None-Match: *`); `false` when one does. The audit trail and
    /// the registry's decisions are written this way.
    pub fn put_if_absent(&self, bucket: Bucket, key: &str, bytes: Vec<u8>) -> Result<bool> {
        let (s3, name, key, shown) = self.target(bucket, key);
        block_on(async move {
            let what = format!("write {shown}");
            match s3
                .put_object()
                .bucket(&name)
                .key(&key)
                .if_none_match("*")
                .content_type("application/json")
                .body(ByteStream::from(bytes))
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(e) if is_precondition_failed(&e) => Ok(false),
                Err(e) => Err(fail("s3:PutObject", &what)(e)),
            }
        })
    }

    /// Puts `bytes` at `key` only when the object there still has ETag
    /// `etag` (`If-Match`); `false` when it changed.
    pub fn put_if_match(
        &self,
        bucket: Bucket,
        key: &str,
        bytes: Vec<u8>,
        etag: &str,
    ) -> Result<bool> {
        let (s3, name, key, shown) = self.target(bucket, key);
        let etag = etag.to_string();
        block_on(async move {
            let what = format!("write {shown}");
            match s3
                .put_object()
                .bucket(&name)
                .key(&key)
                .if_match(etag)
                .content_type("application/json")
                .body(ByteStream::from(bytes))
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(e) if is_precondition_failed(&e) || is_not_found(&e) => Ok(false),
                Err(e) => Err(fail("s3:PutObject", &what)(e)),
            }
        })
    }

    /// An object and its ETag; `None` when there is none.
    pub fn read_tagged(&self, bucket: Bucket, key: &str) -> Result<Option<(Vec<u8>, String)>> {
        let (s3, name, key, shown) = self.target(bucket, key);
        block_on(async move {
            let what = format!("read {shown}");
            let out = match s3.get_object().bucket(&name).key(&key).send().await {
                Ok(o) => o,
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(fail("s3:GetObject", &what)(e)),
            };
            let etag = out.e_tag().unwrap_or_default().to_string();
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| BackendError::new(ErrorKind::Offline, format!("cannot {what}: {e}")))?
                .into_bytes();
            Ok(Some((bytes.to_vec(), etag)))
        })
    }

    /// What identifies an object's content (its version id in a versioned
    /// bucket, else its ETag), and its size.
    pub fn version_of(&self, bucket: Bucket, key: &str) -> Result<(String, u64)> {
        let (s3, name, key, shown) = self.target(bucket, key);
        block_on(async move {
            let what = format!("read {shown}");
            let out = s3
                .head_object()
                .bucket(&name)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    if is_not_found(&e) {
                        BackendError::not_found(format!("{shown} does not exist"))
                    } else {
                        fail("s3:GetObject", &what)(e)
                    }
                })?;
            let version = out
                .version_id()
                .filter(|v| *v != "null")
                .or(out.e_tag())
                .unwrap_or_default()
                .trim_matches('"')
                .to_string();
            Ok((version, out.content_length().unwrap_or(0).max(0) as u64))
        })
    }

    /// Copies `from` to `to` in `bucket` on S3's side, metadata and all.
    pub fn copy(&self, bucket: Bucket, from: &str, to: &str) -> Result<()> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let (from, to) = (from.to_string(), to.to_string());
        let shown = Self::shown(bucket, &to);
        block_on(async move {
            let what = format!("write {shown}");
            s3.copy_object()
                .bucket(&name)
                .key(&to)
                .copy_source(format!("{name}/{}", encode_key(&from)))
                .metadata_directive(aws_sdk_s3::types::MetadataDirective::Copy)
                .send()
                .await
                .map_err(fail("s3:PutObject", &what))?;
            Ok(())
        })
    }

    /// Deletes `key` outright (no trash record): job state and staged
    /// outputs. Deleting a key that is not there is not an error.
    pub fn remove(&self, bucket: Bucket, key: &str) -> Result<()> {
        let (s3, name, key, shown) = self.target(bucket, key);
        block_on(async move {
            let what = format!("delete {shown}");
            s3.delete_object()
                .bucket(&name)
                .key(&key)
                .send()
                .await
                .map_err(fail("s3:DeleteObject", &what))?;
            Ok(())
        })
    }

    /// Puts `bytes` at `key`, replacing what is there (job state).
    pub fn put_json(&self, bucket: Bucket, key: &str, bytes: Vec<u8>) -> Result<()> {
        let (s3, name, key, shown) = self.target(bucket, key);
        block_on(async move {
            let what = format!("write {shown}");
            s3.put_object()
                .bucket(&name)
                .key(&key)
                .content_type("application/json")
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map_err(fail("s3:PutObject", &what))?;
            Ok(())
        })
    }

    /// Whether `key` exists.
    pub fn exists(&self, bucket: Bucket, key: &str) -> Result<bool> {
        let (s3, name, key, shown) = self.target(bucket, key);
        block_on(async move {
            let what = format!("read {shown}");
            match s3.head_object().bucket(&name).key(&key).send().await {
                Ok(_) => Ok(true),
                Err(e) if is_not_found(&e) => Ok(false),
                Err(e) => Err(fail("s3:GetObject", &what)(e)),
            }
        })
    }

    /// Every key under `prefix` of `bucket` (all pages), with its time.
    pub fn keys(
        &self,
        bucket: Bucket,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<(String, String)>> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let (prefix, start_after) = (prefix.to_string(), start_after.map(str::to_string));
        block_on(async move {
            let what = format!("list {name}");
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = s3
                    .list_objects_v2()
                    .bucket(&name)
                    .prefix(&prefix)
                    .set_start_after(if token.is_none() {
                        start_after.clone()
                    } else {
                        None
                    })
                    .set_continuation_token(token.clone())
                    .send()
                    .await
                    .map_err(fail("s3:ListBucket", &what))?;
                for o in page.contents() {
                    if let Some(k) = o.key() {
                        out.push((k.to_string(), rfc3339(o.last_modified())));
                    }
                }
                match page.next_continuation_token() {
                    Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                    _ => break,
                }
            }
            Ok(out)
        })
    }

    /// Moves an object to archival storage (what a lifecycle rule does),
    /// keeping its metadata.
    pub fn archive(&self, bucket: Bucket, key: &ObjectKey, class: &str) -> Result<()> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let (key, class) = (key.as_str().to_string(), class.to_string());
        block_on(async move {
            s3.copy_object()
                .bucket(&name)
                .key(&key)
                .copy_source(format!("{name}/{}", encode_key(&key)))
                .metadata_directive(MetadataDirective::Copy)
                .storage_class(StorageClass::from(class.as_str()))
                .send()
                .await
                .map_err(fail("s3:PutObject", "archive an object"))?;
            Ok(())
        })
    }
}

/// Reads exactly `buf.len()` bytes unless the body ends first; returns how
/// many were read.
fn fill(body: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match body.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads the next part of an upload (at most `want` bytes), reporting
/// progress every 64 KiB read; `Err` when the body fails, ends early or the
/// user cancels.
fn read_part(
    body: &mut dyn Read,
    want: usize,
    done: &mut u64,
    len: u64,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<Vec<u8>> {
    let mut part = vec![0u8; want];
    let mut filled = 0;
    while filled < want {
        let step = (want - filled).min(64 << 10);
        let n = fill(body, &mut part[filled..filled + step]).map_err(|e| {
            BackendError::invalid_input(format!(
                "reading the upload failed after {} bytes: {e}; nothing was stored",
                *done
            ))
        })?;
        filled += n;
        *done += n as u64;
        if n < step {
            return Err(BackendError::invalid_input(format!(
                "the upload announced {len} bytes but sent {}; nothing was stored",
                *done
            )));
        }
        if *done < len && progress(*done, len).is_break() {
            return Err(BackendError::cancelled(
                "upload cancelled; nothing was stored",
            ));
        }
    }
    Ok(part)
}

impl ObjectStore for S3Store {
    fn list(
        &self,
        bucket: Bucket,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<Page> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let (prefix, token) = (prefix.to_string(), token.map(str::to_string));
        let limit = limit.clamp(1, 1000) as i32;
        block_on(async move {
            let what = format!("list {bucket} (s3://{name})");
            let page = s3
                .list_objects_v2()
                .bucket(&name)
                .prefix(&prefix)
                .max_keys(limit)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(fail("s3:ListBucket", &what))?;
            let listed: Vec<(String, u64, String, String)> = page
                .contents()
                .iter()
                .filter_map(|o| {
                    let key = o.key()?.to_string();
                    (!hidden(bucket, &key)).then(|| {
                        (
                            key,
                            o.size().unwrap_or(0).max(0) as u64,
                            rfc3339(o.last_modified()),
                            o.storage_class()
                                .map(|c| c.as_str().to_string())
                                .unwrap_or_else(|| "STANDARD".into()),
                        )
                    })
                })
                .collect();
            // Each object's metadata: a HEAD each, a few at a time.
            let mut objects = Vec::with_capacity(listed.len());
            for chunk in listed.chunks(16) {
                let mut tasks = tokio::task::JoinSet::new();
                for (i, (key, ..)) in chunk.iter().enumerate() {
                    let (s3, name, key) = (s3.clone(), name.clone(), key.clone());
                    tasks.spawn(async move {
                        let shown = format!("{bucket}/{key}");
                        let head = S3Store::head_raw(&s3, &name, &key, None, &shown).await;
                        let meta = match head {
                            Ok(h) => S3Store::metadata(&s3, &name, &h.user).await,
                            // Deleted since the listing: listed without metadata.
                            Err(e) if e.kind() == ErrorKind::NotFound => Ok(BTreeMap::new()),
                            Err(e) => Err(e),
                        };
                        (i, meta)
                    });
                }
                let mut metas = vec![BTreeMap::new(); chunk.len()];
                while let Some(done) = tasks.join_next().await {
                    let (i, meta) =
                        done.map_err(|e| BackendError::refused(format!("{what}: {e}")))?;
                    metas[i] = meta?;
                }
                for ((key, size, modified, class), metadata) in chunk.iter().cloned().zip(metas) {
                    objects.push(ObjectInfo {
                        bucket,
                        key,
                        size,
                        modified,
                        storage_class: class,
                        metadata,
                    });
                }
            }
            let next_token = match page.is_truncated() {
                Some(true) => page.next_continuation_token().map(str::to_string),
                _ => None,
            };
            Ok(Page {
                objects,
                next_token,
            })
        })
    }

    fn head(&self, bucket: Bucket, key: &ObjectKey) -> Result<ObjectInfo> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let key = key.as_str().to_string();
        block_on(async move {
            let shown = S3Store::shown(bucket, &key);
            let h = S3Store::head_raw(&s3, &name, &key, None, &shown).await?;
            let metadata = S3Store::metadata(&s3, &name, &h.user).await?;
            Ok(ObjectInfo {
                bucket,
                key,
                size: h.size,
                modified: h.modified,
                storage_class: h.class,
                metadata,
            })
        })
    }

    fn read(&self, bucket: Bucket, key: &ObjectKey) -> Result<Vec<u8>> {
        self.get(bucket, key, None)
    }

    fn read_range(&self, bucket: Bucket, key: &ObjectKey, start: u64, len: u64) -> Result<Vec<u8>> {
        if len == 0 {
            // Still say when the object is absent.
            self.head(bucket, key)?;
            return Ok(Vec::new());
        }
        self.get(bucket, key, Some((start, len)))
    }

    fn put(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        body: &mut dyn Read,
        len: u64,
        metadata: &BTreeMap<String, String>,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<ObjectInfo> {
        let name = self.bucket_name(bucket).to_string();
        let shown = S3Store::shown(bucket, key.as_str());
        let user = self.user_metadata(bucket, metadata)?;
        let mut done = 0u64;
        // S3 takes at most 10,000 parts: bigger objects get bigger parts.
        let part_size = (self.part_size as u64).max(len.div_ceil(10_000));
        if len <= part_size {
            let bytes = read_part(body, len as usize, &mut done, len, progress)?;
            self.refuse_longer(body, len)?;
            if progress(len, len).is_break() {
                return Err(BackendError::cancelled(
                    "upload cancelled; nothing was stored",
                ));
            }
            let (s3, k) = (self.s3.clone(), key.as_str().to_string());
            block_on(async move {
                let what = format!("upload {shown}");
                s3.put_object()
                    .bucket(&name)
                    .key(&k)
                    .set_metadata(Some(user))
                    .body(ByteStream::from(bytes))
                    .send()
                    .await
                    .map_err(fail("s3:PutObject", &what))?;
                Ok(())
            })?;
            return self.head(bucket, key);
        }
        // Multipart: parts as they are read; any failure aborts the upload.
        let (s3, k) = (self.s3.clone(), key.as_str().to_string());
        let upload_id = {
            let (s3, name, k, shown) = (s3.clone(), name.clone(), k.clone(), shown.clone());
            block_on(async move {
                let what = format!("upload {shown}");
                let out = s3
                    .create_multipart_upload()
                    .bucket(&name)
                    .key(&k)
                    .set_metadata(Some(user))
                    .send()
                    .await
                    .map_err(fail("s3:PutObject", &what))?;
                out.upload_id().map(str::to_string).ok_or_else(|| {
                    BackendError::refused(format!("cannot {what}: S3 gave no upload id"))
                })
            })?
        };
        let abort = |why: BackendError| -> BackendError {
            let (s3, name, kk, id) = (s3.clone(), name.clone(), k.clone(), upload_id.clone());
            let aborted = block_on(async move {
                s3.abort_multipart_upload()
                    .bucket(&name)
                    .key(&kk)
                    .upload_id(&id)
                    .send()
                    .await
                    .map_err(fail("s3:AbortMultipartUpload", "abort the upload"))?;
                Ok(())
            });
            match aborted {
                Ok(()) => why,
                Err(e) => {
                    tracing::warn!("upload of {k} could not be aborted: {e}");
                    why
                }
            }
        };
        let mut parts = Vec::new();
        let mut number = 1;
        while done < len {
            let want = (len - done).min(part_size) as usize;
            let bytes = match read_part(body, want, &mut done, len, progress) {
                Ok(b) => b,
                Err(e) => return Err(abort(e)),
            };
            if done == len {
                if let Err(e) = self.refuse_longer(body, len) {
                    return Err(abort(e));
                }
                if progress(len, len).is_break() {
                    return Err(abort(BackendError::cancelled(
                        "upload cancelled; nothing was stored",
                    )));
                }
            }
            let (s3c, namec, kc, id) = (s3.clone(), name.clone(), k.clone(), upload_id.clone());
            let what = format!("upload {shown}");
            let sent = block_on(async move {
                let out = s3c
                    .upload_part()
                    .bucket(&namec)
                    .key(&kc)
                    .upload_id(&id)
                    .part_number(number)
                    .body(ByteStream::from(bytes))
                    .send()
                    .await
                    .map_err(fail("s3:PutObject", &what))?;
                Ok(out.e_tag().map(str::to_string))
            });
            match sent {
                Ok(etag) => parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(etag)
                        .build(),
                ),
                Err(e) => return Err(abort(e)),
            }
            number += 1;
        }
        let (s3c, namec, kc, id) = (s3.clone(), name.clone(), k.clone(), upload_id.clone());
        let what = format!("upload {shown}");
        let completed = block_on(async move {
            s3c.complete_multipart_upload()
                .bucket(&namec)
                .key(&kc)
                .upload_id(&id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(fail("s3:PutObject", &what))?;
            Ok(())
        });
        if let Err(e) = completed {
            return Err(abort(e));
        }
        self.head(bucket, key)
    }

    fn delete(&self, bucket: Bucket, key: &ObjectKey) -> Result<TrashEntry> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let key = key.as_str().to_string();
        block_on(async move {
            let shown = S3Store::shown(bucket, &key);
            let h = S3Store::head_raw(&s3, &name, &key, None, &shown).await?;
            let Some(version) = h.version else {
                return Err(BackendError::refused(format!(
                    "s3://{name} is not versioned, so deleting {shown} could not be undone: turn versioning on for the bucket (docs/aws.md)"
                )));
            };
            let what = format!("delete {shown}");
            s3.delete_object()
                .bucket(&name)
                .key(&key)
                .send()
                .await
                .map_err(fail("s3:DeleteObject", &what))?;
            let record = TrashRecord {
                key: key.clone(),
                version: version.clone(),
                deleted_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                size: h.size,
            };
            // The order of deletions (S3 lists versions to the second). Without
            // the record the deletion is still found, by its delete marker.
            if let Ok(body) = serde_json::to_vec(&record) {
                if let Err(e) = s3
                    .put_object()
                    .bucket(&name)
                    .key(record_key(&version))
                    .body(ByteStream::from(body))
                    .send()
                    .await
                {
                    tracing::warn!("deleted {shown}; its trash record was not written: {e}");
                }
            }
            Ok(TrashEntry {
                id: format!("{bucket}/{version}/{key}"),
                bucket,
                path: format!("s3://{name}/{key}?versionId={version}"),
                key,
                deleted_at: record.deleted_at,
                size: h.size,
            })
        })
    }

    fn trash(&self) -> Result<Vec<TrashEntry>> {
        let mut all = Vec::new();
        for bucket in Bucket::ALL {
            all.extend(self.trash_of(bucket)?);
        }
        all.sort_by(|a, b| b.deleted_at.cmp(&a.deleted_at));
        Ok(all)
    }

    fn restore_deleted(&self, id: &str) -> Result<ObjectInfo> {
        let bad = || {
            BackendError::not_found(format!(
                "no deleted object {id:?} in the trash (list it with `tablero data trash`)"
            ))
        };
        let mut it = id.splitn(3, '/');
        let (Some(b), Some(version), Some(k)) = (it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        let bucket: Bucket = b.parse().map_err(|_| bad())?;
        let key = ObjectKey::new(k)?;
        if version.is_empty() {
            return Err(bad());
        }
        match self.head(bucket, &key) {
            Ok(_) => {
                return Err(BackendError::refused(format!(
                    "{bucket}/{key} exists now: delete or rename it first; the deleted version stays in the trash"
                )))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let (k, v) = (key.as_str().to_string(), version.to_string());
        let id = id.to_string();
        block_on(async move {
            let shown = format!("deleted object {id}");
            let what = format!("restore {shown}");
            S3Store::head_raw(&s3, &name, &k, Some(&v), &shown)
                .await
                .map_err(|e| match e.kind() {
                    ErrorKind::NotFound | ErrorKind::Refused => BackendError::not_found(format!(
                        "no deleted object {id:?} in the trash (list it with `tablero data trash`)"
                    )),
                    _ => e,
                })?;
            s3.copy_object()
                .bucket(&name)
                .key(&k)
                .copy_source(format!("{name}/{}?versionId={v}", encode_key(&k)))
                .metadata_directive(MetadataDirective::Copy)
                .send()
                .await
                .map_err(fail("s3:GetObjectVersion", &what))?;
            // Out of the trash: the copy is the object now. A failure here
            // leaves the old version listed, never loses it.
            if let Err(e) = s3
                .delete_object()
                .bucket(&name)
                .key(&k)
                .version_id(&v)
                .send()
                .await
            {
                tracing::warn!("restored {k}, but its old version stays in the trash: {e}");
            } else {
                let _ = s3
                    .delete_object()
                    .bucket(&name)
                    .key(record_key(&v))
                    .send()
                    .await;
            }
            Ok(())
        })?;
        self.head(bucket, &key)
    }

    fn uri(&self, bucket: Bucket, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket_name(bucket))
    }

    fn restore_archived(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        days: u32,
    ) -> Result<ArchiveRestore> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let k = key.as_str().to_string();
        block_on(async move {
            let shown = S3Store::shown(bucket, &k);
            let h = S3Store::head_raw(&s3, &name, &k, None, &shown).await?;
            if !is_archived(&h.class) {
                return Err(BackendError::refused(format!(
                    "{shown} is in {} storage and readable now: only GLACIER and DEEP_ARCHIVE objects are restored",
                    h.class
                )));
            }
            if h.restore.is_none() {
                let what = format!("restore {shown} from {}", h.class);
                let params = GlacierJobParameters::builder()
                    .tier(Tier::Standard)
                    .build()
                    .map_err(|e| BackendError::refused(format!("cannot {what}: {e}")))?;
                let asked = s3
                    .restore_object()
                    .bucket(&name)
                    .key(&k)
                    .restore_request(
                        RestoreRequest::builder()
                            .days(days as i32)
                            .glacier_job_parameters(params)
                            .build(),
                    )
                    .send()
                    .await;
                if let Err(e) = asked {
                    let (code, ..) = crate::error::parts(&e);
                    if code.as_deref() != Some("RestoreAlreadyInProgress") {
                        return Err(fail("s3:RestoreObject", &what)(e));
                    }
                }
            }
            let after = S3Store::head_raw(&s3, &name, &k, None, &shown).await?;
            Ok(ArchiveRestore {
                bucket,
                key: k,
                state: after.restore.unwrap_or(RestoreState::Requested),
                days,
            })
        })
    }
}

impl S3Store {
    fn user_metadata(
        &self,
        bucket: Bucket,
        metadata: &BTreeMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        if metadata.is_empty() {
            return Ok(HashMap::new());
        }
        let json = ascii_json(metadata);
        if json.len() <= INLINE_MAX {
            return Ok(HashMap::from([(META.to_string(), json)]));
        }
        let sha: String = Sha256::digest(json.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let key = format!("{HIDDEN}meta/{sha}.json");
        // Content-addressed: an existing sidecar is the same text.
        self.put_if_absent(bucket, &key, json.into_bytes())?;
        Ok(HashMap::from([(META_REF.to_string(), sha)]))
    }

    fn refuse_longer(&self, body: &mut dyn Read, len: u64) -> Result<()> {
        let mut one = [0u8; 1];
        match fill(body, &mut one) {
            Ok(0) => Ok(()),
            Ok(_) => Err(BackendError::invalid_input(format!(
                "the upload announced {len} bytes but sent more; nothing was stored"
            ))),
            Err(e) => Err(BackendError::invalid_input(format!(
                "reading the upload failed after {len} bytes: {e}; nothing was stored"
            ))),
        }
    }

    fn get(&self, bucket: Bucket, key: &ObjectKey, range: Option<(u64, u64)>) -> Result<Vec<u8>> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        let k = key.as_str().to_string();
        block_on(async move {
            let shown = S3Store::shown(bucket, &k);
            let what = format!("read {shown}");
            let out = s3
                .get_object()
                .bucket(&name)
                .key(&k)
                .set_range(range.map(|(s, l)| format!("bytes={s}-{}", s + l - 1)))
                .send()
                .await;
            let out = match out {
                Ok(o) => o,
                Err(e) => {
                    let (code, _, status) = crate::error::parts(&e);
                    if status == Some(416) || code.as_deref() == Some("InvalidRange") {
                        return Ok(Vec::new());
                    }
                    if code.as_deref() == Some("InvalidObjectState") {
                        let h = S3Store::head_raw(&s3, &name, &k, None, &shown).await?;
                        return Err(BackendError::refused(format!(
                            "{shown} is archived in {} storage and cannot be read until it is restored: \
                             ask for a restore (`tablero data restore-archive {bucket} {k}` or Restore in the panel) \
                             and read it once S3 has brought it back (hours for GLACIER, up to 48 for DEEP_ARCHIVE)",
                            h.class
                        )));
                    }
                    if is_not_found(&e) {
                        return Err(BackendError::not_found(format!("{shown} does not exist")));
                    }
                    return Err(fail("s3:GetObject", &what)(e));
                }
            };
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| BackendError::new(ErrorKind::Offline, format!("cannot {what}: {e}")))?
                .into_bytes();
            Ok(bytes.to_vec())
        })
    }

    /// Deleted objects of one bucket: the deletions recorded here (their
    /// versions still kept), and for a key whose current version is a
    /// delete marker made elsewhere, its newest version.
    fn trash_of(&self, bucket: Bucket) -> Result<Vec<TrashEntry>> {
        let (s3, name) = (self.s3.clone(), self.bucket_name(bucket).to_string());
        block_on(async move {
            let what = format!("list the deleted objects of {bucket} (s3://{name})");
            // key → versions newest first (id, time, size); keys whose latest is a marker.
            let mut versions: BTreeMap<String, Vec<(String, String, u64)>> = BTreeMap::new();
            let mut deleted_now: BTreeMap<String, String> = BTreeMap::new();
            let (mut key_marker, mut version_marker): (Option<String>, Option<String>) =
                (None, None);
            loop {
                let page = s3
                    .list_object_versions()
                    .bucket(&name)
                    .set_key_marker(key_marker.clone())
                    .set_version_id_marker(version_marker.clone())
                    .send()
                    .await
                    .map_err(fail("s3:ListBucketVersions", &what))?;
                for v in page.versions() {
                    if let (Some(k), Some(id)) = (v.key(), v.version_id()) {
                        versions.entry(k.to_string()).or_default().push((
                            id.to_string(),
                            rfc3339(v.last_modified()),
                            v.size().unwrap_or(0).max(0) as u64,
                        ));
                    }
                }
                for m in page.delete_markers() {
                    if let (Some(k), Some(true)) = (m.key(), m.is_latest()) {
                        deleted_now.insert(k.to_string(), rfc3339(m.last_modified()));
                    }
                }
                if page.is_truncated() == Some(true) && page.next_key_marker().is_some() {
                    key_marker = page.next_key_marker().map(str::to_string);
                    version_marker = page.next_version_id_marker().map(str::to_string);
                } else {
                    break;
                }
            }
            let kept = |key: &str, version: &str| {
                versions
                    .get(key)
                    .is_some_and(|vs| vs.iter().any(|(id, ..)| id == version))
            };
            let mut out = Vec::new();
            let mut recorded = std::collections::HashSet::new();
            // The records, read a few at a time.
            let record_keys: Vec<String> = versions
                .keys()
                .filter(|k| k.starts_with(&format!("{HIDDEN}trash/")))
                .cloned()
                .collect();
            for chunk in record_keys.chunks(16) {
                let mut tasks = tokio::task::JoinSet::new();
                for rk in chunk {
                    let (s3, name, rk) = (s3.clone(), name.clone(), rk.clone());
                    tasks.spawn(async move {
                        let out = s3.get_object().bucket(&name).key(&rk).send().await.ok()?;
                        let bytes = out.body.collect().await.ok()?.into_bytes();
                        serde_json::from_slice::<TrashRecord>(&bytes).ok()
                    });
                }
                while let Some(done) = tasks.join_next().await {
                    if let Ok(Some(r)) = done {
                        if kept(&r.key, &r.version) && !r.key.starts_with(HIDDEN) {
                            recorded.insert(r.version.clone());
                            out.push(TrashEntry {
                                id: format!("{bucket}/{}/{}", r.version, r.key),
                                bucket,
                                path: format!("s3://{name}/{}?versionId={}", r.key, r.version),
                                key: r.key,
                                deleted_at: r.deleted_at,
                                size: r.size,
                            });
                        }
                    }
                }
            }
            for (key, at) in deleted_now {
                if key.starts_with(HIDDEN) {
                    continue;
                }
                if let Some((id, _, size)) = versions.get(&key).and_then(|vs| vs.first()) {
                    if !recorded.contains(id) {
                        out.push(TrashEntry {
                            id: format!("{bucket}/{id}/{key}"),
                            bucket,
                            path: format!("s3://{name}/{key}?versionId={id}"),
                            key,
                            deleted_at: at,
                            size: *size,
                        });
                    }
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_headers_are_ascii_and_read_back() {
        let m = BTreeMap::from([("name".to_string(), "café ✓ 𝄞".to_string())]);
        let h = ascii_json(&m);
        assert!(h.is_ascii(), "{h}");
        let back: BTreeMap<String, String> = serde_json::from_str(&h).unwrap();
        assert_eq!(back, m);
        assert_eq!(encode_key("a b/ç.csv"), "a%20b/%C3%A7.csv");
        assert_eq!(
            restore_state(Some("ongoing-request=\"false\", expiry-date=\"x\"")),
            Some(RestoreState::Restored)
        );
        assert_eq!(
            restore_state(Some("ongoing-request=\"true\"")),
            Some(RestoreState::Requested)
        );
        assert_eq!(restore_state(None), None);
    }
}
