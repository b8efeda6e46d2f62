//! API keys for the endpoint and the local deployer: which approved model
//! version the local endpoint serves, promotion, rollback and history.

use rusqlite::{params, OptionalExtension};
use tablero_core::ports::{
    self, key_hash, ApiKey, ApiKeys, BackendError, Deployer, Deployment, EndpointOptions,
    EndpointStatus, EndpointStopped, Rollout, RolloutPhase,
};
use tablero_core::registry::{ApprovalStatus, ModelVersion};

use crate::config::Role;
use crate::db::{insert_audit, now};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// The local endpoint's name in deployments and metrics.
pub const LOCAL_ENDPOINT: &str = "local";

/// Default per-key rate limit, requests per second.
pub use tablero_core::ports::DEFAULT_RATE;

fn deployment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Deployment> {
    Ok(Deployment {
        seq: r.get(0)?,
        endpoint: r.get(1)?,
        group: r.get(2)?,
        version: r.get(3)?,
        from_version: r.get(4)?,
        action: r.get(5)?,
        actor: r.get(6)?,
        at: r.get(7)?,
    })
}

const DEPLOY_SELECT: &str =
    "SELECT seq, endpoint, group_name, version, from_version, action, actor, at FROM deployments";

impl Workspace {
    /// Creates an API key (ops); returns the key, shown once. Only its
    /// SHA-256 is stored.
    fn new_key(&self, name: &str, rate: f64) -> Result<String> {
        self.require_role(Role::Ops, "create API keys")?;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::Refused(format!(
                "key name {name:?}: use 1 to 64 letters, digits, '-' or '_'"
            )));
        }
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(Error::Refused(
                "--rate must be a positive number of requests per second".into(),
            ));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Refused(format!("no randomness available: {e}")))?;
        let key = format!(
            "tbk_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let hash = key_hash(&key);
        self.db().immediate(|conn| {
            let exists: Option<String> =
                conn.query_row("SELECT name FROM api_keys WHERE name = ?1", [name], |r| r.get(0)).optional()?;
            if exists.is_some() {
                return Err(Error::Refused(format!("a key named {name} exists; revoke it or choose another name")));
            }
            conn.execute(
                "INSERT INTO api_keys (name, sha256, rate, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, hash, rate, self.actor(), now()],
            )?;
            insert_audit(conn, &self.actor(), self.os_user(), "key.create", name, None, Some(&format!("{rate} req/s")), None)
        })?;
        Ok(key)
    }

    /// All keys, revoked ones included.
    fn all_keys(&self) -> Result<Vec<ApiKey>> {
        let conn = self.db().conn()?;
        let mut st = conn.prepare("SELECT name, sha256, rate, created_by, created_at, revoked_at FROM api_keys ORDER BY name")?;
        let rows = st.query_map([], |r| {
            Ok(ApiKey {
                name: r.get(0)?,
                sha256: r.get(1)?,
                rate: r.get(2)?,
                created_by: r.get(3)?,
                created_at: r.get(4)?,
                revoked_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes a key (ops); the endpoint refuses it within a second.
    fn revoke(&self, name: &str) -> Result<()> {
        self.require_role(Role::Ops, "revoke API keys")?;
        self.db().immediate(|conn| {
            let n = conn.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now()],
            )?;
            if n == 0 {
                return Err(Error::Refused(format!(
                    "no active key named {name} (list with `tablero keys ls`)"
                )));
            }
            insert_audit(
                conn,
                &self.actor(),
                self.os_user(),
                "key.revoke",
                name,
                Some("active"),
                Some("revoked"),
                None,
            )
        })
    }

    /// Deployment history of the local endpoint, newest first.
    pub(crate) fn history(&self) -> Result<Vec<Deployment>> {
        let conn = self.db().conn()?;
        let mut st = conn.prepare(&format!(
            "{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC"
        ))?;
        let rows = st.query_map([LOCAL_ENDPOINT], deployment_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The version the local endpoint should serve (the latest deployment).
    pub(crate) fn current_deployment(&self) -> Result<Option<Deployment>> {
        Ok(self
            .db()
            .conn()?
            .query_row(
                &format!("{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1"),
                [LOCAL_ENDPOINT],
                deployment_from_row,
            )
            .optional()?)
    }

    /// Promotes an Approved version to the local endpoint (ops).
    fn promote_version(&self, group: &str, version: u32) -> Result<Deployment> {
        let v = self.find_version(group, version)?;
        if let Some(refusal) = self.refusal_of_promotion(&v) {
            return Err(refusal);
        }
        self.record_deployment(group, version, "promote")
    }

    /// Why the acting user may not promote this version now, or `None`.
    fn refusal_of_promotion(&self, v: &ModelVersion) -> Option<Error> {
        if let Err(e) = self.require_role(Role::Ops, "promote models") {
            return Some(e);
        }
        if v.status != ApprovalStatus::Approved {
            return Some(Error::Refused(format!(
                "only Approved versions can be promoted; {} version {} is {}",
                v.group,
                v.version,
                v.status.name()
            )));
        }
        match self.current_deployment() {
            Ok(Some(d)) if d.group == v.group && d.version == v.version => Some(Error::Refused(
                format!("{} version {} is already deployed", v.group, v.version),
            )),
            Ok(_) => None,
            Err(e) => Some(e),
        }
    }

    /// The deployment to leave and the version to return to.
    fn rollback_target(&self) -> Result<(Deployment, u32)> {
        self.require_role(Role::Ops, "roll back the endpoint")?;
        let current = self
            .current_deployment()?
            .ok_or_else(|| Error::Refused("nothing is deployed; promote a version first".into()))?;
        let previous = current.from_version.ok_or_else(|| {
            Error::Refused(format!(
                "{} version {} is the first deployment; there is nothing to roll back to",
                current.group, current.version
            ))
        })?;
        Ok((current, previous))
    }

    /// Returns to the version deployed before the current one (ops) — the
    /// previous deployment, not version N−1.
    fn rollback_deployment(&self) -> Result<Deployment> {
        let (current, previous) = self.rollback_target()?;
        self.record_deployment(&current.group, previous, "rollback")
    }

    fn record_deployment(&self, group: &str, version: u32, action: &str) -> Result<Deployment> {
        let actor = self.actor();
        self.db().immediate(|conn| {
            let current: Option<(String, u32)> = conn
                .query_row(
                    "SELECT group_name, version FROM deployments WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1",
                    [LOCAL_ENDPOINT],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let from = current.as_ref().filter(|(g, _)| g == group).map(|(_, v)| *v);
            if from == Some(version) && action == "promote" {
                return Err(Error::Refused(format!("{group} version {version} is already deployed")));
            }
            conn.execute(
                "INSERT INTO deployments (endpoint, group_name, version, from_version, action, actor, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![LOCAL_ENDPOINT, group, version, from, action, actor, now()],
            )?;
            let before = current.map(|(g, v)| format!("{g}/v{v}"));
            insert_audit(
                conn,
                &actor,
                self.os_user(),
                &format!("deploy.{action}"),
                LOCAL_ENDPOINT,
                before.as_deref(),
                Some(&format!("{group}/v{version}")),
                None,
            )?;
            conn.query_row(
                &format!("{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1"),
                [LOCAL_ENDPOINT],
                deployment_from_row,
            )
            .map_err(Error::from)
        })
    }
}

/// The rollout of a recorded deployment: the running endpoint, if any, is
/// asked to load it.
fn roll_out(
    ws: &Workspace,
    deployment: Deployment,
    progress: &dyn Fn(&Rollout),
) -> Result<Rollout> {
    let recorded = Rollout {
        deployment,
        phase: RolloutPhase::Recorded,
        serving: None,
    };
    progress(&recorded);
    let done = match crate::endpoint::notify(ws.root())? {
        Some(serving) => Rollout {
            phase: RolloutPhase::Completed,
            serving,
            ..recorded
        },
        None => Rollout {
            phase: RolloutPhase::NotRunning,
            ..recorded
        },
    };
    progress(&done);
    Ok(done)
}

impl Deployer for Workspace {
    fn deployed(&self) -> ports::Result<Option<Deployment>> {
        Ok(self.current_deployment()?)
    }

    fn deployments(&self) -> ports::Result<Vec<Deployment>> {
        Ok(self.history()?)
    }

    fn promotion_refusal(&self, v: &ModelVersion) -> Option<BackendError> {
        self.refusal_of_promotion(v).map(BackendError::from)
    }

    fn rollback_refusal(&self) -> Option<BackendError> {
        self.rollback_target().err().map(BackendError::from)
    }

    fn promote(
        &self,
        group: &str,
        version: u32,
        progress: &dyn Fn(&Rollout),
    ) -> ports::Result<Rollout> {
        let d = self.promote_version(group, version)?;
        Ok(roll_out(self, d, progress)?)
    }

    fn rollback(&self, progress: &dyn Fn(&Rollout)) -> ports::Result<Rollout> {
        let d = self.rollback_deployment()?;
        Ok(roll_out(self, d, progress)?)
    }

    fn start_endpoint(&self, options: &EndpointOptions) -> ports::Result<EndpointStatus> {
        Ok(self.start(options)?)
    }

    fn stop_endpoint(&self) -> ports::Result<EndpointStopped> {
        Ok(self.stop()?)
    }

    fn endpoint_status(&self) -> ports::Result<EndpointStatus> {
        Ok(self.status()?)
    }
}

impl ApiKeys for Workspace {
    fn create_key(&self, name: &str, rate: f64) -> ports::Result<String> {
        Ok(self.new_key(name, rate)?)
    }

    fn api_keys(&self) -> ports::Result<Vec<ApiKey>> {
        Ok(self.all_keys()?)
    }

    fn revoke_key(&self, name: &str) -> ports::Result<()> {
        Ok(self.revoke(name)?)
    }
}
