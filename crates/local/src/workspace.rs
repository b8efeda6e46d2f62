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

use tablero_core::job::{Job, JobKind, JobRequest, JobStatus, LogLine, ObjectRef, Progress};
use tablero_core::ports::{
    Action, AuditEvent, Backend, BackendKind, Identity, JobRunner, Limits, ObjectStore, Policy,
};
use tablero_core::stages::{self, StageContext};
use tablero_core::store::Bucket;

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
        ws.audit(&AuditEvent::new(
            "workspace.init",
            root.display().to_string(),
        ))?;
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

    /// Turns the four-eyes rule on or off (audited).
    pub fn set_four_eyes(&self, on: bool) -> Result<()> {
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
            &AuditEvent::new("policy.four_eyes", "tablero.toml")
                .before(if before { "on" } else { "off" })
                .after(if on { "on" } else { "off" }),
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
                self.audit(
                    &AuditEvent::new("policy.edited", "tablero.toml")
                        .before(before.as_str())
                        .after(now.as_str()),
                )?;
                self.db.set_setting("policy", &now)
            }
            Some(_) => Ok(()),
            None => self.db.set_setting("policy", &now),
        }
    }

    /// Appends `event` to the audit log for the acting user.
    pub(crate) fn audit(&self, event: &AuditEvent) -> Result<()> {
        self.db.audit(&self.actor(), &self.os_user, event)
    }

    /// The OS user running this process.
    pub fn os_user(&self) -> &str {
        &self.os_user
    }

    fn log(&self, id: &str, level: &str, message: &str) {
        // A log line that cannot be written must not fail the job.
        let _ = self.db.log(id, level, message);
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
        let id = self.db.insert_job(kind, &self.actor(), &input, &request)?;
        self.audit(&AuditEvent::new("job.submit", id.as_str()).after(format!(
            "{} {}/{}",
            kind.name(),
            input.bucket,
            input.key
        )))?;
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
        let log = |level: &str, message: &str| self.log(id, level, message);
        let ctx = StageContext {
            store: &self.store,
            registry: self,
            actor: &job.actor,
            progress: &progress,
            log: &log,
        };
        match stages::run(&job.params, &ctx) {
            Ok(done) => {
                self.db.finish_job(
                    id,
                    JobStatus::Succeeded,
                    Some(&done.output),
                    Some(&done.report),
                    None,
                )?;
                self.log(
                    id,
                    "info",
                    &format!("wrote {}/{}", done.output.bucket, done.output.key),
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
            &AuditEvent::new("job.cancel", id)
                .before(before.status.name())
                .after(after.name()),
        )?;
        Ok(self.db.job(id)?)
    }
}

impl tablero_core::ports::Audit for Workspace {
    fn append_audit(
        &self,
        event: &tablero_core::ports::AuditEvent,
    ) -> tablero_core::ports::Result<()> {
        Ok(self.audit(event)?)
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

    fn authorize(&self, action: Action) -> tablero_core::ports::Result<()> {
        Ok(self.require_any(action.roles(), action.describe())?)
    }

    fn switch_user(&self, user: &str) -> tablero_core::ports::Result<()> {
        Ok(self.become_user(user)?)
    }

    fn set_four_eyes(&self, on: bool) -> tablero_core::ports::Result<()> {
        Ok(Workspace::set_four_eyes(self, on)?)
    }
}
