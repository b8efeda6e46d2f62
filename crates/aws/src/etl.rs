//! The ETL job on Lambda: the handler (run by `tablero-lambda`'s
//! `bootstrap`) and the job state it shares with the panel, in the clean
//! bucket under `jobs/<id>/` (hidden from listings):
//!
//! * `progress.json`: the job as `jobs show` prints it, and its log,
//!   rewritten as it runs;
//! * `staging/<key>`: the outputs while the job runs;
//! * `manifest.json`: written last, with `If-None-Match: *`, the commit
//!   point: what ran, the outputs' keys and reports, or why it failed.
//!   After it the staged outputs are copied to their keys (a reader that
//!   finds a manifest whose outputs are not yet there finishes the copy);
//! * `cancel`: written by the panel; the handler looks for it at each
//!   checkpoint and ends cancelled, having made nothing visible.
//!
//! The job id is Lambda's request id: an asynchronous invocation retried
//! by Lambda keeps it, so a retry finds the manifest and does nothing
//! twice. Output keys derive from the input's key, its version id and the
//! preset, so the same input processed twice gives the same objects.
//!
//! The stages are `tablero_core::stages::run`, the same code as a local
//! job; a raw object with no stored ingest spec (put in the bucket by
//! something else than Tablero's upload) is read as the upload dialog
//! would read it, or fails with the dialog's message.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tablero_core::job::{Job, JobKind, JobRequest, JobStatus, LogLevel, LogLine, Progress};
use tablero_core::ports::{
    ArchiveRestore, BackendError, ErrorKind, ObjectStore, Registry, Result, TrashEntry,
};
use tablero_core::preset::Preset;
use tablero_core::registry::{ApprovalStatus, Decided, Decision, ModelVersion};
use tablero_core::stages::{self, StageContext, StageReport};
use tablero_core::store::{Bucket, ObjectInfo, ObjectKey, ObjectRef, Page};
use tablero_core::train::model::{ModelArtifact, ModelCard};

use crate::s3::S3Store;

/// The clean bucket's prefix of job state.
pub const JOBS_PREFIX: &str = "jobs/";

/// `jobs/<id>/progress.json`.
pub fn progress_key(id: &str) -> String {
    format!("{JOBS_PREFIX}{id}/progress.json")
}

/// `jobs/<id>/manifest.json`.
pub fn manifest_key(id: &str) -> String {
    format!("{JOBS_PREFIX}{id}/manifest.json")
}

/// `jobs/<id>/cancel`.
pub fn cancel_key(id: &str) -> String {
    format!("{JOBS_PREFIX}{id}/cancel")
}

/// `jobs/<id>/staging/`.
pub fn staging_prefix(id: &str) -> String {
    format!("{JOBS_PREFIX}{id}/staging/")
}

/// Log lines kept in `progress.json` (the newest).
const LOG_LINES: usize = 500;

/// A job as kept in `progress.json`: the job and its log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job.
    #[serde(flatten)]
    pub job: Job,
    /// Its log, oldest first.
    #[serde(default)]
    pub logs: Vec<LogLine>,
}

impl JobRecord {
    /// Appends a log line (keeping the newest [`LOG_LINES`]).
    pub fn log(&mut self, level: LogLevel, message: &str) {
        self.logs.push(LogLine {
            at: now(),
            level,
            message: message.to_string(),
        });
        if self.logs.len() > LOG_LINES {
            let extra = self.logs.len() - LOG_LINES;
            self.logs.drain(..extra);
        }
    }
}

/// What a job ended with: `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The job.
    pub job_id: String,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: JobStatus,
    /// The input object.
    pub input: ObjectRef,
    /// Its version id (or ETag in an unversioned bucket).
    pub input_version: String,
    /// The stages run, in order.
    pub stages: Vec<JobRequest>,
    /// Every object written (tables and their reports), visible once the
    /// manifest is.
    pub outputs: Vec<ObjectRef>,
    /// Each stage's output table, in order.
    pub tables: Vec<ObjectRef>,
    /// Each stage's report, in order.
    pub reports: Vec<StageReport>,
    /// Why it failed or stopped.
    pub error: Option<String>,
    /// When it ended (RFC 3339, UTC).
    pub finished_at: String,
}

/// What Lambda is asked to run: a request from the panel, or an S3
/// `ObjectCreated` notification of the raw bucket.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A job started from the panel or the CLI.
    Job {
        /// The stage.
        request: JobRequest,
        /// Who started it.
        actor: String,
    },
    /// New raw objects: each is cleaned and turned into features with
    /// `preset`.
    Created {
        /// `(key, version id)` of each object.
        objects: Vec<(String, Option<String>)>,
        /// Who put them (the notification's principal).
        actor: String,
    },
}

/// The payload the panel sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPayload {
    /// The stage.
    pub request: JobRequest,
    /// Who started it.
    pub actor: String,
}

/// Decodes an S3 event key (`+` is a space, `%XX` a byte).
fn decode_event_key(key: &str) -> std::result::Result<String, String> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|e| e.to_string())?;
                out.push(
                    u8::from_str_radix(hex, 16)
                        .map_err(|_| format!("{key:?} has a bad escape %{hex}"))?,
                );
                i += 2;
            }
            b'%' => return Err(format!("{key:?} ends in a cut escape")),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{key:?} is not UTF-8 once decoded"))
}

impl Payload {
    /// Reads an invocation's payload; the error says what was wrong.
    pub fn parse(v: &serde_json::Value) -> std::result::Result<Payload, String> {
        // S3 through EventBridge (the stack's EtlOnUpload rule): one object,
        // its key as is.
        if v.get("source").and_then(|s| s.as_str()) == Some("aws.s3") {
            if v.get("detail-type").and_then(|s| s.as_str()) != Some("Object Created") {
                return Ok(Payload::Created {
                    objects: Vec::new(),
                    actor: "s3-notification".into(),
                });
            }
            let object = v
                .pointer("/detail/object")
                .ok_or("an EventBridge S3 event without detail.object")?;
            let key = object
                .get("key")
                .and_then(|k| k.as_str())
                .ok_or("an EventBridge S3 event without detail.object.key")?;
            let version = object
                .get("version-id")
                .and_then(|k| k.as_str())
                .filter(|v| !v.is_empty() && *v != "null")
                .map(str::to_string);
            let actor = v
                .pointer("/detail/requester")
                .and_then(|p| p.as_str())
                .map(|p| format!("s3:{p}"))
                .unwrap_or_else(|| "s3-notification".into());
            return Ok(Payload::Created {
                objects: vec![(key.to_string(), version)],
                actor,
            });
        }
        if let Some(records) = v.get("Records").and_then(|r| r.as_array()) {
            let mut objects = Vec::new();
            let mut actor = None;
            for r in records {
                let event = r.get("eventName").and_then(|e| e.as_str()).unwrap_or("");
                if !event.starts_with("ObjectCreated") {
                    continue;
                }
                let object = r
                    .pointer("/s3/object")
                    .ok_or("an S3 record without s3.object")?;
                let key = object
                    .get("key")
                    .and_then(|k| k.as_str())
                    .ok_or("an S3 record without s3.object.key")?;
                let version = object
                    .get("versionId")
                    .and_then(|k| k.as_str())
                    .filter(|v| !v.is_empty() && *v != "null")
                    .map(str::to_string);
                objects.push((decode_event_key(key)?, version));
                if actor.is_none() {
                    actor = r
                        .pointer("/userIdentity/principalId")
                        .and_then(|p| p.as_str())
                        .map(|p| format!("s3:{p}"));
                }
            }
            return Ok(Payload::Created {
                objects,
                actor: actor.unwrap_or_else(|| "s3-notification".into()),
            });
        }
        let job: JobPayload = serde_json::from_value(v.clone()).map_err(|e| {
            format!("the payload is neither an S3 notification nor a Tablero job: {e}")
        })?;
        if let JobRequest::Train { .. } = job.request {
            return Err(
                "training runs as a SageMaker training job, not on the ETL Lambda".to_string(),
            );
        }
        Ok(Payload::Job {
            request: job.request,
            actor: job.actor,
        })
    }
}

/// Lambda's limits, and what one invocation of this handler can take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The function's memory, MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; at
    /// most 10,240).
    pub memory_mb: u64,
}

/// Lambda's largest memory, MB.
pub const LAMBDA_MAX_MEMORY_MB: u64 = 10_240;
/// Lambda's longest invocation.
pub const LAMBDA_MAX_SECONDS: u64 = 900;
/// Peak memory of clean + features per byte of CSV, and the fixed part
/// (MiB), measured with `scripts/measure-lambda.py` (docs/aws.md): 253 to
/// 258 MiB for the 48 MB Online Retail file, 2,102 MiB for ten copies of
/// it (482 MB), i.e. 4.47 bytes per byte over about 50 MiB; rounded up.
const PEAK_PER_INPUT_BYTE: f64 = 4.6;
const BASE_MB: f64 = 60.0;
/// CSV bytes clean + features get through per second: 16 MB/s measured
/// on the ten copies (the debug build, on this 2-core machine, S3 on
/// loopback), halved for margin.
const BYTES_PER_SECOND: f64 = 8.0e6;

impl Limits {
    /// The largest CSV one invocation takes: what fits in its memory
    /// (with a tenth kept free) and in Lambda's 15 minutes.
    pub fn max_input_bytes(&self) -> u64 {
        let memory = (self.memory_mb.min(LAMBDA_MAX_MEMORY_MB) as f64 * 0.9 - BASE_MB).max(0.0)
            * 1_048_576.0
            / PEAK_PER_INPUT_BYTE;
        let time = BYTES_PER_SECOND * LAMBDA_MAX_SECONDS as f64;
        memory.min(time) as u64
    }

    /// Refuses an input larger than one invocation takes, before anything
    /// runs.
    pub fn check(&self, input: &ObjectRef, size: u64) -> Result<()> {
        let max = self.max_input_bytes();
        if size <= max {
            return Ok(());
        }
        let mb = |b: u64| format!("{:.0} MB", b as f64 / 1e6);
        Err(BackendError::refused(format!(
            "{}/{} is {}; one invocation of the ETL Lambda with {} MB of memory takes at most {} of CSV (Lambda allows up to {LAMBDA_MAX_MEMORY_MB} MB and 15 minutes): raise the function's memory, split the file, or run the job on this machine",
            input.bucket,
            input.key,
            mb(size),
            self.memory_mb,
            mb(max)
        )))
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `<raw stem>/<tag>/transactions[.parity].parquet`: the tag is the first
/// 10 hex digits of SHA-256 of the key and its version, so one version of
/// one object always gives the same keys.
pub fn derived_clean_key(raw_key: &str, version: &str, preset: Preset) -> Result<String> {
    let raw = ObjectKey::new(raw_key)?;
    let digest = Sha256::digest(format!("{raw_key}\0{version}").as_bytes());
    let tag: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let file = match preset {
        Preset::Standard => "transactions.parquet",
        Preset::Parity => "transactions.parity.parquet",
    };
    let key = format!("{}/{tag}/{file}", raw.stem());
    if key.starts_with(JOBS_PREFIX) {
        return Err(BackendError::refused(format!(
            "raw/{raw_key} would be cleaned into {key}, under the clean bucket's {JOBS_PREFIX} folder, which holds job state: rename the raw object"
        )));
    }
    Ok(key)
}

/// The store a job's stages see: the clean bucket's outputs go to the
/// job's staging prefix, and reading them back reads the staged copy.
struct Staging<'a> {
    store: &'a S3Store,
    prefix: String,
    written: Mutex<Vec<String>>,
}

impl Staging<'_> {
    fn staged(&self, bucket: Bucket, key: &ObjectKey) -> Option<ObjectKey> {
        if bucket != Bucket::Clean {
            return None;
        }
        let written = self.written.lock().ok()?;
        written
            .iter()
            .any(|k| k == key.as_str())
            .then(|| ObjectKey::new(&format!("{}{key}", self.prefix)).ok())
            .flatten()
    }

    fn written(&self) -> Vec<String> {
        self.written.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl ObjectStore for Staging<'_> {
    fn list(
        &self,
        bucket: Bucket,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<Page> {
        self.store.list(bucket, prefix, token, limit)
    }
    fn head(&self, bucket: Bucket, key: &ObjectKey) -> Result<ObjectInfo> {
        match self.staged(bucket, key) {
            Some(s) => {
                let mut info = self.store.head(bucket, &s)?;
                info.key = key.to_string();
                Ok(info)
            }
            None => self.store.head(bucket, key),
        }
    }
    fn read(&self, bucket: Bucket, key: &ObjectKey) -> Result<Vec<u8>> {
        let staged = self.staged(bucket, key);
        self.store.read(bucket, staged.as_ref().unwrap_or(key))
    }
    fn read_range(&self, bucket: Bucket, key: &ObjectKey, start: u64, len: u64) -> Result<Vec<u8>> {
        let staged = self.staged(bucket, key);
        self.store
            .read_range(bucket, staged.as_ref().unwrap_or(key), start, len)
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
        if bucket != Bucket::Clean {
            return Err(BackendError::refused(format!(
                "an ETL job writes only to the clean bucket, not to {bucket}/{key}"
            )));
        }
        let staged = ObjectKey::new(&format!("{}{key}", self.prefix))?;
        let mut info = self
            .store
            .put(bucket, &staged, body, len, metadata, progress)?;
        if let Ok(mut w) = self.written.lock() {
            if !w.iter().any(|k| k == key.as_str()) {
                w.push(key.to_string());
            }
        }
        info.key = key.to_string();
        Ok(info)
    }
    fn delete(&self, bucket: Bucket, key: &ObjectKey) -> Result<TrashEntry> {
        Err(BackendError::refused(format!(
            "an ETL job does not delete ({bucket}/{key})"
        )))
    }
    fn trash(&self) -> Result<Vec<TrashEntry>> {
        Ok(Vec::new())
    }
    fn restore_deleted(&self, id: &str) -> Result<ObjectInfo> {
        Err(BackendError::refused(format!(
            "an ETL job does not restore ({id})"
        )))
    }
    fn uri(&self, bucket: Bucket, key: &str) -> String {
        self.store.uri(bucket, key)
    }
    fn restore_archived(
        &self,
        bucket: Bucket,
        key: &ObjectKey,
        _days: u32,
    ) -> Result<ArchiveRestore> {
        Err(BackendError::refused(format!(
            "{bucket}/{key} is archived: restore it from the panel first"
        )))
    }
}

/// The ETL Lambda registers nothing.
struct NoRegistry;

fn no_registry<T>() -> Result<T> {
    Err(BackendError::refused(
        "the ETL Lambda has no model registry: training runs on SageMaker",
    ))
}

impl Registry for NoRegistry {
    fn register(&self, _: &str, _: ModelCard, _: &[u8]) -> Result<ModelVersion> {
        no_registry()
    }
    fn versions(&self, _: &str, _: Option<ApprovalStatus>) -> Result<Vec<ModelVersion>> {
        no_registry()
    }
    fn version(&self, _: &str, _: u32) -> Result<ModelVersion> {
        no_registry()
    }
    fn card(&self, _: &str, _: u32) -> Result<ModelCard> {
        no_registry()
    }
    fn artifact(&self, _: &str, _: u32) -> Result<ModelArtifact> {
        no_registry()
    }
    fn decide(&self, _: &str, _: u32, _: &Decision) -> Result<Decided> {
        no_registry()
    }
}

/// The job's progress: `progress.json` rewritten at most every second
/// (and at each new phase), the cancel marker and the deadline looked at
/// each checkpoint.
struct Tracker<'a> {
    store: &'a S3Store,
    record: RefCell<JobRecord>,
    written: RefCell<Option<Instant>>,
    deadline: Option<Instant>,
    /// This stage's share of the job: `(start, width)`.
    span: RefCell<(f64, f64)>,
    prefix: RefCell<String>,
}

impl Tracker<'_> {
    fn save(&self) {
        let bytes = match serde_json::to_vec(&*self.record.borrow()) {
            Ok(b) => b,
            Err(_) => return,
        };
        let id = self.record.borrow().job.id.clone();
        // A progress write that fails must not fail the job.
        if self
            .store
            .put_json(Bucket::Clean, &progress_key(&id), bytes)
            .is_ok()
        {
            *self.written.borrow_mut() = Some(Instant::now());
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.record.borrow_mut().log(level, message);
    }

    fn cancelled(&self) -> bool {
        let id = self.record.borrow().job.id.clone();
        self.store
            .exists(Bucket::Clean, &cancel_key(&id))
            .unwrap_or(false)
    }
}

impl Progress for Tracker<'_> {
    fn update(&self, fraction: f64, phase: &str) -> tablero_core::Result<()> {
        let (start, width) = *self.span.borrow();
        let phase = format!("{}{phase}", self.prefix.borrow());
        let changed = {
            let mut r = self.record.borrow_mut();
            r.job.progress = (start + width * fraction.clamp(0.0, 1.0)).min(0.99);
            let changed = r.job.phase != phase;
            r.job.phase = phase;
            changed
        };
        let due = self
            .written
            .borrow()
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if changed || due {
            if self.cancelled() {
                return Err(tablero_core::Error::Cancelled);
            }
            self.save();
        }
        if let Some(d) = self.deadline {
            if d.saturating_duration_since(Instant::now()) < Duration::from_secs(15) {
                return Err(tablero_core::Error::WrongInput(format!(
                    "the invocation reached Lambda's time limit ({LAMBDA_MAX_SECONDS} s at most) before the job ended; nothing was written: split the input or run the job on this machine"
                )));
            }
        }
        Ok(())
    }
}

/// One invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Lambda's request id: the job id.
    pub request_id: String,
    /// When Lambda stops the invocation.
    pub deadline: Option<Instant>,
    /// The function's limits.
    pub limits: Limits,
}

/// Runs an invocation's payload: one job per request (an S3 notification
/// of several objects: one job each, `<request id>`, `<request id>-2`…).
/// Each job ends with its manifest.
pub fn handle(store: &S3Store, inv: &Invocation, payload: Payload) -> Vec<Manifest> {
    match payload {
        Payload::Job { request, actor } => {
            let id = inv.request_id.clone();
            vec![run_job(store, inv, &id, &actor, vec![request])]
        }
        Payload::Created { objects, actor } => {
            let preset = std::env::var("TABLERO_TRIGGER_PRESET")
                .ok()
                .and_then(|p| Preset::from_name(&p))
                .unwrap_or(Preset::Standard);
            let mut out = Vec::new();
            for (i, (key, version)) in objects.into_iter().enumerate() {
                // Tablero's own sidecars and trash records are not data.
                if key.starts_with(".tablero/") {
                    continue;
                }
                let id = match i {
                    0 => inv.request_id.clone(),
                    n => format!("{}-{}", inv.request_id, n + 1),
                };
                let version = match version {
                    Some(v) => Ok(v),
                    None => store.version_of(Bucket::Raw, &key).map(|(v, _)| v),
                };
                let stages = version.and_then(|v| {
                    let clean_key = derived_clean_key(&key, &v, preset)?;
                    Ok(vec![
                        JobRequest::Clean {
                            raw_key: key.clone(),
                            preset,
                            out_key: Some(clean_key.clone()),
                        },
                        JobRequest::Features {
                            clean_key,
                            preset,
                            cutoff: None,
                            horizon_days: 90,
                            out_key: None,
                        },
                    ])
                });
                out.push(match stages {
                    Ok(stages) => run_job(store, inv, &id, &actor, stages),
                    Err(e) => {
                        let input = ObjectRef {
                            bucket: Bucket::Raw,
                            key: key.clone(),
                        };
                        let stages = vec![JobRequest::Clean {
                            raw_key: key,
                            preset,
                            out_key: None,
                        }];
                        let mut record = new_record(&id, &actor, &input, &stages[0]);
                        end(
                            store,
                            &mut record,
                            failed_manifest(&id, input, String::new(), stages, &e),
                        )
                    }
                });
            }
            out
        }
    }
}

fn input_of(request: &JobRequest) -> ObjectRef {
    match request {
        JobRequest::Clean { raw_key, .. } => ObjectRef {
            bucket: Bucket::Raw,
            key: raw_key.clone(),
        },
        JobRequest::Features { clean_key, .. } => ObjectRef {
            bucket: Bucket::Clean,
            key: clean_key.clone(),
        },
        JobRequest::Train { features_key, .. } => ObjectRef {
            bucket: Bucket::Clean,
            key: features_key.clone(),
        },
    }
}

fn kind_of(request: &JobRequest) -> JobKind {
    match request {
        JobRequest::Clean { .. } => JobKind::Clean,
        JobRequest::Features { .. } => JobKind::Features,
        JobRequest::Train { .. } => JobKind::Train,
    }
}

/// A job's record as first written (queued, by the panel; or running, by
/// the handler).
pub fn new_record(id: &str, actor: &str, input: &ObjectRef, request: &JobRequest) -> JobRecord {
    JobRecord {
        job: Job {
            id: id.to_string(),
            kind: kind_of(request),
            status: JobStatus::Queued,
            actor: actor.to_string(),
            created_at: now(),
            started_at: None,
            finished_at: None,
            progress: 0.0,
            phase: "queued".into(),
            input: input.clone(),
            params: request.clone(),
            output: None,
            report: None,
            error: None,
        },
        logs: Vec::new(),
    }
}

fn failed_manifest(
    id: &str,
    input: ObjectRef,
    input_version: String,
    stages: Vec<JobRequest>,
    error: &BackendError,
) -> Manifest {
    let cancelled = error.kind() == ErrorKind::Cancelled;
    Manifest {
        job_id: id.to_string(),
        status: if cancelled {
            JobStatus::Cancelled
        } else {
            JobStatus::Failed
        },
        input,
        input_version,
        stages,
        outputs: Vec::new(),
        tables: Vec::new(),
        reports: Vec::new(),
        error: Some(if cancelled {
            "cancelled; no output was written".to_string()
        } else {
            error.to_string()
        }),
        finished_at: now(),
    }
}

/// Writes the manifest (once: a retry finds the first one and returns it)
/// and the record's last state.
fn end(store: &S3Store, record: &mut JobRecord, manifest: Manifest) -> Manifest {
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let manifest = match store.put_if_absent(Bucket::Clean, &manifest_key(&manifest.job_id), bytes)
    {
        Ok(true) | Err(_) => manifest,
        Ok(false) => read_manifest(store, &manifest.job_id)
            .ok()
            .flatten()
            .unwrap_or(manifest),
    };
    apply_manifest(record, &manifest);
    match manifest.status {
        JobStatus::Succeeded => {
            if let Some(t) = manifest.tables.last() {
                record.log(LogLevel::Info, &format!("wrote {}/{}", t.bucket, t.key));
            }
        }
        JobStatus::Cancelled => record.log(LogLevel::Warn, "cancelled; no output was written"),
        _ => record.log(
            LogLevel::Error,
            manifest.error.as_deref().unwrap_or("failed"),
        ),
    }
    if let Ok(bytes) = serde_json::to_vec(&*record) {
        let _ = store.put_json(Bucket::Clean, &progress_key(&record.job.id), bytes);
    }
    manifest
}

/// The job as its manifest says it ended.
pub fn apply_manifest(record: &mut JobRecord, manifest: &Manifest) {
    let job = &mut record.job;
    job.status = manifest.status;
    job.finished_at = Some(manifest.finished_at.clone());
    job.started_at
        .get_or_insert_with(|| manifest.finished_at.clone());
    job.error = manifest.error.clone();
    if manifest.status == JobStatus::Succeeded {
        job.progress = 1.0;
        job.phase = "done".into();
        job.output = manifest.tables.last().cloned();
        job.report = manifest.reports.last().cloned();
    } else {
        job.phase = manifest.status.name().into();
    }
}

/// A job's manifest, if it has ended.
pub fn read_manifest(store: &S3Store, id: &str) -> Result<Option<Manifest>> {
    match store.read_tagged(Bucket::Clean, &manifest_key(id))? {
        None => Ok(None),
        Some((bytes, _)) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            BackendError::refused(format!("clean/{} is unreadable: {e}", manifest_key(id)))
        }),
    }
}

/// A job's record, if there is one.
pub fn read_record(store: &S3Store, id: &str) -> Result<Option<JobRecord>> {
    match store.read_tagged(Bucket::Clean, &progress_key(id))? {
        None => Ok(None),
        Some((bytes, _)) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            BackendError::refused(format!("clean/{} is unreadable: {e}", progress_key(id)))
        }),
    }
}

/// Makes a committed job's outputs visible: copies each staged output not
/// yet at its key, then drops the staging copies. Run by the handler after
/// the manifest, and by a reader that finds it not done (the handler
/// stopped in between).
pub fn publish(store: &S3Store, manifest: &Manifest) -> Result<()> {
    if manifest.status != JobStatus::Succeeded {
        return Ok(());
    }
    let prefix = staging_prefix(&manifest.job_id);
    for o in &manifest.outputs {
        let staged = format!("{prefix}{}", o.key);
        if store.exists(Bucket::Clean, &staged)? {
            store.copy(Bucket::Clean, &staged, &o.key)?;
            store.remove(Bucket::Clean, &staged)?;
        }
    }
    Ok(())
}

fn discard(store: &S3Store, id: &str, keys: &[String]) {
    let prefix = staging_prefix(id);
    for k in keys {
        let _ = store.remove(Bucket::Clean, &format!("{prefix}{k}"));
    }
}

/// Runs `stages` in order as job `id` and commits their outputs.
fn run_job(
    store: &S3Store,
    inv: &Invocation,
    id: &str,
    actor: &str,
    stages: Vec<JobRequest>,
) -> Manifest {
    let input = input_of(&stages[0]);
    // A retry of a job that ended does nothing again.
    if let Ok(Some(m)) = read_manifest(store, id) {
        let _ = publish(store, &m);
        return m;
    }
    let mut record = match read_record(store, id) {
        Ok(Some(r)) => r,
        _ => new_record(id, actor, &input, &stages[0]),
    };
    record.job.status = JobStatus::Running;
    record.job.started_at = Some(now());
    record.job.phase = "starting".into();
    record.log(
        LogLevel::Info,
        &format!(
            "started by {} on Lambda ({} MB)",
            record.job.actor, inv.limits.memory_mb
        ),
    );
    let (version, size) = match store.version_of(input.bucket, &input.key) {
        Ok(v) => v,
        Err(e) => {
            return end(
                store,
                &mut record,
                failed_manifest(id, input, String::new(), stages, &e),
            )
        }
    };
    // Refused up front: an input one invocation cannot take.
    if let Err(e) = inv.limits.check(&input, size) {
        return end(
            store,
            &mut record,
            failed_manifest(id, input, version, stages, &e),
        );
    }
    // Default keys derive from the input's version.
    let mut stages = stages;
    if let Some(JobRequest::Clean {
        raw_key,
        preset,
        out_key: out @ None,
    }) = stages.first_mut()
    {
        match derived_clean_key(raw_key, &version, *preset) {
            Ok(k) => *out = Some(k),
            Err(e) => {
                return end(
                    store,
                    &mut record,
                    failed_manifest(id, input, version, stages, &e),
                )
            }
        }
    }
    let staging = Staging {
        store,
        prefix: staging_prefix(id),
        written: Mutex::new(Vec::new()),
    };
    let tracker = Tracker {
        store,
        record: RefCell::new(record),
        written: RefCell::new(None),
        deadline: inv.deadline,
        span: RefCell::new((0.0, 1.0)),
        prefix: RefCell::new(String::new()),
    };
    tracker.save();
    let mut tables = Vec::new();
    let mut reports = Vec::new();
    let mut failure = None;
    let n = stages.len() as f64;
    for (i, stage) in stages.iter().enumerate() {
        *tracker.span.borrow_mut() = (i as f64 / n, 1.0 / n);
        *tracker.prefix.borrow_mut() = if stages.len() > 1 {
            format!("{}: ", kind_of(stage).name())
        } else {
            String::new()
        };
        let log = |level: LogLevel, message: &str| tracker.log(level, message);
        let ctx = StageContext {
            store: &staging,
            registry: &NoRegistry,
            actor,
            progress: &tracker,
            log: &log,
            infer_spec: true,
            // The invocation already refused an input too large for the
            // function's memory (`Limits::max_input_bytes`).
            memory_mb: u64::MAX,
            carry: None,
        };
        match stages::run(stage, &ctx) {
            Ok(done) => {
                tables.push(done.output);
                reports.push(done.report);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let written = staging.written();
    let mut record = tracker.record.into_inner();
    // The last look for a cancel: after it the outputs become visible.
    let failure = failure.or_else(|| {
        (!written.is_empty()
            && store
                .exists(Bucket::Clean, &cancel_key(id))
                .unwrap_or(false))
        .then(|| BackendError::from(tablero_core::Error::Cancelled))
    });
    if let Some(e) = failure {
        discard(store, id, &written);
        return end(
            store,
            &mut record,
            failed_manifest(id, input, version, stages, &e),
        );
    }
    let manifest = Manifest {
        job_id: id.to_string(),
        status: JobStatus::Succeeded,
        input,
        input_version: version,
        stages,
        outputs: written
            .iter()
            .map(|k| ObjectRef {
                bucket: Bucket::Clean,
                key: k.clone(),
            })
            .collect(),
        tables,
        reports,
        error: None,
        finished_at: now(),
    };
    let manifest = end(store, &mut record, manifest);
    if manifest.job_id == id && manifest.status == JobStatus::Succeeded {
        if let Err(e) = publish(store, &manifest) {
            record.log(
                LogLevel::Warn,
                &format!("committed, but the outputs are not all copied yet ({e}); opening the job finishes the copy"),
            );
            if let Ok(bytes) = serde_json::to_vec(&record) {
                let _ = store.put_json(Bucket::Clean, &progress_key(id), bytes);
            }
        }
    }
    manifest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_decode_as_s3_encodes_them() {
        assert_eq!(
            decode_event_key("Online+Retail%282011%29.csv").unwrap(),
            "Online Retail(2011).csv"
        );
        assert_eq!(decode_event_key("caf%C3%A9.csv").unwrap(), "café.csv");
        assert!(decode_event_key("bad%4").is_err());
        assert!(decode_event_key("bad%zz.csv").is_err());
    }

    #[test]
    fn s3_notifications_and_job_payloads_parse() {
        let event = serde_json::json!({"Records": [{
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDA123"},
            "s3": {"bucket": {"name": "raw"}, "object": {"key": "a+b.csv", "versionId": "v1", "size": 3}}
        }, {
            "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": "raw"}, "object": {"key": "gone.csv"}}
        }]});
        assert_eq!(
            Payload::parse(&event).unwrap(),
            Payload::Created {
                objects: vec![("a b.csv".into(), Some("v1".into()))],
                actor: "s3:AWS:AIDA123".into()
            }
        );
        let bridged = serde_json::json!({
            "source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "raw"}, "object": {"key": "a b:c.csv", "version-id": "v2"}, "requester": "123456789012"}
        });
        assert_eq!(
            Payload::parse(&bridged).unwrap(),
            Payload::Created {
                objects: vec![("a b:c.csv".into(), Some("v2".into()))],
                actor: "s3:123456789012".into()
            }
        );
        let job = serde_json::json!({"request": {"kind": "clean", "raw_key": "x.csv", "preset": "standard", "out_key": null}, "actor": "ana"});
        assert!(matches!(Payload::parse(&job), Ok(Payload::Job { .. })));
        let train = serde_json::json!({"request": {"kind": "train", "features_key": "f.parquet", "group": "g", "config": tablero_core::train::TrainConfig::default()}, "actor": "ana"});
        assert!(Payload::parse(&train).unwrap_err().contains("SageMaker"));
        assert!(Payload::parse(&serde_json::json!({"hello": 1}))
            .unwrap_err()
            .contains("neither"));
    }

    #[test]
    fn derived_keys_follow_the_key_the_version_and_the_preset() {
        let a = derived_clean_key("in/retail.csv", "v1", Preset::Standard).unwrap();
        assert!(
            a.starts_with("in/retail/") && a.ends_with("/transactions.parquet"),
            "{a}"
        );
        assert_eq!(
            a,
            derived_clean_key("in/retail.csv", "v1", Preset::Standard).unwrap()
        );
        assert_ne!(
            a,
            derived_clean_key("in/retail.csv", "v2", Preset::Standard).unwrap()
        );
        let p = derived_clean_key("in/retail.csv", "v1", Preset::Parity).unwrap();
        assert!(p.ends_with("/transactions.parity.parquet"));
        assert!(derived_clean_key("jobs/x.csv", "v1", Preset::Standard).is_err());
    }

    #[test]
    fn one_invocation_takes_what_fits_its_memory() {
        let small = Limits { memory_mb: 1024 };
        let big = Limits { memory_mb: 10_240 };
        assert!(small.max_input_bytes() < big.max_input_bytes());
        // The measured ten copies of Online Retail (482 MB) fit; 2.1 GB is
        // about the most 10,240 MB takes.
        assert!(big.max_input_bytes() > 2_000_000_000);
        assert!(big.max_input_bytes() < 2_200_000_000);
        assert_eq!(
            Limits { memory_mb: 20_000 }.max_input_bytes(),
            big.max_input_bytes(),
            "Lambda gives at most 10,240 MB"
        );
        let input = ObjectRef {
            bucket: Bucket::Raw,
            key: "big.csv".into(),
        };
        assert!(small.check(&input, small.max_input_bytes()).is_ok());
        let e = small
            .check(&input, small.max_input_bytes() + 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("raw/big.csv") && e.contains("at most"), "{e}");
    }
}
