//! The local workspace: one folder with the config, the database and the
//! buckets, and every panel action on it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tablero_core::clean::{self, Preset};
use tablero_core::features::{self, FeatureParams};
use tablero_core::ingest::{self, CsvOptions, IngestSpec};
use tablero_core::job::{
    Job, JobKind, JobRequest, JobRunner, JobStatus, LogLine, ObjectRef, Progress,
};
use tablero_core::preview::{self, Preview};
use tablero_core::report::RowExample;
use tablero_core::store::{Bucket, ObjectInfo, ObjectKey, ObjectStore, Page};
use tablero_core::table;
use tablero_core::train::model::{DatasetRef, ModelArtifact, ModelCard};
use tablero_core::train::{self, TrainConfig};

use crate::config::{Config, Role};
use crate::db::{AuditEntry, Db};
use crate::error::{Error, Result};
use crate::folder::{write_atomic, FolderStore};

/// Config file name inside a workspace.
pub const CONFIG_FILE: &str = "tablero.toml";
/// Database file name inside a workspace.
pub const DB_FILE: &str = "tablero.db";
/// Object metadata key holding the upload's [`IngestSpec`] as JSON.
pub const INGEST_META: &str = "ingest";

/// Bytes of a CSV read for a preview (grown if a row is longer).
const PREVIEW_BYTES: u64 = 1 << 20;

/// A deleted object kept in the workspace trash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrashEntry {
    /// `<bucket>/<time>/<key>`: what `restore` takes.
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
    /// The file in the trash.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub path: PathBuf,
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

/// An open workspace, acting as one user.
pub struct Workspace {
    root: PathBuf,
    config: Config,
    db: Db,
    store: FolderStore,
    actor: String,
    os_user: String,
}

/// The OS user running this process.
pub fn os_user() -> String {
    whoami::account()
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The default workspace folder: the platform data dir + `tablero`.
pub fn default_root() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("tablero")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Workspace {
    /// Creates a workspace at `root` (or opens it if it already exists:
    /// `init` never overwrites a config or data).
    pub fn init(root: &Path) -> Result<Workspace> {
        fs::create_dir_all(root).map_err(Error::io(root))?;
        let store = FolderStore::new(root);
        store.create_dirs()?;
        let cfg = root.join(CONFIG_FILE);
        if !cfg.exists() {
            let text = Config::initial(&os_user()).to_toml();
            write_atomic(&store.staging_path(), &cfg, text.as_bytes(), &|_, _| {})?;
        }
        let ws = Workspace::open(root)?;
        ws.db.audit(
            &ws.actor,
            &ws.os_user,
            "workspace.init",
            &root.display().to_string(),
            None,
            None,
            None,
        )?;
        Ok(ws)
    }

    /// Opens an existing workspace as the OS user.
    pub fn open(root: &Path) -> Result<Workspace> {
        let cfg = root.join(CONFIG_FILE);
        if !cfg.is_file() {
            return Err(Error::NotInitialised(root.to_path_buf()));
        }
        let config = Config::load(&cfg)?;
        let store = FolderStore::new(root);
        store.create_dirs()?;
        let db = Db::open(&root.join(DB_FILE))?;
        db.reap_orphans()?;
        let user = os_user();
        let ws = Workspace {
            root: root.to_path_buf(),
            config,
            db,
            store,
            actor: user.clone(),
            os_user: user,
        };
        ws.audit_policy_edits()?;
        Ok(ws)
    }

    /// Acts as another configured user (`--as`), when the policy allows it.
    pub fn act_as(mut self, user: &str) -> Result<Workspace> {
        if user == self.os_user {
            return Ok(self);
        }
        if !self.config.policy.allow_as {
            return Err(Error::Refused(format!(
                "--as is off in this workspace ([policy] allow_as = false in {})",
                self.config_path().display()
            )));
        }
        if !self.config.roles.contains_key(user) {
            return Err(Error::Refused(format!(
                "{user} is not a user of this workspace (see [roles] in {})",
                self.config_path().display()
            )));
        }
        self.actor = user.to_string();
        Ok(self)
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// The parsed config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Who is acting.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The object store.
    pub fn store(&self) -> &FolderStore {
        &self.store
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Refuses unless the actor holds `role` (the error names the role).
    pub fn require_role(&self, role: Role, action: &str) -> Result<()> {
        self.require(role, action)
    }

    /// Appends an entry to the audit log for an action done outside this
    /// crate (starting or stopping the endpoint).
    pub fn record(
        &self,
        action: &str,
        target: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<()> {
        self.audit(action, target, before, after)
    }

    fn require_any(&self, roles: &[Role], action: &str) -> Result<()> {
        if roles.iter().any(|r| self.config.has_role(&self.actor, *r)) {
            return Ok(());
        }
        Err(Error::Permission {
            actor: self.actor.clone(),
            action: action.into(),
            role: roles
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(" or "),
            config: self.config_path().display().to_string(),
        })
    }

    /// Turns the four-eyes rule on or off (an ML lead's decision, audited).
    pub fn set_four_eyes(&mut self, on: bool) -> Result<()> {
        self.require(Role::MlLead, "change the four-eyes policy")?;
        let before = self.config.policy.four_eyes;
        self.config.policy.four_eyes = on;
        let text = self.config.to_toml();
        write_atomic(
            &self.store.staging_path(),
            &self.config_path(),
            text.as_bytes(),
            &|_, _| {},
        )?;
        self.audit(
            "policy.four_eyes",
            "tablero.toml",
            Some(if before { "on" } else { "off" }),
            Some(if on { "on" } else { "off" }),
        )?;
        self.remember_policy()
    }

    fn remember_policy(&self) -> Result<()> {
        let p = serde_json::to_string(&self.config.policy)
            .map_err(|e| Error::Refused(e.to_string()))?;
        self.db.set_setting("policy", &p)
    }

    /// Records in the audit log a policy changed by editing tablero.toml by hand.
    fn audit_policy_edits(&self) -> Result<()> {
        let now = serde_json::to_string(&self.config.policy)
            .map_err(|e| Error::Refused(e.to_string()))?;
        match self.db.setting("policy")? {
            Some(before) if before != now => {
                self.audit("policy.edited", "tablero.toml", Some(&before), Some(&now))?;
                self.db.set_setting("policy", &now)
            }
            Some(_) => Ok(()),
            None => self.db.set_setting("policy", &now),
        }
    }

    fn require(&self, role: Role, action: &str) -> Result<()> {
        if self.config.has_role(&self.actor, role) {
            Ok(())
        } else {
            Err(Error::Permission {
                actor: self.actor.clone(),
                action: action.into(),
                role: role.name().into(),
                config: self.config_path().display().to_string(),
            })
        }
    }

    fn audit(
        &self,
        action: &str,
        target: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<()> {
        self.db.audit(
            &self.actor,
            &self.os_user,
            action,
            target,
            before,
            after,
            None,
        )
    }

    /// Audit entries since `since` (RFC 3339).
    pub fn audit_log(&self, since: &str) -> Result<Vec<AuditEntry>> {
        self.db.audit_since(since)
    }

    /// Reads the head of a local CSV (up to 1 MiB, whole rows) and says how
    /// it would be read: encoding, delimiter, date format, columns and their
    /// mapping, and the problems the head already shows. Writes nothing; the
    /// upload validates the whole file again.
    pub fn inspect_file(&self, file: &Path, opts: &CsvOptions) -> Result<FileInspection> {
        use std::io::Read as _;
        const HEAD: u64 = 1 << 20;
        let size = fs::metadata(file).map_err(Error::io(file))?.len();
        let mut head = Vec::with_capacity(HEAD.min(size) as usize);
        fs::File::open(file)
            .map_err(Error::io(file))?
            .take(HEAD)
            .read_to_end(&mut head)
            .map_err(Error::io(file))?;
        let whole_file = (head.len() as u64) == size;
        if !whole_file {
            if let Some(p) = head.iter().rposition(|&b| b == b'\n') {
                head.truncate(p + 1);
            }
        }
        let mut problems = Vec::new();
        if size > self.config.limits.max_upload_bytes {
            problems.push(
                Error::TooLarge {
                    path: file.to_path_buf(),
                    size,
                    limit: self.config.limits.max_upload_bytes,
                }
                .to_string(),
            );
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

    /// Validates a CSV and stores it in the raw bucket with its mapping.
    /// On any refusal nothing is written.
    pub fn upload(
        &self,
        file: &Path,
        key: Option<&str>,
        opts: &CsvOptions,
        replace: bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Upload> {
        self.upload_cancellable(file, key, opts, replace, progress, &|| false)
    }

    /// [`Workspace::upload`] that stops, writing nothing, when `cancelled`
    /// returns true at one of its checkpoints (after reading the file,
    /// after validating it, before storing it).
    pub fn upload_cancellable(
        &self,
        file: &Path,
        key: Option<&str>,
        opts: &CsvOptions,
        replace: bool,
        progress: &dyn Fn(u64, u64),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Upload> {
        let check = || -> Result<()> {
            if cancelled() {
                Err(tablero_core::Error::Cancelled.into())
            } else {
                Ok(())
            }
        };
        self.require(Role::Analyst, "upload data")?;
        let size = fs::metadata(file).map_err(Error::io(file))?.len();
        let limit = self.config.limits.max_upload_bytes;
        if size > limit {
            return Err(Error::TooLarge {
                path: file.to_path_buf(),
                size,
                limit,
            });
        }
        let key_text = match key {
            Some(k) => k.to_string(),
            None => file
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| {
                    Error::Refused(format!(
                        "{} has no usable file name; give --key",
                        file.display()
                    ))
                })?
                .to_string(),
        };
        let key = ObjectKey::new(&key_text)?;
        let exists = self.store.exists(Bucket::Raw, &key);
        if exists && !replace {
            return Err(Error::Exists {
                bucket: "raw".into(),
                key: key.to_string(),
            });
        }
        let bytes = fs::read(file).map_err(Error::io(file))?;
        check()?;
        // Validation runs on its own thread so a cancel is seen within
        // moments even in a large file; this thread watches for it.
        let stop = std::sync::atomic::AtomicBool::new(false);
        let validated = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let (bytes, stop) = (&bytes, &stop);
            s.spawn(move || {
                let _ = tx.send(ingest::inspect_until(bytes, opts, stop));
            });
            loop {
                match rx.recv_timeout(std::time::Duration::from_millis(50)) {
                    Ok(result) => break Some(result),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        if cancelled() {
                            stop.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
                }
            }
        });
        let (spec, parsed) = match validated {
            Some(Ok(v)) => v,
            Some(Err(ingest::IngestError::Stopped)) => {
                return Err(tablero_core::Error::Cancelled.into())
            }
            Some(Err(e)) => return Err(tablero_core::Error::from(e).into()),
            None => {
                return Err(Error::Refused(format!(
                    "validating {} stopped unexpectedly; nothing was stored",
                    file.display()
                )))
            }
        };
        check()?;
        let sha = sha256_hex(&bytes);
        let mut meta = BTreeMap::new();
        meta.insert(
            INGEST_META.to_string(),
            serde_json::to_string(&spec).map_err(|e| Error::Refused(e.to_string()))?,
        );
        meta.insert("sha256".into(), sha.clone());
        meta.insert("rows".into(), parsed.rows_read.to_string());
        meta.insert("uploaded_by".into(), self.actor.clone());
        meta.insert(
            "source_name".into(),
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string(),
        );
        check()?;
        if exists {
            self.store.trash(Bucket::Raw, &key)?;
        }
        let object = self.store.put(Bucket::Raw, &key, &bytes, &meta, progress)?;
        self.audit(
            "upload",
            &format!("raw/{key}"),
            exists.then_some("replaced (previous version in trash)"),
            Some(&format!(
                "{} bytes, {} rows, sha256 {sha}",
                bytes.len(),
                parsed.rows_read
            )),
        )?;
        Ok(Upload {
            object,
            ingest: spec,
            rows: parsed.rows_read,
            unparseable: parsed.unparseable,
            unparseable_examples: parsed.unparseable_examples,
            sha256: sha,
        })
    }

    /// One page of a bucket listing.
    pub fn list(
        &self,
        bucket: Bucket,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<Page> {
        self.store.list(bucket, prefix, token, limit)
    }

    /// First rows, schema and stats of an object (CSV: reads only the head).
    pub fn preview(&self, bucket: Bucket, key: &str, rows: usize) -> Result<Preview> {
        let key = ObjectKey::new(key)?;
        let info = self.store.head(bucket, &key)?;
        let head = self.store.read_range(bucket, &key, 0, 4)?;
        if head == b"PAR1" {
            let bytes = self.store.read(bucket, &key)?;
            return Ok(preview::preview_parquet(&bytes, rows)?);
        }
        let spec = self.spec_of(&info)?;
        let mut len = PREVIEW_BYTES;
        loop {
            let bytes = self.store.read_range(bucket, &key, 0, len)?;
            let whole = bytes.len() as u64 >= info.size;
            let p = preview::preview_csv(&bytes, &spec, rows)?;
            if whole || p.rows.len() >= rows {
                return Ok(p);
            }
            len *= 4;
        }
    }

    fn spec_of(&self, info: &ObjectInfo) -> Result<IngestSpec> {
        let json = info.metadata.get(INGEST_META).ok_or_else(|| {
            Error::Refused(format!(
                "{}/{} has no stored column mapping; upload CSVs with `tablero data upload`",
                info.bucket, info.key
            ))
        })?;
        serde_json::from_str(json).map_err(|e| {
            Error::Refused(format!(
                "{}/{}: stored mapping is unreadable: {e}",
                info.bucket, info.key
            ))
        })
    }

    /// Copies an object to a file, converting between CSV and Parquet.
    pub fn export(
        &self,
        bucket: Bucket,
        key: &str,
        out: &Path,
        format: Option<FileFormat>,
        overwrite: bool,
    ) -> Result<Export> {
        let key = ObjectKey::new(key)?;
        let info = self.store.head(bucket, &key)?;
        if out.exists() && !overwrite {
            return Err(Error::Refused(format!(
                "{} already exists; pass --force to overwrite it",
                out.display()
            )));
        }
        let bytes = self.store.read(bucket, &key)?;
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
                let spec = self.spec_of(&info)?;
                let (header, rows) =
                    ingest::head(&bytes, &spec, usize::MAX).map_err(tablero_core::Error::from)?;
                let mut df = text_table(&header, &rows)?;
                let meta = tablero_core::table::TableMeta {
                    kind: "raw".into(),
                    preset: Preset::Standard,
                    schema_version: 1,
                    absent: Vec::new(),
                    roles: None,
                };
                table::to_parquet(&mut df, &meta)?
            }
        };
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let staging = parent.join(format!(
            ".{}.tablero-part",
            out.file_name().and_then(|n| n.to_str()).unwrap_or("export")
        ));
        write_atomic(&staging, out, &data, &|_, _| {})?;
        Ok(Export {
            path: out.to_path_buf(),
            format,
            bytes: data.len() as u64,
        })
    }

    /// Deleted objects in the workspace trash, newest first.
    pub fn trash(&self) -> Result<Vec<TrashEntry>> {
        Ok(self
            .store
            .trashed()?
            .into_iter()
            .map(|(bucket, stamp, key, size)| TrashEntry {
                id: format!("{bucket}/{stamp}/{key}"),
                path: self
                    .root
                    .join("trash")
                    .join(bucket.name())
                    .join(&stamp)
                    .join(&key),
                deleted_at: stamp_time(&stamp),
                bucket,
                key,
                size,
            })
            .collect())
    }

    /// Puts a trashed object (`TrashEntry::id`) back where it was, with its
    /// metadata. Refused when another object has that key now.
    pub fn restore(&self, id: &str) -> Result<ObjectInfo> {
        self.require(Role::Analyst, "restore data")?;
        let mut parts = id.splitn(3, '/');
        let (Some(bucket), Some(stamp), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Refused(format!(
                "{id:?} is not a trash id (<bucket>/<time>/<key>); list them with `tablero data trash`"
            )));
        };
        let bucket: Bucket = bucket.parse()?;
        let key = ObjectKey::new(key)?;
        self.store.untrash(bucket, stamp, &key)?;
        let info = self.store.head(bucket, &key)?;
        self.audit(
            "restore",
            &format!("{bucket}/{key}"),
            Some(&format!("trash/{id}")),
            Some(&format!("{} bytes", info.size)),
        )?;
        Ok(info)
    }

    /// Moves an object to the workspace trash (`trash/<bucket>/<time>/<key>`).
    pub fn delete(&self, bucket: Bucket, key: &str) -> Result<TrashEntry> {
        self.require(Role::Analyst, "delete data")?;
        let key = ObjectKey::new(key)?;
        let info = self.store.head(bucket, &key)?;
        let dest = self.store.trash(bucket, &key)?;
        self.audit(
            "delete",
            &format!("{bucket}/{key}"),
            Some(&format!("{} bytes", info.size)),
            Some(&format!("moved to {}", dest.display())),
        )?;
        let stamp = dest
            .strip_prefix(self.root.join("trash").join(bucket.name()))
            .ok()
            .and_then(|rel| rel.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(TrashEntry {
            id: format!("{bucket}/{stamp}/{key}"),
            bucket,
            key: key.to_string(),
            deleted_at: stamp_time(&stamp),
            size: info.size,
            path: dest,
        })
    }

    fn log(&self, id: &str, level: &str, message: &str) {
        // A log line that cannot be written must not fail the job.
        let _ = self.db.log(id, level, message);
    }

    fn execute(
        &self,
        job: &Job,
        progress: &dyn Progress,
    ) -> Result<(ObjectRef, serde_json::Value)> {
        let request: JobRequest = serde_json::from_value(job.params.clone()).map_err(|e| {
            Error::Refused(format!("job {} has unreadable parameters: {e}", job.id))
        })?;
        match request {
            JobRequest::Train {
                features_key,
                group,
                config,
            } => self.execute_train(job, &features_key, &group, &config, progress),
            JobRequest::Clean {
                raw_key,
                preset,
                out_key,
            } => {
                let key = ObjectKey::new(&raw_key)?;
                progress.update(0.02, "reading raw object")?;
                let info = self.store.head(Bucket::Raw, &key)?;
                let spec = self.spec_of(&info)?;
                let bytes = self.store.read(Bucket::Raw, &key)?;
                progress.update(0.1, "parsing CSV")?;
                let parsed = ingest::parse(&bytes, &spec).map_err(tablero_core::Error::from)?;
                drop(bytes);
                self.log(
                    &job.id,
                    "info",
                    &format!("read {} rows from raw/{raw_key}", parsed.rows_read),
                );
                let (mut df, meta, report) = clean::clean(parsed, &spec, preset, progress)?;
                for r in &report.rules {
                    self.log(
                        &job.id,
                        "info",
                        &format!("rule {}: removed {} rows", r.rule, r.removed),
                    );
                }
                let out = match out_key {
                    Some(k) => ObjectKey::new(&k)?,
                    None => ObjectKey::new(&default_clean_key(&key, preset))?,
                };
                let report =
                    serde_json::to_value(&report).map_err(|e| Error::Refused(e.to_string()))?;
                self.commit(&mut df, &meta, &out, &report, progress)?;
                Ok((
                    ObjectRef {
                        bucket: Bucket::Clean,
                        key: out.to_string(),
                    },
                    report,
                ))
            }
            JobRequest::Features {
                clean_key,
                preset,
                cutoff,
                horizon_days,
                out_key,
            } => {
                let key = ObjectKey::new(&clean_key)?;
                progress.update(0.02, "reading clean table")?;
                let bytes = self.store.read(Bucket::Clean, &key)?;
                if !bytes.starts_with(b"PAR1") {
                    return Err(Error::Refused(format!(
                        "clean/{clean_key} is not a Parquet table; give the key of a clean transactions table"
                    )));
                }
                let meta = table::parquet_meta(&bytes)?;
                let df = table::from_parquet(&bytes)?;
                drop(bytes);
                let params = FeatureParams {
                    preset,
                    cutoff,
                    horizon_days,
                };
                let (mut out_df, out_meta, report) =
                    features::features(&df, meta.as_ref(), params, progress)?;
                self.log(
                    &job.id,
                    "info",
                    &format!(
                        "{} customers, {} positives, cut-off {}",
                        report.customers, report.positives, report.cutoff
                    ),
                );
                let out = match out_key {
                    Some(k) => ObjectKey::new(&k)?,
                    None => ObjectKey::new(&default_features_key(&key, preset))?,
                };
                let report =
                    serde_json::to_value(&report).map_err(|e| Error::Refused(e.to_string()))?;
                self.commit(&mut out_df, &out_meta, &out, &report, progress)?;
                Ok((
                    ObjectRef {
                        bucket: Bucket::Clean,
                        key: out.to_string(),
                    },
                    report,
                ))
            }
        }
    }

    fn execute_train(
        &self,
        job: &Job,
        features_key: &str,
        group: &str,
        config: &TrainConfig,
        progress: &dyn Progress,
    ) -> Result<(ObjectRef, serde_json::Value)> {
        let key = ObjectKey::new(features_key)?;
        progress.update(0.005, "reading features table")?;
        let bytes = self.store.read(Bucket::Clean, &key)?;
        let meta = if bytes.starts_with(b"PAR1") {
            table::parquet_meta(&bytes)?
        } else {
            None
        };
        let Some(meta) = meta.filter(|m| m.kind == "features") else {
            return Err(Error::Refused(format!(
                "clean/{features_key} is not a features table; give the key written by `tablero etl features`"
            )));
        };
        let sha = sha256_hex(&bytes);
        let df = table::from_parquet(&bytes)?;
        drop(bytes);
        let result = train::train(&df, Some(&meta), config, progress)?;
        for e in &result.evaluation.leaderboard {
            self.log(
                &job.id,
                "info",
                &format!(
                    "{:<20} accuracy {:.4} auc {:.4} f1 {:.4}",
                    e.name, e.accuracy.mean, e.auc.mean, e.f1.mean
                ),
            );
        }
        for l in &result.evaluation.leakage {
            self.log(
                &job.id,
                "warn",
                &format!(
                    "possible target leakage: {} has univariate AUC {:.4}",
                    l.feature, l.auc
                ),
            );
        }
        let roles = meta
            .roles
            .clone()
            .ok_or_else(|| Error::Refused("the features table has no column roles".into()))?;
        let card = ModelCard {
            group: group.to_string(),
            version: 0,
            trained_by: self.actor.clone(),
            trained_at: crate::db::now(),
            dataset: DatasetRef {
                uri: format!("tablero://clean/{features_key}"),
                sha256: sha,
                preset: meta.preset.name().into(),
                target: roles.target.clone(),
                horizon_days: roles.horizon_days,
                cutoff: roles.cutoff.clone(),
            },
            params: config.clone(),
            feature_schema: result.model.encoder.features.clone(),
            evaluation: result.evaluation.clone(),
            threshold: result.model.threshold,
            unknown_categories: "encoded as all zeros and counted as a warning".into(),
            baseline: result.model.baseline.clone(),
        };
        let artifact = ModelArtifact::new(result.model).to_bytes()?;
        // Last chance to stop: after this the version exists.
        progress.update(0.98, "registering")?;
        let version = self.register(group, card, &artifact)?;
        self.log(
            &job.id,
            "info",
            &format!(
                "registered {group} version {} (PendingManualApproval)",
                version.version
            ),
        );
        let report = serde_json::json!({
            "version": version.version,
            "group": group,
            "status": version.status.name(),
            "winner": result.evaluation.winner,
            "leaderboard": result.evaluation.leaderboard,
            "holdout": result.evaluation.holdout,
            "leakage": result.evaluation.leakage,
            "confusion": result.evaluation.confusion,
            "importance": result.evaluation.importance,
            "rows": {"train": result.evaluation.rows.0, "test": result.evaluation.rows.1},
            "positives": {"train": result.positives.0, "test": result.positives.1},
            "artifact": version.artifact,
            "card": version.card,
        });
        Ok((version.artifact.clone(), report))
    }

    /// Writes a stage's table and its report (`<key stem>.report.json`).
    fn commit(
        &self,
        df: &mut polars_frame::DataFrame,
        meta: &table::TableMeta,
        out: &ObjectKey,
        report: &serde_json::Value,
        progress: &dyn Progress,
    ) -> Result<()> {
        progress.update(0.96, "writing output")?;
        let bytes = table::to_parquet(df, meta)?;
        let report_key = ObjectKey::new(&format!("{}.report.json", out.stem()))?;
        let report_bytes =
            serde_json::to_vec_pretty(report).map_err(|e| Error::Refused(e.to_string()))?;
        // Last chance to stop before anything becomes visible.
        progress.update(0.98, "committing")?;
        let meta_map = BTreeMap::from([("produced_by".to_string(), self.actor.clone())]);
        self.store.put(
            Bucket::Clean,
            &report_key,
            &report_bytes,
            &meta_map,
            &|_, _| {},
        )?;
        self.store
            .put(Bucket::Clean, out, &bytes, &meta_map, &|_, _| {})?;
        Ok(())
    }
}

/// Re-export of the DataFrame type used at the seam with the core.
mod polars_frame {
    pub use tablero_core::table::DataFrame;
}

fn text_table(header: &[String], rows: &[Vec<String>]) -> Result<polars_frame::DataFrame> {
    Ok(tablero_core::table::text_table(header, rows)?)
}

/// Default clean output key: `<raw stem>/transactions[.parity].parquet`.
pub fn default_clean_key(raw: &ObjectKey, preset: Preset) -> String {
    match preset {
        Preset::Standard => format!("{}/transactions.parquet", raw.stem()),
        Preset::Parity => format!("{}/transactions.parity.parquet", raw.stem()),
    }
}

/// Default features output key: beside the clean table,
/// `<folder>/features[.parity].parquet`.
pub fn default_features_key(clean: &ObjectKey, preset: Preset) -> String {
    let name = match preset {
        Preset::Standard => "features.parquet",
        Preset::Parity => "features.parity.parquet",
    };
    match clean.parent() {
        "" => format!("{}.{name}", clean.stem()),
        dir => format!("{dir}/{name}"),
    }
}

/// Progress of a running job: recorded in the database (throttled) and
/// passed to the observer; cancellation is read from the database.
struct JobProgress<'a> {
    ws: &'a Workspace,
    id: &'a str,
    observe: &'a dyn Fn(&Job),
    last: RefCell<(f64, String)>,
}

impl Progress for JobProgress<'_> {
    fn update(&self, fraction: f64, phase: &str) -> tablero_core::Result<()> {
        let changed = {
            let last = self.last.borrow();
            fraction - last.0 >= 0.01 || last.1 != phase
        };
        if !changed {
            return Ok(());
        }
        *self.last.borrow_mut() = (fraction, phase.to_string());
        let cancel = self
            .ws
            .db
            .progress(self.id, fraction, phase)
            .unwrap_or(false);
        if let Ok(job) = self.ws.db.job(self.id) {
            (self.observe)(&job);
        }
        if cancel {
            Err(tablero_core::Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

impl JobRunner for Workspace {
    type Error = Error;

    fn submit(&self, request: JobRequest) -> Result<Job> {
        match &request {
            JobRequest::Train { group, .. } => {
                self.require_any(&[Role::Analyst, Role::MlLead], "train models")?;
                crate::registry::check_group(group)?;
            }
            _ => self.require(Role::Analyst, "run ETL jobs")?,
        }
        let (kind, input) = match &request {
            JobRequest::Clean { raw_key, .. } => (
                JobKind::Clean,
                ObjectRef {
                    bucket: Bucket::Raw,
                    key: raw_key.clone(),
                },
            ),
            JobRequest::Features { clean_key, .. } => (
                JobKind::Features,
                ObjectRef {
                    bucket: Bucket::Clean,
                    key: clean_key.clone(),
                },
            ),
            JobRequest::Train { features_key, .. } => (
                JobKind::Train,
                ObjectRef {
                    bucket: Bucket::Clean,
                    key: features_key.clone(),
                },
            ),
        };
        // Refuse a missing input now rather than queue a job bound to fail.
        self.store
            .head(input.bucket, &ObjectKey::new(&input.key)?)?;
        let params = serde_json::to_value(&request).map_err(|e| Error::Refused(e.to_string()))?;
        let id = self.db.insert_job(kind, &self.actor, &input, &params)?;
        self.audit(
            "job.submit",
            &id,
            None,
            Some(&format!("{} {}/{}", kind.name(), input.bucket, input.key)),
        )?;
        self.db.job(&id)
    }

    fn run(&self, id: &str, observe: &dyn Fn(&Job)) -> Result<Job> {
        if !self.db.start_job(id)? {
            let job = self.db.job(id)?;
            return Err(Error::Refused(format!(
                "job {id} is {}, not queued",
                job.status.name()
            )));
        }
        let job = self.db.job(id)?;
        observe(&job);
        self.log(id, "info", &format!("started by {}", self.actor));
        let progress = JobProgress {
            ws: self,
            id,
            observe,
            last: RefCell::new((-1.0, String::new())),
        };
        match self.execute(&job, &progress) {
            Ok((output, report)) => {
                self.db
                    .finish_job(id, JobStatus::Succeeded, Some(&output), Some(&report), None)?;
                self.log(
                    id,
                    "info",
                    &format!("wrote {}/{}", output.bucket, output.key),
                );
            }
            Err(Error::Core(tablero_core::Error::Cancelled)) => {
                self.db.finish_job(
                    id,
                    JobStatus::Cancelled,
                    None,
                    None,
                    Some("cancelled; no output was written"),
                )?;
                self.log(id, "warn", "cancelled; no output was written");
            }
            Err(e) => {
                let msg = e.to_string();
                self.db
                    .finish_job(id, JobStatus::Failed, None, None, Some(&msg))?;
                self.log(id, "error", &msg);
            }
        }
        let job = self.db.job(id)?;
        observe(&job);
        Ok(job)
    }

    fn job(&self, id: &str) -> Result<Job> {
        self.db.job(id)
    }

    fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        self.db.jobs(limit)
    }

    fn logs(&self, id: &str) -> Result<Vec<LogLine>> {
        self.db.logs(id)
    }

    fn cancel(&self, id: &str) -> Result<Job> {
        let before = self.db.job(id)?;
        if before.status.is_final() {
            return Err(Error::Refused(format!(
                "job {id} has already ended ({})",
                before.status.name()
            )));
        }
        let after = self.db.request_cancel(id)?;
        self.audit(
            "job.cancel",
            id,
            Some(before.status.name()),
            Some(after.name()),
        )?;
        self.db.job(id)
    }
}

/// How a local CSV would be read, from its head (see
/// [`Workspace::inspect_file`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileInspection {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Encoding, delimiter, date format, columns and mapping, when the head
    /// reads as a transactions CSV.
    pub ingest: Option<tablero_core::ingest::IngestSpec>,
    /// The header's columns (also when the mapping is incomplete).
    pub columns: Vec<String>,
    /// Data rows read from the head.
    pub rows_sampled: u64,
    /// Whether the head was the whole file.
    pub whole_file: bool,
    /// What would refuse the upload, as far as the head shows.
    pub problems: Vec<String>,
}
