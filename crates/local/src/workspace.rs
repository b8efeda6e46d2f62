//! The local workspace: one folder with the config, the database and the
//! buckets. [`Workspace`] is the local backend: it implements every port
//! ([`Workspace::into_backend`] hands them out), shared by all the threads
//! of a process.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use tablero_core::clean::{self, Preset};
use tablero_core::features::{self, FeatureParams};
use tablero_core::ingest;
use tablero_core::job::{Job, JobKind, JobRequest, JobStatus, LogLine, ObjectRef, Progress};
use tablero_core::ports::{
    put_bytes, Backend, BackendKind, Identity, JobRunner, Limits, ObjectStore, Policy,
};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::table;
use tablero_core::train::model::{DatasetRef, ModelArtifact, ModelCard};
use tablero_core::train::{self, TrainConfig};

use crate::config::{Config, Role};
use crate::db::Db;
use crate::endpoint::Launcher;
use crate::error::{Error, Result};
use crate::folder::{write_atomic, FolderStore};

/// Config file name inside a workspace.
pub const CONFIG_FILE: &str = "tablero.toml";
/// Database file name inside a workspace.
pub const DB_FILE: &str = "tablero.db";

/// The config as last read, and the file's state then.
struct Loaded {
    config: Arc<Config>,
    stamp: Option<(SystemTime, u64)>,
}

/// An open workspace: the local backend, acting as one user at a time.
pub struct Workspace {
    root: PathBuf,
    loaded: RwLock<Loaded>,
    db: Db,
    store: FolderStore,
    actor: RwLock<String>,
    os_user: String,
    launcher: Option<Launcher>,
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

/// Whether `root` holds a workspace.
pub fn is_workspace(root: &Path) -> bool {
    root.join(CONFIG_FILE).is_file()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stamp_of(path: &Path) -> Option<(SystemTime, u64)> {
    let md = fs::metadata(path).ok()?;
    Some((md.modified().ok()?, md.len()))
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
            &ws.actor(),
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
        let stamp = stamp_of(&cfg);
        let config = Config::load(&cfg)?;
        let store = FolderStore::new(root);
        store.create_dirs()?;
        let db = Db::open(&root.join(DB_FILE))?;
        db.reap_orphans()?;
        let user = os_user();
        let ws = Workspace {
            root: root.to_path_buf(),
            loaded: RwLock::new(Loaded {
                config: Arc::new(config),
                stamp,
            }),
            db,
            store,
            actor: RwLock::new(user.clone()),
            os_user: user,
            launcher: None,
        };
        ws.audit_policy_edits(&ws.config())?;
        Ok(ws)
    }

    /// Acts as another configured user (`--as`), when the policy allows it.
    pub fn act_as(self, user: &str) -> Result<Workspace> {
        self.become_user(user)?;
        Ok(self)
    }

    /// Starts the endpoint, when asked to, with `launcher` (this program's
    /// way of running `tablero-serve`).
    pub fn with_launcher(mut self, launcher: Launcher) -> Workspace {
        self.launcher = Some(launcher);
        self
    }

    /// The local backend: every port, backed by this workspace.
    pub fn into_backend(self) -> Backend {
        Workspace::backend(&Arc::new(self))
    }

    /// The local backend over a shared workspace (whose own methods stay
    /// at hand, as in tests).
    pub fn backend(ws: &Arc<Workspace>) -> Backend {
        let location = ws.root.display().to_string();
        let store: Arc<dyn ObjectStore> = Arc::new(ws.store.clone());
        let ws = ws.clone();
        Backend {
            kind: BackendKind::Local,
            location,
            store,
            jobs: ws.clone(),
            registry: ws.clone(),
            deployer: ws.clone(),
            monitor: ws.clone(),
            keys: ws.clone(),
            audit: ws.clone(),
            identity: ws,
        }
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// The config, read again when the file changed since it was last
    /// read (a hand edit takes effect at once; a broken edit is ignored
    /// until fixed, keeping the last good config).
    pub fn config(&self) -> Arc<Config> {
        let path = self.config_path();
        let stamp = stamp_of(&path);
        if let Ok(loaded) = self.loaded.read() {
            if loaded.stamp == stamp {
                return loaded.config.clone();
            }
        }
        let reloaded = match Config::load(&path) {
            Ok(c) => Arc::new(c),
            Err(_) => {
                return self
                    .loaded
                    .read()
                    .map(|l| l.config.clone())
                    .unwrap_or_else(|e| e.into_inner().config.clone())
            }
        };
        if let Ok(mut loaded) = self.loaded.write() {
            *loaded = Loaded {
                config: reloaded.clone(),
                stamp,
            };
        }
        // A failure to audit a hand edit must not hide the new config.
        let _ = self.audit_policy_edits(&reloaded);
        reloaded
    }

    /// Who is acting.
    pub fn actor(&self) -> String {
        self.actor
            .read()
            .map(|a| a.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The object store.
    pub fn store(&self) -> &FolderStore {
        &self.store
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn launcher(&self) -> Option<&Launcher> {
        self.launcher.as_ref()
    }

    /// Refuses unless the actor holds `role` (the error names the role).
    pub fn require_role(&self, role: Role, action: &str) -> Result<()> {
        self.require_any(&[role], action)
    }

    fn require_any(&self, roles: &[Role], action: &str) -> Result<()> {
        let config = self.config();
        let actor = self.actor();
        if roles.iter().any(|r| config.has_role(&actor, *r)) {
            return Ok(());
        }
        Err(Error::Permission {
            actor,
            action: action.into(),
            role: roles
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(" or "),
            config: self.config_path().display().to_string(),
        })
    }

    fn require(&self, role: Role, action: &str) -> Result<()> {
        self.require_any(&[role], action)
    }

    /// Checks that the actor may become `user` and does.
    fn become_user(&self, user: &str) -> Result<()> {
        if user != self.os_user {
            let config = self.config();
            if !config.policy.allow_as {
                return Err(Error::Refused(format!(
                    "--as is off in this workspace ([policy] allow_as = false in {})",
                    self.config_path().display()
                )));
            }
            if !config.roles.contains_key(user) {
                return Err(Error::Refused(format!(
                    "{user} is not a user of this workspace (see [roles] in {})",
                    self.config_path().display()
                )));
            }
        }
        if let Ok(mut actor) = self.actor.write() {
            *actor = user.to_string();
        }
        Ok(())
    }

    /// Turns the four-eyes rule on or off (an ML lead's decision, audited).
    pub fn set_four_eyes(&self, on: bool) -> Result<()> {
        self.require(Role::MlLead, "change the four-eyes policy")?;
        let mut config = (*self.config()).clone();
        let before = config.policy.four_eyes;
        config.policy.four_eyes = on;
        let text = config.to_toml();
        write_atomic(
            &self.store.staging_path(),
            &self.config_path(),
            text.as_bytes(),
            &|_, _| {},
        )?;
        if let Ok(mut loaded) = self.loaded.write() {
            *loaded = Loaded {
                config: Arc::new(config.clone()),
                stamp: stamp_of(&self.config_path()),
            };
        }
        self.audit(
            "policy.four_eyes",
            "tablero.toml",
            Some(if before { "on" } else { "off" }),
            Some(if on { "on" } else { "off" }),
        )?;
        self.remember_policy(&config.policy)
    }

    fn remember_policy(&self, policy: &Policy) -> Result<()> {
        let p = serde_json::to_string(policy).map_err(|e| Error::Refused(e.to_string()))?;
        self.db.set_setting("policy", &p)
    }

    /// Records in the audit log a policy changed by editing tablero.toml by hand.
    fn audit_policy_edits(&self, config: &Config) -> Result<()> {
        let now =
            serde_json::to_string(&config.policy).map_err(|e| Error::Refused(e.to_string()))?;
        match self.db.setting("policy")? {
            Some(before) if before != now => {
                self.audit("policy.edited", "tablero.toml", Some(&before), Some(&now))?;
                self.db.set_setting("policy", &now)
            }
            Some(_) => Ok(()),
            None => self.db.set_setting("policy", &now),
        }
    }

    pub(crate) fn audit(
        &self,
        action: &str,
        target: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<()> {
        self.db.audit(
            &self.actor(),
            &self.os_user,
            action,
            target,
            before,
            after,
            None,
        )
    }

    /// The OS user running this process.
    pub fn os_user(&self) -> &str {
        &self.os_user
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
                let spec = ingest::stored_spec(&info)?;
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
                self.commit(&mut df, &meta, &out, &report, &job.actor, progress)?;
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
                self.commit(&mut out_df, &out_meta, &out, &report, &job.actor, progress)?;
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
            trained_by: job.actor.clone(),
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
        let version = self.register_version(group, card, &artifact)?;
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
        actor: &str,
        progress: &dyn Progress,
    ) -> Result<()> {
        progress.update(0.96, "writing output")?;
        let bytes = table::to_parquet(df, meta)?;
        let report_key = ObjectKey::new(&format!("{}.report.json", out.stem()))?;
        let report_bytes =
            serde_json::to_vec_pretty(report).map_err(|e| Error::Refused(e.to_string()))?;
        // Last chance to stop before anything becomes visible.
        progress.update(0.98, "committing")?;
        let meta_map = BTreeMap::from([("produced_by".to_string(), actor.to_string())]);
        put_bytes(
            &self.store,
            Bucket::Clean,
            &report_key,
            &report_bytes,
            &meta_map,
        )?;
        put_bytes(&self.store, Bucket::Clean, out, &bytes, &meta_map)?;
        Ok(())
    }
}

/// Re-export of the DataFrame type used at the seam with the core.
mod polars_frame {
    pub use tablero_core::table::DataFrame;
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
    fn submit(&self, request: JobRequest) -> tablero_core::ports::Result<Job> {
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
        self.store.head(
            input.bucket,
            &ObjectKey::new(&input.key).map_err(Error::from)?,
        )?;
        let params = serde_json::to_value(&request).map_err(|e| Error::Refused(e.to_string()))?;
        let id = self.db.insert_job(kind, &self.actor(), &input, &params)?;
        self.audit(
            "job.submit",
            &id,
            None,
            Some(&format!("{} {}/{}", kind.name(), input.bucket, input.key)),
        )?;
        Ok(self.db.job(&id)?)
    }

    fn run(&self, id: &str, observe: &dyn Fn(&Job)) -> tablero_core::ports::Result<Job> {
        if !self.db.start_job(id)? {
            let job = self.db.job(id)?;
            return Err(
                Error::Refused(format!("job {id} is {}, not queued", job.status.name())).into(),
            );
        }
        let job = self.db.job(id)?;
        observe(&job);
        self.log(id, "info", &format!("started by {}", job.actor));
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
            Err(e) if e.kind() == tablero_core::ports::ErrorKind::Cancelled => {
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

    fn job(&self, id: &str) -> tablero_core::ports::Result<Job> {
        Ok(self.db.job(id)?)
    }

    fn jobs(&self, limit: usize) -> tablero_core::ports::Result<Vec<Job>> {
        // Jobs of processes that died since (a CLI killed mid-job) show as failed.
        self.db.reap_orphans()?;
        Ok(self.db.jobs(limit)?)
    }

    fn logs(&self, id: &str) -> tablero_core::ports::Result<Vec<LogLine>> {
        Ok(self.db.logs(id)?)
    }

    fn cancel(&self, id: &str) -> tablero_core::ports::Result<Job> {
        let before = self.db.job(id)?;
        if before.status.is_final() {
            return Err(Error::Refused(format!(
                "job {id} has already ended ({})",
                before.status.name()
            ))
            .into());
        }
        let after = self.db.request_cancel(id)?;
        self.audit(
            "job.cancel",
            id,
            Some(before.status.name()),
            Some(after.name()),
        )?;
        Ok(self.db.job(id)?)
    }
}

impl tablero_core::ports::Audit for Workspace {
    fn append_audit(
        &self,
        event: &tablero_core::ports::AuditEvent,
    ) -> tablero_core::ports::Result<()> {
        Ok(self.db.audit(
            &self.actor(),
            &self.os_user,
            &event.action,
            &event.target,
            event.before.as_deref(),
            event.after.as_deref(),
            event.comment.as_deref(),
        )?)
    }

    fn audit_since(
        &self,
        since: &str,
    ) -> tablero_core::ports::Result<Vec<tablero_core::ports::AuditEntry>> {
        Ok(self.db.audit_since(since)?)
    }
}

impl Identity for Workspace {
    fn actor(&self) -> String {
        Workspace::actor(self)
    }

    fn os_user(&self) -> String {
        self.os_user.clone()
    }

    fn users(&self) -> BTreeMap<String, Vec<Role>> {
        self.config().roles.clone()
    }

    fn policy(&self) -> Policy {
        self.config().policy.clone()
    }

    fn limits(&self) -> Limits {
        self.config().limits.clone()
    }

    fn authorize(&self, roles: &[Role], action: &str) -> tablero_core::ports::Result<()> {
        Ok(self.require_any(roles, action)?)
    }

    fn switch_user(&self, user: &str) -> tablero_core::ports::Result<()> {
        Ok(self.become_user(user)?)
    }

    fn set_four_eyes(&self, on: bool) -> tablero_core::ports::Result<()> {
        Ok(Workspace::set_four_eyes(self, on)?)
    }
}
