//! The workspace's `tablero.toml`: users and roles, policy, limits.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use tablero_core::monitor::AlarmRules as Alarms;
pub use tablero_core::ports::{Limits, Policy, Role};

/// Which backend the workspace runs on (`[backend]`; a file without the
/// section means local).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendSection {
    /// `local`.
    pub kind: String,
}

impl Default for BackendSection {
    fn default() -> Self {
        BackendSection {
            kind: "local".into(),
        }
    }
}

/// The parsed `tablero.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The backend.
    #[serde(default)]
    pub backend: BackendSection,
    /// User → roles.
    pub roles: BTreeMap<String, Vec<Role>>,
    /// Policy.
    pub policy: Policy,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// Alarm rules on the endpoint's metrics.
    #[serde(default)]
    pub alarms: Alarms,
    /// Every other table (`[aws]`, …), kept as written when this file is
    /// rewritten.
    #[serde(default, flatten)]
    pub other: toml::Table,
}

impl Config {
    /// The config `init` writes: `user` with all three roles.
    pub fn initial(user: &str) -> Config {
        let mut roles = BTreeMap::new();
        roles.insert(
            user.to_string(),
            vec![Role::Analyst, Role::MlLead, Role::Ops],
        );
        Config {
            backend: BackendSection::default(),
            roles,
            policy: Policy {
                four_eyes: true,
                allow_as: false,
            },
            limits: Limits::default(),
            alarms: Alarms::default(),
            other: toml::Table::new(),
        }
    }

    /// Reads and validates the file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The file's text, with comments that explain it.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Tablero workspace settings.\n\
             # [roles]: user = [\"analyst\", \"ml_lead\", \"ops\"] — a user may hold several.\n\
             # analyst: upload, delete, ETL; ml_lead: train, approve, reject; ops: promote, rollback, endpoint.\n\
             # [policy] four_eyes: the user who trained a version cannot approve it.\n\
             # [policy] allow_as: whether the global flag --as USER may act as another configured user.\n\
             # [backend] kind: where the pipeline runs (local: this machine; aws: the [aws] table, docs/aws.md).\n\
             # [limits] max_upload_bytes: the largest CSV an upload takes (0: no limit).\n\
             # [limits] memory_mb: memory a job may use, in MiB (0: half of this machine's RAM); a stage that needs more is refused before it starts.\n\n{body}"
        )
    }

    /// Whether `user` holds `role`.
    pub fn has_role(&self, user: &str, role: Role) -> bool {
        self.roles.get(user).is_some_and(|r| r.contains(&role))
    }
}

/// The `[backend] kind` of the workspace at `root`, when its `tablero.toml`
/// names one; `None` without a workspace or without the section.
pub fn backend_kind(root: &Path) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Only {
        backend: Option<BackendSection>,
    }
    let path = root.join(crate::workspace::CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io { path, source: e }),
    };
    let only: Only = toml::from_str(&text).map_err(|e| Error::Config {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(only.backend.map(|b| b.kind))
}

/// Sets `[backend] kind` in the `tablero.toml` at `root`, keeping every
/// other table as written.
pub fn set_backend_kind(
    root: &Path,
    kind: &str,
) -> std::result::Result<(), tablero_core::ports::BackendError> {
    let path = root.join(crate::workspace::CONFIG_FILE);
    let refused =
        |m: String| tablero_core::ports::BackendError::refused(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| refused(e.to_string()))?;
    let mut doc: toml::Table = toml::from_str(&text).map_err(|e| refused(e.to_string()))?;
    let mut backend = toml::Table::new();
    backend.insert("kind".into(), toml::Value::String(kind.to_string()));
    doc.insert("backend".into(), toml::Value::Table(backend));
    let out = toml::to_string(&doc).map_err(|e| refused(e.to_string()))?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, out)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| refused(e.to_string()))
}
