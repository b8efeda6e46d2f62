//! The local workspace: one folder with the config, the database and the
//! buckets. [`Workspace`] is the local backend: it implements every port
//! ([`Workspace::into_backend`] hands them out), shared by all the threads
//! of a process.

mod identity;
mod jobs;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use tablero_core::ports::{
    Audit, AuditEvent, Backend, BackendKind, Identity, ObjectStore, Registry,
};

use crate::config::Config;
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
    remote: Option<Remote>,
    /// A clean job's hand-over to the features job after it (`etl run`).
    carry: tablero_core::stages::Carry,
}

/// The ports another backend brings to a workspace that keeps only its
/// jobs, deployments and metrics here (the AWS backend until jobs and the
/// endpoint move to AWS): the workspace's jobs read and write this store,
/// register in this registry, audit to this trail and act as this
/// identity.
#[derive(Clone)]
pub struct Remote {
    /// The buckets.
    pub store: Arc<dyn ObjectStore>,
    /// The model registry.
    pub registry: Arc<dyn Registry>,
    /// The audit trail.
    pub audit: Arc<dyn Audit>,
    /// Who acts.
    pub identity: Arc<dyn Identity>,
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
        store.sweep_staging();
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
            remote: None,
            carry: Default::default(),
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

    /// Runs this workspace's jobs, deployments and endpoint against
    /// another backend's store, registry, audit trail and identity.
    pub fn with_remote(mut self, remote: Remote) -> Workspace {
        self.remote = Some(remote);
        self
    }

    /// The store jobs read and write: the remote one, else the folders.
    pub fn object_store(&self) -> &dyn ObjectStore {
        match &self.remote {
            Some(r) => r.store.as_ref(),
            None => &self.store,
        }
    }

    /// The registry jobs register in: the remote one, else this workspace.
    pub fn registry_port(&self) -> &dyn Registry {
        match &self.remote {
            Some(r) => r.registry.as_ref(),
            None => self,
        }
    }

    pub(crate) fn remote(&self) -> Option<&Remote> {
        self.remote.as_ref()
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
        if let Some(r) = &self.remote {
            return r.identity.actor();
        }
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

    /// The OS user running this process.
    pub fn os_user(&self) -> &str {
        &self.os_user
    }
}
